// Where the image's branches are mounted, when that can be known (issue 12 item 1): daxfs-fuse
// mounts of the same image file (the mount table names the file; the server's control channel
// names the branch, as daxfs-branch list asks it), and the kernel mount the TUI was opened on with
// -m (its branch= option). Other kernel mounts name a physical range or a dma-buf, not an image,
// so they are not matched. Loaded lazily: reading the mount table is not needed for a first screen.
import { realpathSync } from "node:fs";

/** What the TUI was opened on. */
export interface TargetPaths {
  imageFile?: string;
  mountPoint?: string;
}

const real = (path: string): string | undefined => {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
};

/** Branch name -> mount points, for the branch pane. */
export async function branchMounts(target: TargetPaths): Promise<Map<string, string[]>> {
  const { readMounts } = await import("@daxfs/linux");
  const { daxfsMounts, fuseInfo } = await import("@daxfs/branch");
  const found = new Map<string, string[]>();
  const add = (branch: string, mountPoint: string) =>
    found.set(branch, [...(found.get(branch) ?? []), mountPoint]);
  const mounts = daxfsMounts(readMounts());
  const openedAt = target.mountPoint === undefined ? undefined : real(target.mountPoint);
  const opened = mounts.find((m) => m.mountPoint === openedAt);
  const image =
    target.imageFile !== undefined
      ? real(target.imageFile)
      : opened?.kind === "fuse"
        ? real(opened.image)
        : undefined;
  for (const mount of mounts) {
    if (mount.kind === "kernel") {
      if (mount.mountPoint === openedAt) add(mount.branchPath.split("/").pop() || "main", mount.mountPoint);
      continue;
    }
    if (image === undefined || real(mount.image) !== image) continue;
    try {
      add((await fuseInfo(mount.mountPoint, { timeoutMs: 1000 })).branch, mount.mountPoint);
    } catch {
      // A server that does not answer: its branch is not known.
    }
  }
  return found;
}
