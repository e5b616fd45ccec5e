// Real FUSE mounts for tests: build an image, spawn the CLI on a temp mount point, and always
// unmount (even after a failure or a kill) so no test leaves a mount behind.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { constants as osConstants, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type BuildDir, type BuildNode, buildImage } from "@daxfs/core";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const cli = join(repoRoot, "packages/fuse-ref/src/cli.ts");
// One process (node with tsx's loader), so a signal reaches the daxfs-fuse process itself.
const nodeArgs = ["--import", "tsx"];
const tsconfig = join(repoRoot, "packages/fuse-ref/test/tsconfig.cli.json");

function cliEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TSX_TSCONFIG_PATH: tsconfig };
}

/** The errno name of a failed call; node leaves ESTALE and EUCLEAN unnamed ("Unknown system error -116"). */
export function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    const { code, errno: number } = error as NodeJS.ErrnoException;
    if (code && !code.startsWith("Unknown")) return code;
    const name = Object.entries(osConstants.errno).find(([, value]) => value === -(number ?? 0))?.[0];
    return name ?? String(error);
  }
  return "no error";
}

export function dir(children: Record<string, BuildNode>, mode = 0o755): BuildDir {
  return { kind: "dir", mode: 0o040000 | mode, uid: 0, gid: 0, children: new Map(Object.entries(children)) };
}
export function file(text: string | Uint8Array, mode = 0o644): BuildNode {
  const content = typeof text === "string" ? new TextEncoder().encode(text) : text;
  return { kind: "file", mode: 0o100000 | mode, uid: 0, gid: 0, size: content.length, content };
}
export function symlink(target: string): BuildNode {
  return { kind: "symlink", mode: 0o120777, uid: 0, gid: 0, target };
}

export function isMounted(mountpoint: string): boolean {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === mountpoint);
}

export interface RunningMount {
  mountpoint: string;
  process: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit (the CLI unmounts and drops an uncommitted branch). */
  stop(): Promise<number | null>;
}

export class FuseHarness {
  readonly dir = mkdtempSync(join(tmpdir(), "daxfs-fuse-"));
  private mounts: RunningMount[] = [];
  private counter = 0;

  image(root: BuildDir, deltaSize = 8 * 1024 * 1024, branching = true): string {
    const path = join(this.dir, `image-${this.counter++}.daxfs`);
    writeFileSync(path, buildImage(root, branching ? { branching, deltaSize } : {}));
    return path;
  }

  /** Spawns `daxfs-fuse IMAGE MNT ...args` and waits until the mount is live (or the CLI exits). */
  async mount(image: string, args: string[] = []): Promise<RunningMount> {
    const mountpoint = join(this.dir, `mnt-${this.counter++}`);
    mkdirSync(mountpoint);
    const child = spawn(process.execPath, [...nodeArgs, cli, image, mountpoint, ...args], {
      cwd: repoRoot,
      env: cliEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((ok) => child.on("exit", (code) => ok(code)));
    const mount: RunningMount = {
      mountpoint,
      process: child,
      output: () => output,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        return exited;
      },
    };
    this.mounts.push(mount);
    const deadline = Date.now() + 30_000;
    while (!output.includes("mounted on")) {
      if (child.exitCode !== null) throw new Error(`daxfs-fuse exited ${child.exitCode}: ${output}`);
      if (Date.now() > deadline) throw new Error(`daxfs-fuse did not mount: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return mount;
  }

  /** Spawns the CLI expecting it to fail; returns its exit code and output. */
  /** Runs daxfs-fuse on a fresh mount point, or on `on` (one already in use), expecting a failure. */
  failMount(image: string, args: string[], on?: string): { status: number | null; output: string } {
    const mountpoint = on ?? join(this.dir, `mnt-${this.counter++}`);
    if (on === undefined) mkdirSync(mountpoint);
    const result = spawnSync(process.execPath, [...nodeArgs, cli, image, mountpoint, ...args], {
      cwd: repoRoot,
      env: cliEnv(),
      encoding: "utf8",
      timeout: 30_000,
    });
    return { status: result.status, output: result.stdout + result.stderr };
  }

  /** Stops every mount, lazily unmounts anything left (a killed process), removes the temp dir. */
  async cleanup(): Promise<void> {
    for (const mount of this.mounts) {
      await Promise.race([mount.stop(), new Promise((r) => setTimeout(r, 10_000))]);
      if (mount.process.exitCode === null && mount.process.signalCode === null) mount.process.kill("SIGKILL");
      if (isMounted(mount.mountpoint)) spawnSync("fusermount", ["-uz", mount.mountpoint]);
    }
    this.mounts = [];
    rmSync(this.dir, { recursive: true, force: true });
  }
}
