/**
 * daxfs-branch list, commit and abort (SPEC.md 2.13), for kernel mounts (remount) and FUSE reference mounts
 * (control channel). Output lines are the public tool's, so scripts that parse them keep working; failures add
 * the reason after the public text. Every command returns its exit status: 0 success, 1 failure.
 */
import { basename, dirname, join, resolve } from "node:path";
import { UsageError, usageErrorText } from "@daxfs/core";
import type { BranchEnv } from "./env.js";
import { FuseControlError, type FuseMountInfo } from "./fuse-control.js";
import { type DaxfsMount, daxfsMountAt, daxfsMounts, fuseBranchPath, kernelBacking } from "./mounts.js";

/** How a command sees one mount: kernel facts from mountinfo, FUSE facts from its server when it answers. */
export interface MountView {
  mount: DaxfsMount;
  branchPath: string;
  writable: boolean;
  backing: { row: string; detail: string };
  /** The server's info (FUSE mounts that answered). */
  control?: FuseMountInfo;
  /** Why a FUSE server did not answer. */
  unreachable?: string;
  /** Set when the mounted branch was invalidated (a sibling's commit, an abort): why. */
  stale?: string;
}

export async function viewMount(env: BranchEnv, mount: DaxfsMount): Promise<MountView> {
  if (mount.kind === "kernel") {
    // SPEC.md 3.12 has the kernel show the whole path (branch=/main/a/b); a module that shows only the
    // branch's name gets its path from the image's branch table, read through the mount.
    const branchPath = mount.branchPath.startsWith("/")
      ? mount.branchPath
      : (env.kernelBranchPath(mount) ?? mount.branchPath);
    const stale = kernelStaleness(env, mount.mountPoint);
    return {
      mount,
      branchPath,
      writable: mount.writable,
      backing: { row: kernelBacking(mount, ","), detail: kernelBacking(mount, ", ") },
      ...(stale !== undefined ? { stale } : {}),
    };
  }
  const backing = { row: `fuse:${mount.image}`, detail: `fuse, image=${mount.image}` };
  try {
    const control = await env.fuseInfo(mount.mountPoint);
    return {
      mount,
      branchPath: fuseBranchPath(control),
      writable: control.writable && mount.writable,
      backing,
      control,
      ...(control.stale !== undefined ? { stale: control.stale } : {}),
    };
  } catch (err) {
    return { mount, branchPath: "?", writable: mount.writable, backing, unreachable: (err as Error).message };
  }
}

/** A kernel mount whose root answers ESTALE serves an invalidated (or committed-away) branch. */
function kernelStaleness(env: BranchEnv, mountPoint: string): string | undefined {
  try {
    env.realpath(mountPoint);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESTALE"
      ? "the branch was invalidated (its root answers ESTALE)"
      : undefined;
  }
}

/**
 * PATH after realpath; when the path itself cannot be resolved, its parent directory resolved and the last
 * component kept: the root of an invalidated or committed-away kernel branch answers stat with ESTALE, and
 * commit, abort and list must still find that mount.
 */
function mountPointOf(env: BranchEnv, path: string): string | undefined {
  try {
    return env.realpath(path);
  } catch {
    const absolute = resolve(path);
    if (absolute === "/") return undefined;
    try {
      return join(env.realpath(dirname(absolute)), basename(absolute));
    } catch {
      return undefined;
    }
  }
}

/** The daxfs mount at PATH (after realpath), or undefined; SPEC.md 2.13 matches on the mount directory. */
export function findDaxfsMount(env: BranchEnv, path: string): DaxfsMount | undefined {
  const real = mountPointOf(env, path);
  return real === undefined ? undefined : daxfsMountAt(daxfsMounts(env.readMounts()), real);
}

const row = (mountPoint: string, branchPath: string, mode: string, backing: string) =>
  `${mountPoint.padEnd(20)}  ${branchPath.padEnd(30)}  ${mode.padEnd(8)}  ${backing}`;

export async function listCommand(env: BranchEnv, mountPath: string | undefined): Promise<number> {
  if (mountPath !== undefined) {
    const mount = findDaxfsMount(env, mountPath);
    if (mount === undefined) {
      env.err(`Error: no daxfs mount at '${mountPath}'`);
      return 1;
    }
    const view = await viewMount(env, mount);
    env.out(`Mountpoint:  ${mount.mountPoint}`);
    env.out(`Branch path: ${view.branchPath}`);
    env.out(`Mode:        ${modeText(view)}`);
    env.out(`Backing:     ${view.backing.detail}`);
    if (view.unreachable !== undefined) env.err(`daxfs-branch: warning: ${view.unreachable}`);
    return 0;
  }
  const header = row("MOUNTPOINT", "BRANCH PATH", "MODE", "BACKING");
  env.out(header);
  env.out("-".repeat(header.length));
  const mounts = daxfsMounts(env.readMounts());
  if (mounts.length === 0) env.out("(no daxfs mounts found)");
  for (const mount of mounts) {
    const view = await viewMount(env, mount);
    env.out(row(mount.mountPoint, view.branchPath, modeColumn(view), view.backing.row));
  }
  const warnings = new Set<string>();
  for (const mount of mounts) {
    const warning = mount.kind === "fuse" ? env.spaceWarning?.(mount.image) : undefined;
    if (warning) warnings.add(warning);
  }
  for (const warning of warnings) env.err(`daxfs-branch: warning: ${warning}`);
  return 0;
}

/** The MODE column: rw or ro, or stale for an invalidated branch (abort or unmount it). */
function modeColumn(view: MountView): string {
  if (view.stale !== undefined) return "stale";
  return view.writable ? "rw" : "ro";
}

function modeText(view: MountView): string {
  if (view.stale !== undefined) return `stale: ${view.stale}; abort or unmount it`;
  return view.writable ? "read-write" : "read-only";
}

type FinishOp = "commit" | "abort";

const finishText: Record<FinishOp, { start: string; done: string }> = {
  commit: {
    start: "Committing branch chain to main...",
    done: "Branch chain merged to main (all siblings invalidated)",
  },
  abort: { start: "Aborting entire branch chain...", done: "Branch chain aborted (back to main)" },
};

function describeFailure(err: unknown): string {
  if (err instanceof FuseControlError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * A required argument missing, in the public tool's words (SPEC.md 2.13: "Error: branch name
 * required") and, as every tool's usage error, the pointer to --help (docs/cli.md "Messages").
 * Always status 1.
 */
export function missingArgument(env: BranchEnv, message: string): number {
  env.err(usageErrorText("daxfs-branch", new UsageError(message, { verbatim: true })).trimEnd());
  return 1;
}

/** commit -m PATH / abort -m PATH (SPEC.md 2.13, 3.9). */
export async function finishCommand(
  env: BranchEnv,
  op: FinishOp,
  mountPath: string | undefined,
): Promise<number> {
  if (mountPath === undefined) return missingArgument(env, "-m/--mount is required");
  const mount = findDaxfsMount(env, mountPath);
  if (mount === undefined) {
    env.err(`Error: no daxfs mount at '${mountPath}'`);
    return 1;
  }
  const view = await viewMount(env, mount);
  if (view.unreachable !== undefined) {
    env.err(`daxfs-branch: ${view.unreachable}`);
    return 1;
  }
  // A FUSE server knows exactly; a kernel mount's ESTALE root may also be its own commit's
  // aftermath, so the kernel is asked and its answer reported.
  if (op === "commit" && view.stale !== undefined && mount.kind === "fuse") {
    env.err(`Error: cannot commit: ${view.stale}; abort or unmount it`);
    return 1;
  }
  if (op === "commit" && !view.writable) {
    env.err("Error: mount is read-only, cannot commit");
    return 1;
  }
  if (view.branchPath === "/main" || view.branchPath === "") {
    env.err(`Error: cannot ${op} 'main' branch`);
    return 1;
  }
  env.out(finishText[op].start);
  if (view.stale !== undefined && mount.kind === "fuse") env.out(`Note: ${view.stale}`);
  try {
    if (mount.kind === "kernel") env.remount(mount.mountPoint, op);
    else await env.fuseControl(mount.mountPoint, op);
  } catch (err) {
    env.err(`Error: ${op} failed: ${describeFailure(err)}`);
    return 1;
  }
  env.out(finishText[op].done);
  return 0;
}
