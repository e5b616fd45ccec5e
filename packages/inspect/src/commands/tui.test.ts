import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "@daxfs/core";
import { testDir as dir } from "@daxfs/core/testing";
import { afterAll, describe, expect, it, vi } from "vitest";
import { main } from "../main.js";
import { tuiArguments, tuiCommand } from "./tui.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-inspect-tui-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function inspect(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
    },
    stdoutBytes: () => {},
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}

describe("daxfs-inspect tui", () => {
  it("hands daxfs-tui the same target", () => {
    expect(tuiArguments({ image: "a.img" })).toEqual(["a.img"]);
    expect(tuiArguments({ image: "a.img", backing: "a.data" })).toEqual(["a.img", "--backing", "a.data"]);
    expect(tuiArguments({ mount: "/mnt/dax" })).toEqual(["-m", "/mnt/dax"]);
    expect(tuiArguments({ phys: "0x100000000", size: "1G" })).toEqual(["-p", "0x100000000", "-s", "1G"]);
  });

  // The test's standard input and output are not a terminal.
  it("fails as daxfs-inspect, in JSON under --json, before running daxfs-tui", async () => {
    const image = join(work, "t.img");
    writeFileSync(image, buildImage(dir()));
    expect(await inspect(image, "tui")).toEqual({
      code: 2,
      stdout: "",
      stderr: `daxfs-inspect: standard input/output: not a terminal; \`daxfs-inspect ${image}\` prints the same (also its branches, tree, log BRANCH, diff BRANCH and validate subcommands)\n`,
    });
    const missing = join(work, "nope.img");
    expect(await inspect(missing, "tui")).toEqual({
      code: 2,
      stdout: "",
      stderr: `daxfs-inspect: ${missing}: no such file or directory\n`,
    });
    for (const target of [image, missing]) {
      const json = await inspect(target, "tui", "--json");
      expect(json.code).toBe(2);
      expect(json.stderr).toBe("");
      expect(JSON.parse(json.stdout)).toEqual({
        error: {
          tool: "daxfs-inspect",
          code: "EUSAGE",
          message: "--json: tui is interactive and prints no JSON",
        },
      });
    }
  });

  it("says in one line that daxfs-tui cannot be run", async () => {
    const missing = join(work, "no-daxfs-tui");
    vi.stubEnv("DAXFS_TUI", missing);
    try {
      await expect(tuiCommand({ image: "a.img" })).rejects.toMatchObject({
        name: "DaxfsError",
        code: "ENOENT",
        message: `${missing}: cannot run daxfs-tui (ENOENT)`,
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
