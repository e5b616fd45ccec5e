// End to end with the FUSE reference: a real daxfs-fuse main mount, then daxfs-branch create / commit / abort
// through the control channel. Needs /dev/fuse and root; reported skipped otherwise.
import { type ChildProcess, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, makeDir, makeFile } from "@daxfs/core";
import { findMount, readMounts, unmount } from "@daxfs/linux";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultBranchEnv } from "./env.js";
import { fuseInfo } from "./fuse-control.js";
import { main } from "./main.js";
import { fuseLogPath, resolveFuseCommand } from "./spawn-fuse.js";

const fuseRefCli = new URL("../../fuse-ref/src/cli.ts", import.meta.url);
const canRun = existsSync("/dev/fuse") && process.getuid?.() === 0 && existsSync(fuseRefCli);

let root: string;
let mainMount: string;
let mainProcess: ChildProcess | undefined;
const pids = new Set<number>();

async function waitFor(
  condition: () => boolean,
  what: string | (() => string),
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${typeof what === "string" ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function run(args: string[]): Promise<{ status: number; stdout: string[]; stderr: string[] }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const status = await main(args, {
    ...defaultBranchEnv,
    out: (l) => stdout.push(l),
    err: (l) => stderr.push(l),
  });
  return { status, stdout, stderr };
}

async function remember(mountPoint: string): Promise<void> {
  pids.add((await fuseInfo(mountPoint)).pid);
}

describe.skipIf(!canRun)("daxfs-branch with a real daxfs-fuse mount", () => {
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "daxfs-branch-e2e-"));
    const tree = makeDir();
    tree.children.set("hello.txt", makeFile("hello\n"));
    const image = join(root, "image.daxfs");
    writeFileSync(image, buildImage(tree, { branching: true, deltaSize: 4 << 20 }));
    mainMount = join(root, "main");
    for (const dir of ["main", "feat", "b2", "sw1", "sw2", "s1", "s2"]) mkdirSync(join(root, dir));
    // The daxfs-fuse that daxfs-branch would start, from sources.
    process.env.DAXFS_FUSE_BIN = "";
    const fuse = resolveFuseCommand();
    const [command, ...prefix] = fuse.argv;
    mainProcess = spawn(command as string, [...prefix, image, mainMount], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...fuse.env },
    });
    let mainStderr = "";
    mainProcess.stderr?.on("data", (chunk: Buffer) => {
      mainStderr += chunk.toString();
    });
    if (mainProcess.pid !== undefined) pids.add(mainProcess.pid);
    // Started from sources through tsx: slow on a loaded 2-core machine, hence the wide bound; what
    // daxfs-fuse said goes into the failure so a real refusal is told apart from a slow start.
    await waitFor(
      () => findMount(mainMount)?.fstype === "fuse.daxfs",
      () => `the main mount (daxfs-fuse stderr: ${JSON.stringify(mainStderr)})`,
      90_000,
    );
  });

  afterAll(async () => {
    for (const mount of readMounts().reverse()) {
      if (mount.mountPoint.startsWith(`${root}/`)) unmount(mount.mountPoint, { detach: true });
    }
    await waitFor(() => [...pids].every((pid) => !alive(pid)), "daxfs-fuse processes to exit", 10_000).catch(
      () => {
        for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
      },
    );
    rmSync(root, { recursive: true, force: true });
  });

  it("creates a branch, commits it into main, and aborts another", async () => {
    const feat = join(root, "feat");
    const created = await run(["create", "feat", "-m", feat, "-p", "main", "--source", mainMount]);
    expect(created).toEqual({
      status: 0,
      stdout: ["Creating branch 'feat' from parent 'main'...", `Branch 'feat' mounted at '${feat}'`],
      stderr: [],
    });
    await remember(feat);
    expect((await run(["list", "-m", feat])).stdout.slice(1, 3)).toEqual([
      "Branch path: /main/feat",
      "Mode:        read-write",
    ]);

    writeFileSync(join(feat, "new.txt"), "from feat\n");
    expect(readdirSync(mainMount).sort()).toEqual(["hello.txt"]);
    expect(await run(["commit", "-m", feat])).toEqual({
      status: 0,
      stdout: [
        "Committing branch chain to main...",
        "Branch chain merged to main (all siblings invalidated)",
      ],
      stderr: [],
    });
    expect(readFileSync(join(mainMount, "new.txt"), "utf8")).toBe("from feat\n");

    const b2 = join(root, "b2");
    expect((await run(["create", "b2", "-m", b2, "-p", "main", "--source", mainMount])).status).toBe(0);
    await remember(b2);
    writeFileSync(join(b2, "discard.txt"), "x");
    expect(await run(["abort", "-m", b2])).toEqual({
      status: 0,
      stdout: ["Aborting entire branch chain...", "Branch chain aborted (back to main)"],
      stderr: [],
    });
    expect(readdirSync(mainMount).sort()).toEqual(["hello.txt", "new.txt"]);
    // The aborted mount now shows main, which cannot be aborted.
    expect(await run(["abort", "-m", b2])).toMatchObject({
      status: 1,
      stderr: ["Error: cannot abort 'main' branch"],
    });
  });

  it("switches to an existing branch: a second mount of it, served by a daxfs-fuse of its own", async () => {
    const sw1 = join(root, "sw1");
    const sw2 = join(root, "sw2");
    expect((await run(["create", "sw", "-m", sw1, "-p", "main", "--source", mainMount])).status).toBe(0);
    await remember(sw1);
    writeFileSync(join(sw1, "sw.txt"), "in sw\n");
    expect(await run(["switch", "sw", "-m", sw2, "--source", mainMount])).toEqual({
      status: 0,
      stdout: ["Switching to branch 'sw'...", `Branch 'sw' mounted at '${sw2}'`],
      stderr: [],
    });
    await remember(sw2);
    expect(readFileSync(join(sw2, "sw.txt"), "utf8")).toBe("in sw\n");
    expect((await run(["list", "-m", sw2])).stdout.slice(1, 3)).toEqual([
      "Branch path: /main/sw",
      "Mode:        read-write",
    ]);
    // No such branch: refused from the image before anything is said or started.
    const unused = join(root, "sw-unused");
    mkdirSync(unused);
    const none = await run(["switch", "nosuch", "-m", unused, "--source", mainMount]);
    expect(none).toMatchObject({ status: 1, stdout: [] });
    expect(none.stderr).toEqual([
      `daxfs-branch: ${join(root, "image.daxfs")}: no active branch 'nosuch' to switch to`,
    ]);
  });

  it("handles a sibling invalidated by a commit: listed stale, commit refused, abort and unmount work", async () => {
    const s1 = join(root, "s1");
    const s2 = join(root, "s2");
    expect((await run(["create", "s1", "-m", s1, "-p", "main", "--source", mainMount])).status).toBe(0);
    expect((await run(["create", "s2", "-m", s2, "-p", "main", "--source", mainMount])).status).toBe(0);
    await remember(s1);
    const s2Pid = (await fuseInfo(s2)).pid;
    pids.add(s2Pid);
    writeFileSync(join(s2, "lost.txt"), "x");
    expect((await run(["commit", "-m", s1])).status).toBe(0);
    const listed = await run(["list"]);
    expect(listed.stdout.find((line) => line.startsWith(s2))).toMatch(/\/main\/s2\s+stale\s+fuse:/);
    const detail = await run(["list", "-m", s2]);
    expect(detail.status).toBe(0);
    expect(detail.stdout[2]).toMatch(
      /^Mode: {8}stale: branch "s2" was invalidated \(ABORTED: .*\); abort or unmount it$/,
    );
    const commit = await run(["commit", "-m", s2]);
    expect(commit.status).toBe(1);
    expect(commit.stderr[0]).toMatch(
      /^Error: cannot commit: branch "s2" was invalidated .*; abort or unmount it$/,
    );
    const abort = await run(["abort", "-m", s2]);
    expect(abort.status).toBe(0);
    expect(abort.stdout[1]).toMatch(/^Note: branch "s2" was invalidated/);
    expect(readdirSync(s2)).toContain("hello.txt"); // back to main
    unmount(s2);
    await waitFor(() => !alive(s2Pid), "the stale mount's daxfs-fuse to exit after its unmount", 20_000);
  });

  it("keeps daxfs-fuse's log beside its control socket while mounted, and removes it on unmount", async () => {
    const mount = join(root, "lg");
    mkdirSync(mount);
    const log = fuseLogPath(mount);
    expect(log).toMatch(/^(\/run|.*\/tmp.*)\/daxfs-fuse\/[0-9a-f]{16}\.log$/);
    expect((await run(["create", "lg", "-m", mount, "-p", "main", "--source", mainMount])).status).toBe(0);
    const pid = (await fuseInfo(mount)).pid;
    pids.add(pid);
    expect(readFileSync(log, "utf8")).toMatch(/^daxfs-fuse: .* branch lg mounted on /);
    unmount(mount);
    await waitFor(() => !alive(pid), "daxfs-fuse to exit after its unmount", 20_000);
    expect(existsSync(log)).toBe(false);
  });
});
