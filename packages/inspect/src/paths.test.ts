// Path arguments go through core's one path walk (path-walk.ts): symlinks in the middle are
// followed, the last one only with -L (cat always follows, as cat(1) opens the file), and errors
// name the path.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "@daxfs/core";
import { testDir as dir, testFile as file, testSymlink as symlink } from "@daxfs/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-inspect-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const image = join(work, "rootfs.img");
writeFileSync(
  image,
  buildImage(
    dir({
      usr: dir({ lib: dir({ "libc.so": file("elf"), "os-release": file("ID=debian\n") }) }),
      lib: symlink("usr/lib"),
      etc: dir({ "os-release": symlink("../usr/lib/os-release"), loop: symlink("loop") }),
    }),
  ),
);

async function inspect(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main([image, ...args], {
    stdout: (text) => {
      stdout += text;
    },
    stdoutBytes: (bytes) => {
      stdout += Buffer.from(bytes).toString("utf8");
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

const statOf = async (...args: string[]) => JSON.parse((await inspect("stat", "--json", ...args)).stdout);

describe("daxfs-inspect path arguments", () => {
  it("follow symlinks in intermediate components (a merged-/usr rootfs)", async () => {
    expect((await statOf("/lib/libc.so")).ino).toBe((await statOf("/usr/lib/libc.so")).ino);
    expect((await inspect("cat", "/lib/os-release")).stdout).toBe("ID=debian\n");
    expect((await inspect("ls", "/lib/")).stdout).toContain(" libc.so\n");
    expect((await inspect("tree", "/lib/")).stdout).toContain("└── os-release\n");
  });

  it("leave the last component alone unless -L; cat follows it", async () => {
    expect((await statOf("/lib")).type).toBe("symbolic link");
    expect((await statOf("-L", "/lib")).type).toBe("directory");
    expect((await inspect("ls", "-L", "/lib")).stdout).toContain(" libc.so\n");
    expect((await inspect("ls", "/lib")).stdout).toMatch(/ lib -> usr\/lib\n$/);
    expect((await inspect("cat", "/etc/os-release")).stdout).toBe("ID=debian\n");
    expect(await inspect("cat", "-L", "/etc/os-release")).toEqual({
      code: 0,
      stdout: "ID=debian\n",
      stderr: "",
    });
  });

  it("report errors by path, exit 1", async () => {
    const cases: Array<[string[], string]> = [
      [["stat", "/etc/nope"], 'no entry "nope" in /etc'],
      [["cat", "/lib/nope"], 'no entry "nope" in /usr/lib'],
      [["stat", "/usr/lib/libc.so/x"], "/usr/lib/libc.so: not a directory"],
      [["cat", "/etc/loop"], "/etc/loop: too many levels of symbolic links"],
    ];
    for (const [args, message] of cases) {
      const result = await inspect(...args);
      expect(result.code, args.join(" ")).toBe(1);
      expect(result.stderr).toBe(`daxfs-inspect: ${image}: ${message}\n`);
    }
  });
});
