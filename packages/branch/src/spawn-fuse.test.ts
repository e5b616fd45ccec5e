// launchFuseBranch with stand-in daxfs-fuse executables (shell scripts) for its failure paths; the success path
// runs against the real daxfs-fuse in fuse-e2e.test.ts.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fuseLogPath, launchFuseBranch, resolveFuseCommand } from "./spawn-fuse.js";

let dir: string;
const savedBin = process.env.DAXFS_FUSE_BIN;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "daxfs-spawn-"));
});
afterEach(() => {
  rmSync(fuseLogPath(join(dir, "mnt")), { force: true });
  if (savedBin === undefined) delete process.env.DAXFS_FUSE_BIN;
  else process.env.DAXFS_FUSE_BIN = savedBin;
  rmSync(dir, { recursive: true, force: true });
});

function script(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("resolveFuseCommand", () => {
  it("honours DAXFS_FUSE_BIN: executables as is, .js through node, .ts through tsx with the dev tsconfig", () => {
    expect(resolveFuseCommand({ DAXFS_FUSE_BIN: "/opt/bin/daxfs-fuse" })).toEqual({
      argv: ["/opt/bin/daxfs-fuse"],
      env: {},
    });
    expect(resolveFuseCommand({ DAXFS_FUSE_BIN: "/x/cli.js" })).toEqual({
      argv: [process.execPath, "/x/cli.js"],
      env: {},
    });
    const ts = resolveFuseCommand({ DAXFS_FUSE_BIN: "/x/cli.ts" });
    expect(ts.argv[0]).toBe(process.execPath);
    expect(ts.argv.slice(-1)).toEqual(["/x/cli.ts"]);
    expect(ts.env.TSX_TSCONFIG_PATH).toMatch(/packages\/branch\/tsconfig\.dev\.json$/);
  });

  it("runs the workspace fuse-ref sources when running from sources", () => {
    expect(resolveFuseCommand({}).argv.slice(-1)[0]).toMatch(
      /packages\/fuse-ref\/(src\/cli\.ts|dist\/cli\.js)$/,
    );
  });
});

describe("launchFuseBranch", () => {
  it("passes image, mount point, --branch and --parent, and reports an early exit with the log's tail", async () => {
    const argsFile = join(dir, "args");
    process.env.DAXFS_FUSE_BIN = script(
      "fail",
      `echo "$@" > ${argsFile}\necho "daxfs-fuse: branch 'feat' exists" >&2\nexit 1`,
    );
    const target = join(dir, "mnt");
    mkdirSync(target);
    const err = await launchFuseBranch({
      image: "/img/x",
      mountPoint: target,
      branch: "feat",
      parent: "main",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    // The log stays where the error says, beside the control socket.
    const log = fuseLogPath(target);
    expect(log).toMatch(/\/daxfs-fuse\/[0-9a-f]{16}\.log$/);
    expect(err.message).toBe(
      `daxfs-fuse exited with status 1 before mounting: daxfs-fuse: branch 'feat' exists (log: ${log})`,
    );
    expect((await import("node:fs")).readFileSync(log, "utf8")).toBe("daxfs-fuse: branch 'feat' exists\n");
    rmSync(log);
    expect((await import("node:fs")).readFileSync(argsFile, "utf8")).toBe(
      `/img/x ${target} --branch feat --parent main\n`,
    );
  });

  it("stops a daxfs-fuse that never mounts, and names a command that cannot start", async () => {
    const pidFile = join(dir, "pid");
    process.env.DAXFS_FUSE_BIN = script("hang", `echo $$ > ${pidFile}\nexec sleep 30`);
    const target = join(dir, "mnt");
    mkdirSync(target);
    const err = await launchFuseBranch({
      image: "/i",
      mountPoint: target,
      branch: "b",
      parent: "main",
      timeoutMs: 500,
    }).catch((e) => e);
    expect(err.message).toBe(`daxfs-fuse did not mount '${target}' in time (log: ${fuseLogPath(target)})`);
    const pid = Number((await import("node:fs")).readFileSync(pidFile, "utf8"));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(() => process.kill(pid, 0)).toThrow();

    process.env.DAXFS_FUSE_BIN = join(dir, "no-such-daxfs-fuse");
    const missing = await launchFuseBranch({
      image: "/i",
      mountPoint: target,
      branch: "b",
      parent: "main",
    }).catch((e) => e);
    expect(missing.message).toMatch(/cannot start .*no-such-daxfs-fuse: .*ENOENT/);
    // The hung one's log stays (the timeout names it); the one that never started has none.
    expect(existsSync(fuseLogPath(target))).toBe(false);
  });
});
