/**
 * Starting a daxfs-fuse process for `daxfs-branch create` on a FUSE image: the process runs detached (it serves the
 * mount until unmounted), its output goes to a log file beside its control socket, and create returns once the
 * mount shows in mountinfo. The log lives as long as the mount (docs/branch.md "The daxfs-fuse log"): daxfs-fuse
 * removes it when it exits after a clean unmount; one that failed leaves it, and the error names it.
 */
import { spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { readMounts } from "@daxfs/linux";
import { controlSocketDirs, controlSocketName } from "./fuse-control.js";
import { FUSE_FSTYPE } from "./mounts.js";

export interface FuseBranchLaunch {
  image: string;
  mountPoint: string;
  branch: string;
  /** Creates the branch as a child of this one; absent: attach the existing branch (daxfs-branch switch). */
  parent?: string;
  /** How long to wait for the mount to appear (default 30 s: a development run compiles TypeScript first). */
  timeoutMs?: number;
}

/** How to run daxfs-fuse: argv prefix (image, mount point and options follow) and extra environment. */
export interface FuseCommand {
  argv: string[];
  env: Record<string, string>;
}

/** Resolves @daxfs/* to workspace sources for a tsx run (packages/branch/tsconfig.dev.json). */
export const DEV_TSCONFIG = fileURLToPath(new URL("../tsconfig.dev.json", import.meta.url));

/**
 * Which daxfs-fuse to run: $DAXFS_FUSE_BIN (an executable, or a .js/.ts file); else the workspace's fuse-ref
 * package, its sources through tsx when this tool itself runs from sources (development), its dist/cli.js
 * otherwise; else `daxfs-fuse` on PATH.
 */
export function resolveFuseCommand(env: NodeJS.ProcessEnv = process.env): FuseCommand {
  const override = env.DAXFS_FUSE_BIN;
  if (override !== undefined && override !== "") return commandFor(override);
  const fuseRef = fileURLToPath(new URL("../../fuse-ref/", import.meta.url));
  const built = join(fuseRef, "dist", "cli.js");
  const source = join(fuseRef, "src", "cli.ts");
  const fromSources = import.meta.url.endsWith(".ts");
  for (const candidate of fromSources ? [source, built] : [built, source]) {
    if (existsSync(candidate)) return commandFor(candidate);
  }
  return { argv: ["daxfs-fuse"], env: {} };
}

function commandFor(path: string): FuseCommand {
  if (path.endsWith(".js") || path.endsWith(".mjs")) return { argv: [process.execPath, path], env: {} };
  if (!path.endsWith(".ts")) return { argv: [path], env: {} };
  const tsconfig: Record<string, string> = existsSync(DEV_TSCONFIG)
    ? { TSX_TSCONFIG_PATH: DEV_TSCONFIG }
    : {};
  try {
    const tsx = createRequire(import.meta.url).resolve("tsx/package.json");
    return {
      argv: [process.execPath, "--import", pathToFileURL(join(tsx, "..", "dist", "loader.mjs")).href, path],
      env: tsconfig,
    };
  } catch {
    return { argv: ["npx", "tsx", path], env: tsconfig };
  }
}

/**
 * Where a launched daxfs-fuse writes its output: beside its control socket and named like it,
 * `/run/daxfs-fuse/ID.log` (else `$TMPDIR/daxfs-fuse/ID.log` where /run is not writable).
 */
export function fuseLogPath(mountPoint: string): string {
  const name = controlSocketName(mountPoint).replace(/\.sock$/, ".log");
  for (const dir of controlSocketDirs()) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      accessSync(dir, constants.W_OK);
      return join(dir, name);
    } catch {
      // Not writable here: the next directory.
    }
  }
  return join(tmpdir(), `daxfs-fuse-${name}`);
}

/** The variable that tells daxfs-fuse its log file, which it removes after a clean unmount (fuse-ref/src/cli.ts). */
export const FUSE_LOG_ENV = "DAXFS_FUSE_LOG";

/** Mount ids of the FUSE daxfs mounts at `realMountPoint`. */
function fuseMountIds(realMountPoint: string): Set<number> {
  return new Set(
    readMounts()
      .filter((m) => m.mountPoint === realMountPoint && m.fstype === FUSE_FSTYPE)
      .map((m) => m.mountId),
  );
}

function logTail(path: string): string {
  try {
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    return lines.slice(-5).join("\n");
  } catch {
    return "";
  }
}

export async function launchFuseBranch(launch: FuseBranchLaunch): Promise<void> {
  const realMountPoint = realpathSync(launch.mountPoint);
  // A daxfs-fuse mount already there (stacked mounts are allowed) is not the one this process makes.
  const before = fuseMountIds(realMountPoint);
  const mounted = () => [...fuseMountIds(realMountPoint)].some((id) => !before.has(id));
  const fuse = resolveFuseCommand();
  const [command, ...prefix] = fuse.argv;
  const args = [
    ...prefix,
    launch.image,
    launch.mountPoint,
    "--branch",
    launch.branch,
    ...(launch.parent !== undefined ? ["--parent", launch.parent] : []),
  ];
  const logPath = fuseLogPath(launch.mountPoint);
  const log = openSync(logPath, "w");
  let exitStatus: string | undefined;
  let spawnError: Error | undefined;
  try {
    const child = spawn(command as string, args, {
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, ...fuse.env, [FUSE_LOG_ENV]: logPath },
    });
    child.on("error", (err) => {
      spawnError = err;
    });
    child.on("exit", (code, signal) => {
      exitStatus = signal !== null ? `signal ${signal}` : `status ${code}`;
    });
    child.unref();

    const deadline = Date.now() + (launch.timeoutMs ?? 30_000);
    for (;;) {
      if (mounted()) return;
      if (spawnError !== undefined) {
        rmSync(logPath, { force: true }); // nothing ran, nothing was logged
        throw new Error(`cannot start ${command}: ${spawnError.message}`);
      }
      if (exitStatus !== undefined) {
        // One line, as every error of the tools (docs/cli.md "Messages"): the log's lines joined.
        const tail = logTail(logPath)
          .split("\n")
          .filter((line) => line.trim() !== "")
          .join("; ");
        throw new Error(
          `daxfs-fuse exited with ${exitStatus} before mounting${tail !== "" ? `: ${tail}` : ""} (log: ${logPath})`,
        );
      }
      if (Date.now() > deadline) {
        if (child.pid !== undefined) process.kill(child.pid, "SIGTERM");
        throw new Error(`daxfs-fuse did not mount '${launch.mountPoint}' in time (log: ${logPath})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    closeSync(log);
  }
}
