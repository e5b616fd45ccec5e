/**
 * daxfs-branch create NAME -m MNT -p PARENT (SPEC.md 2.13): mount a new branch of an image that is already
 * mounted, taking the backing memory (kernel) or image file (FUSE) from one of the existing daxfs mounts; and
 * daxfs-branch switch NAME -m MNT, which mounts an existing branch the same way.
 *
 * Which mount: the public tool takes the first daxfs mount in /proc/mounts, which is wrong as soon as two images
 * are mounted. We choose, in order (docs/branch.md, "Choosing the source mount"): the mount named by --source;
 * a mount of the PARENT branch itself; the daxfs mount that contains MNT's parent directory; the first daxfs
 * mount (with a warning when several are mounted).
 */
import { dirname } from "node:path";
import { UsageError, usageErrorText } from "@daxfs/core";
import { findDaxfsMount, type MountView, missingArgument, viewMount } from "./commands.js";
import type { BranchEnv } from "./env.js";
import { branchName, daxfsMounts } from "./mounts.js";

export interface CreateArgs {
  name?: string;
  mount?: string;
  parent?: string;
  /** Take the backing from the daxfs mount at this path. */
  source?: string;
  /** FUSE: serve the branch from this image file; no existing mount needed. */
  image?: string;
}

/** The public format keeps 31 bytes of name plus a NUL (SPEC.md 1.4). */
const BRANCH_NAME_MAX = 31;

/** The mount whose tree contains `dir`: the deepest mount point that is `dir` or one of its ancestors. */
function containingMountPoint(env: BranchEnv, dir: string): string | undefined {
  let best: string | undefined;
  for (const mount of env.readMounts()) {
    const point = mount.mountPoint;
    const inside = point === "/" || dir === point || dir.startsWith(`${point}/`);
    if (inside && (best === undefined || point.length >= best.length)) best = point;
  }
  return best;
}

/** What identifies the memory behind a mount, when anything does ("dmabuf" mounts cannot be compared). */
function backingIdentity(view: MountView): string {
  return view.mount.kind === "kernel" ? view.backing.detail : `image ${view.mount.image}`;
}

export async function chooseSource(
  env: BranchEnv,
  parent: string,
  realTarget: string,
): Promise<MountView | undefined> {
  const views: MountView[] = [];
  for (const mount of daxfsMounts(env.readMounts())) views.push(await viewMount(env, mount));
  if (views.length === 0) return undefined;
  const containing = containingMountPoint(env, dirname(realTarget));
  const inTargetTree = (view: MountView) => view.mount.mountPoint === containing;

  const ofParent = views.filter(
    (view) => view.unreachable === undefined && branchName(view.branchPath) === parent,
  );
  if (ofParent.length > 0) {
    const chosen = ofParent.find(inTargetTree) ?? (ofParent[0] as MountView);
    const others = new Set(ofParent.map(backingIdentity).filter((d) => d !== "dmabuf"));
    if (others.size > 1) {
      env.err(
        `daxfs-branch: warning: branch '${parent}' is mounted from several images; using the mount at '${chosen.mount.mountPoint}' (choose with --source)`,
      );
    }
    return chosen;
  }
  const around = views.find(inTargetTree);
  if (around !== undefined) return around;
  const first = views[0] as MountView;
  if (views.length > 1) {
    env.err(
      `daxfs-branch: warning: several daxfs mounts and none of branch '${parent}'; using the first, at '${first.mount.mountPoint}' (choose with --source)`,
    );
  }
  return first;
}

export async function createCommand(env: BranchEnv, args: CreateArgs): Promise<number> {
  const { name, parent } = args;
  if (name === undefined || name === "") return missingArgument(env, "branch name required");
  if (parent === undefined || parent === "") return missingArgument(env, "parent branch required (-p)");
  return mountBranch(env, args, name, parent);
}

/**
 * daxfs-branch switch NAME -m MNT: mount the existing ACTIVE branch NAME at MNT (kernel: branch=NAME without
 * parent=; FUSE: daxfs-fuse --branch NAME), e.g. to work on in another place or after the mount that created it
 * went away. The source mount is chosen as for create, with NAME in PARENT's place (docs/branch.md).
 */
export async function switchCommand(env: BranchEnv, args: Omit<CreateArgs, "parent">): Promise<number> {
  const { name } = args;
  if (name === undefined || name === "") return missingArgument(env, "branch name required");
  return mountBranch(env, args, name, undefined);
}

/** create (parent given) or switch (parent undefined), after the name checks of each. */
async function mountBranch(
  env: BranchEnv,
  args: CreateArgs,
  name: string,
  parent: string | undefined,
): Promise<number> {
  const target = args.mount;
  if (target === undefined || target === "") return missingArgument(env, "mountpoint required (-m)");
  if (args.image === "") {
    env.err(usageErrorText("daxfs-branch", new UsageError("--image: empty path")).trimEnd());
    return 1;
  }
  if (new TextEncoder().encode(name).length > BRANCH_NAME_MAX) {
    env.err(`daxfs-branch: ${name}: branch name is longer than ${BRANCH_NAME_MAX} bytes`);
    return 1;
  }
  if (name === "main") {
    env.err("daxfs-branch: main: branch name is reserved");
    return 1;
  }
  let realTarget: string;
  try {
    realTarget = env.realpath(target);
  } catch {
    env.err(`daxfs-branch: ${target}: mountpoint does not exist`);
    return 1;
  }
  if (env.isDirectory?.(realTarget) === false) {
    env.err(`daxfs-branch: ${target}: mountpoint is not a directory`);
    return 1;
  }

  let image = args.image;
  let source: MountView | undefined;
  if (image === undefined) {
    if (args.source !== undefined) {
      const mount = findDaxfsMount(env, args.source);
      if (mount === undefined) {
        env.err(`Error: no daxfs mount at '${args.source}'`);
        return 1;
      }
      source = await viewMount(env, mount);
    } else {
      source = await chooseSource(env, parent ?? name, realTarget);
    }
    if (source === undefined) {
      env.err(
        "daxfs-branch: /proc/mounts: no daxfs mount found (mount an image first, or give --image FILE for a FUSE branch)",
      );
      return 1;
    }
    if (source.mount.kind === "fuse") image = source.control?.image ?? source.mount.image;
  }
  // Everything that can be checked is checked before the first line of output (a user who sees
  // "Creating branch..." may take it that the arguments were right).
  if (image !== undefined && env.readMounts().some((mount) => mount.mountPoint === realTarget)) {
    // daxfs-fuse refuses it too, but only after the branch's record was written (a slot for nothing).
    env.err(
      `daxfs-branch: ${target}: mount point in use (a file system is mounted there: unmount it or choose another directory)`,
    );
    return 1;
  }
  const problem = image !== undefined ? env.fuseImageProblem?.(image, name, parent) : undefined;
  if (problem !== undefined) {
    env.err(`daxfs-branch: ${problem}`);
    return 1;
  }

  env.out(
    parent !== undefined
      ? `Creating branch '${name}' from parent '${parent}'...`
      : `Switching to branch '${name}'...`,
  );
  try {
    if (image !== undefined) {
      await env.launchFuseBranch({
        image,
        mountPoint: target,
        branch: name,
        ...(parent !== undefined ? { parent } : {}),
      });
    } else {
      mountKernelBranch(env, source as MountView, name, parent, target);
    }
  } catch (err) {
    env.err(
      `daxfs-branch: ${target}: cannot mount branch '${name}': ${err instanceof Error ? err.message : String(err)}`,
    );
    return 1;
  }
  env.out(`Branch '${name}' mounted at '${target}'`);
  return 0;
}

/** The dma-buf of the source mount if it has one (GET_DMABUF), else its phys=/size= (SPEC.md 2.13, 3.13). */
function mountKernelBranch(
  env: BranchEnv,
  source: MountView,
  name: string,
  parent: string | undefined,
  target: string,
): void {
  if (source.mount.kind !== "kernel") throw new Error("not a kernel mount");
  let dmabuf: number | undefined;
  try {
    dmabuf = env.getDmabufFd(source.mount.mountPoint);
  } catch {
    dmabuf = undefined; // ENOENT: a phys= mount; fall back to its options as the public tool does.
  }
  try {
    const { phys, size } = source.mount;
    if (dmabuf === undefined && (phys === undefined || size === undefined)) {
      throw new Error(
        `the mount at '${source.mount.mountPoint}' has neither a dma-buf nor phys=/size= options`,
      );
    }
    env.mountWithFsContext({
      fstype: "daxfs",
      ...(dmabuf !== undefined ? { fds: { dmabuf } } : {}),
      strings: {
        ...(dmabuf === undefined ? { phys: phys as string, size: size as string } : {}),
        branch: name,
        ...(parent !== undefined ? { parent } : {}),
      },
      target,
    });
  } finally {
    if (dmabuf !== undefined) env.closeFd(dmabuf);
  }
}
