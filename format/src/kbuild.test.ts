// The generated header must build inside a kernel module translation unit (Kbuild flags, W=1),
// against the Debian 6.12 headers the module targets; its _Static_asserts run there too.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const KERNEL_HEADERS = "/usr/src/linux-headers-6.12.117+deb12-amd64";
const KERNEL_DIR = fileURLToPath(new URL("../../kernel/", import.meta.url));

it("daxfs_format.h builds in a kernel module against the 6.12 headers with W=1", () => {
  expect(existsSync(KERNEL_HEADERS), `${KERNEL_HEADERS} (apt: linux-headers-6.12.117+deb12-amd64)`).toBe(
    true,
  );
  const dir = mkdtempSync(join(tmpdir(), "daxfs-kbuild-"));
  writeFileSync(join(dir, "Kbuild"), `obj-m := fmtcheck.o\nccflags-y := -I${KERNEL_DIR} -Werror\n`);
  writeFileSync(
    join(dir, "fmtcheck.c"),
    [
      "// SPDX-License-Identifier: GPL-2.0",
      "#include <linux/module.h>",
      '#include "daxfs_format.h"',
      "static int __init fmtcheck_init(void)",
      "{",
      "\treturn sizeof(struct daxfs_super) == DAXFS_SUPER_SIZE ? 0 : -EINVAL;",
      "}",
      "module_init(fmtcheck_init);",
      'MODULE_LICENSE("GPL");',
      'MODULE_DESCRIPTION("daxfs_format.h compile check");',
      "",
    ].join("\n"),
  );
  const output = execFileSync("make", ["-C", KERNEL_HEADERS, `M=${dir}`, "W=1", "modules"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  expect(output).toMatch(/fmtcheck\.ko/);
  expect(existsSync(join(dir, "fmtcheck.ko"))).toBe(true);
});
