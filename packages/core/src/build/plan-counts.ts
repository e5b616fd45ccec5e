// What a planned image holds, in the one form every tool states it (docs/cli.md "Counts"):
// inodes by type, then directory entries (names below the root). mkdaxfs's "Found ..." line and
// daxfs-compact's summary both print planContentsText, so the same tree reads the same in both.
import { type InodeTypeCounts, inodeCountText, plural } from "../file-type.js";
import type { ImagePlan } from "./plan.js";

/** Inodes of `plan` by type (other types count in the total only). */
export function planInodeTypes(plan: ImagePlan): InodeTypeCounts {
  const counts: InodeTypeCounts = { directories: 0, files: 0, symlinks: 0 };
  for (const { node } of plan.inodes) {
    if (node.kind === "dir") counts.directories++;
    else if (node.kind === "file") counts.files++;
    else if (node.kind === "symlink") counts.symlinks++;
  }
  return counts;
}

/** "5 inodes (2 directories, 2 regular files, 1 symlink), 4 directory entries". */
export function planContentsText(plan: ImagePlan): string {
  // The root is an inode but no directory entry.
  const entries = plural(plan.nameCount - 1, "directory entry", "directory entries");
  return `${inodeCountText(plan.inodes.length, planInodeTypes(plan))}, ${entries}`;
}
