import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "./main.js";
import { DEV_TSCONFIG } from "./spawn-fuse.js";
import { fakeEnv } from "./test-support/fake-env.js";

const FEATURE = "41 27 0:41 / /mnt/feature rw - daxfs none rw,phys=0x1000,size=8192,branch=/main/feature";

describe("daxfs-branch command line", () => {
  it("takes NAME as the argument after create, with -m/--mount and -p/--parent", async () => {
    const env = fakeEnv([FEATURE]);
    expect(await main(["create", "child", "-m", "/mnt/c", "-p", "feature"], env)).toBe(0);
    expect(await main(["create", "kid", "--mount", "/mnt/k", "--parent", "feature"], env)).toBe(0);
    expect(env.mounted.map((m) => [m.target, m.strings?.branch, m.strings?.parent])).toEqual([
      ["/mnt/c", "child", "feature"],
      ["/mnt/k", "kid", "feature"],
    ]);
  });

  it("runs list, commit and abort with their options", async () => {
    const env = fakeEnv([FEATURE]);
    expect(await main(["list"], env)).toBe(0);
    expect(await main(["list", "-m", "/mnt/feature"], env)).toBe(0);
    expect(await main(["commit", "-m", "/mnt/feature"], env)).toBe(0);
    expect(await main(["abort", "--mount", "/mnt/feature"], env)).toBe(0);
    // A NAME after commit/abort/list is accepted and ignored, as by the public tool.
    expect(await main(["commit", "feature", "-m", "/mnt/feature"], env)).toBe(0);
    expect(env.remounts).toEqual([
      ["/mnt/feature", "commit"],
      ["/mnt/feature", "abort"],
      ["/mnt/feature", "commit"],
    ]);
  });

  it("exits 1 with a short usage error for an unknown command or option, the usage for no command", async () => {
    const env = fakeEnv([]);
    expect(await main(["frobnicate"], env)).toBe(1);
    expect(env.stderr).toEqual(["daxfs-branch: frobnicate: unknown command\nTry 'daxfs-branch --help'."]);
    env.stderr.length = 0;
    expect(await main(["commit", "--bogus"], env)).toBe(1);
    expect(env.stderr).toEqual(["daxfs-branch: --bogus: unknown option\nTry 'daxfs-branch --help'."]);
    env.stderr.length = 0;
    // create and switch take one NAME: the second is named, before anything is mounted.
    expect(await main(["create", "a", "b", "-p", "main", "-m", "/mnt/x"], env)).toBe(1);
    expect(env.stderr).toEqual(["daxfs-branch: b: unexpected argument\nTry 'daxfs-branch --help'."]);
    env.stderr.length = 0;
    expect(await main([], env)).toBe(1);
    expect(env.stderr.join("\n")).toContain("Usage: daxfs-branch <command> [NAME] [options]");
  });

  it("--version prints the package and format versions", async () => {
    const env = fakeEnv([]);
    expect(await main(["--version"], env)).toBe(0);
    expect(env.stdout).toEqual([expect.stringMatching(/^daxfs-branch \d+\.\d+\.\d+ \(DAXFS format v5\)$/)]);
  });

  it("prints help on stdout and exits 0", async () => {
    for (const args of [["--help"], ["-h"], ["help"], ["create", "--help"], ["help", "create"]]) {
      const env = fakeEnv([]);
      expect(await main(args, env)).toBe(0);
      expect(env.stdout.join("\n")).toMatch(/Usage: daxfs-branch/);
    }
    const env = fakeEnv([]);
    expect(await main(["help", "create"], env)).toBe(0);
    expect(env.stdout.join("\n")).toMatch(/^Usage: daxfs-branch create \[options\] \[name\]/);
    const unknown = fakeEnv([]);
    expect(await main(["help", "frob"], unknown)).toBe(1);
    expect(unknown.stderr).toEqual(["daxfs-branch: frob: unknown command\nTry 'daxfs-branch --help'."]);
  });

  it("works as a process: list on this host and exit status 1 on a bad command", () => {
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const options = { encoding: "utf8" as const, env: { ...process.env, TSX_TSCONFIG_PATH: DEV_TSCONFIG } };
    const list = spawnSync(process.execPath, ["--import", "tsx", cli, "list"], options);
    expect(list.status).toBe(0);
    expect(list.stdout.split("\n")[0]).toBe(
      "MOUNTPOINT            BRANCH PATH                     MODE      BACKING",
    );
    const bad = spawnSync(process.execPath, ["--import", "tsx", cli, "commit"], options);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toBe("Error: -m/--mount is required\nTry 'daxfs-branch --help'.\n");
  });
});
