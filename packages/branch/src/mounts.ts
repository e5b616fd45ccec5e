/**
 * The daxfs mounts of this mount namespace, kernel and FUSE, as daxfs-branch sees them (SPEC.md 2.13): kernel
 * mounts (type "daxfs") describe themselves in their superblock options (phys=, size=, source=dmabuf, branch=);
 * FUSE reference mounts (type "fuse.daxfs", source = image path) answer on their control channel.
 */
import { DaxfsImage } from "@daxfs/core";
import { isWritableMount, type MountInfo, mountOption } from "@daxfs/linux";
import type { FuseMountInfo } from "./fuse-control.js";

export interface KernelDaxfsMount {
  kind: "kernel";
  mountPoint: string;
  /** "/main/child/..." from the branch= option; "/main" when absent, as the public tool shows it (SPEC.md 2.13). */
  branchPath: string;
  writable: boolean;
  /** phys= and size= option values, when both are shown. */
  phys?: string;
  size?: string;
  info: MountInfo;
}

export interface FuseDaxfsMount {
  kind: "fuse";
  mountPoint: string;
  /** The image file (the mount source). */
  image: string;
  /** Writable at the VFS level; the branch may still be read-only (main): see `control`. */
  writable: boolean;
  info: MountInfo;
}

export type DaxfsMount = KernelDaxfsMount | FuseDaxfsMount;

export const KERNEL_FSTYPE = "daxfs";
export const FUSE_FSTYPE = "fuse.daxfs";

/** The daxfs mounts among `mounts`, in mountinfo order (the order of /proc/mounts). */
export function daxfsMounts(mounts: readonly MountInfo[]): DaxfsMount[] {
  const found: DaxfsMount[] = [];
  for (const info of mounts) {
    if (info.fstype === KERNEL_FSTYPE) {
      const phys = mountOption(info.superOptions, "phys");
      const size = mountOption(info.superOptions, "size");
      const branch = mountOption(info.superOptions, "branch");
      found.push({
        kind: "kernel",
        mountPoint: info.mountPoint,
        branchPath: branch !== undefined && branch !== "" ? branch : "/main",
        writable: isWritableMount(info),
        ...(phys !== undefined ? { phys } : {}),
        ...(size !== undefined ? { size } : {}),
        info,
      });
    } else if (info.fstype === FUSE_FSTYPE) {
      found.push({
        kind: "fuse",
        mountPoint: info.mountPoint,
        image: info.source,
        writable: isWritableMount(info),
        info,
      });
    }
  }
  return found;
}

/** The daxfs mount at `realMountPoint` (already resolved), the top one if several are stacked. */
export function daxfsMountAt(mounts: readonly DaxfsMount[], realMountPoint: string): DaxfsMount | undefined {
  let found: DaxfsMount | undefined;
  for (const mount of mounts) if (mount.mountPoint === realMountPoint) found = mount;
  return found;
}

/**
 * Branch path of a FUSE mount: what the server sends, else the chain read from the image's branch table (the
 * newest slot with the branch's name is the live one), else as much as the branch and parent names tell.
 */
export function fuseBranchPath(control: FuseMountInfo): string {
  if (control.branchPath !== undefined) return control.branchPath;
  if (control.branch === "main") return "/main";
  try {
    const image = DaxfsImage.openFile(control.image);
    try {
      const path = branchPathIn(image, control.branch);
      if (path !== undefined) return path;
    } finally {
      image.close();
    }
  } catch {
    // An unreadable image still lets the list show what the server said.
  }
  if (control.parent === null || control.parent === "main") return `/main/${control.branch}`;
  return `/main/.../${control.parent}/${control.branch}`;
}

/** "/main/a/NAME" from the image's branch table: the newest record named NAME and its ancestors. */
export function branchPathIn(image: DaxfsImage, name: string): string | undefined {
  // The newest record with the name is the live one (older ones may be named ABORTED siblings).
  const named = image
    .branches()
    .filter((record) => record.name === name)
    .sort((a, b) => b.id - a.id)[0];
  if (named === undefined) return undefined;
  return `/${image
    .branchChain(named)
    .map((record) => record.name)
    .reverse()
    .join("/")}`;
}

/** Last component of a branch path: the mounted branch's name. */
export function branchName(branchPath: string): string {
  const parts = branchPath.split("/").filter((p) => p !== "");
  return parts[parts.length - 1] ?? "main";
}

/** The backing column of `list` for a kernel mount (SPEC.md 2.13): "phys=X,size=Y" if both shown, else "dmabuf". */
export function kernelBacking(mount: KernelDaxfsMount, separator: string): string {
  return mount.phys !== undefined && mount.size !== undefined
    ? `phys=${mount.phys}${separator}size=${mount.size}`
    : "dmabuf";
}
