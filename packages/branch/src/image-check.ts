/**
 * What `daxfs-branch create/switch` checks in a FUSE branch's image file before it says anything or
 * starts daxfs-fuse (docs/branch.md "Checks first"): that the file is a branching DAXFS image, that
 * the parent branch is there to branch from (create) or the branch to attach is (switch), and that a
 * new branch's name is free. daxfs-fuse checks the same again under the coordination lock; this is
 * for a clear message before "Creating branch...", not a guarantee.
 */
import { DaxfsImage, isDaxfsError } from "@daxfs/core";
import { BranchState } from "@daxfs/format";

/** The problem with creating (parent given) or attaching (parent undefined) `name` in `image`, as "IMAGE: reason". */
export function fuseImageProblem(
  image: string,
  name: string,
  parent: string | undefined,
): string | undefined {
  let opened: DaxfsImage;
  try {
    opened = DaxfsImage.openFile(image);
  } catch (error) {
    // Core's errors already read "IMAGE: reason" (a missing file, a bad magic...).
    if (!isDaxfsError(error)) throw error;
    return error.message.startsWith(`${image}: `) ? error.message : `${image}: ${error.message}`;
  }
  try {
    if (!opened.branching) return `${image}: a static image has no branches (build it with mkdaxfs -b)`;
    const active = (branch: string) => opened.findBranch(branch)?.state === BranchState.ACTIVE;
    if (parent === undefined) {
      return active(name) ? undefined : `${image}: no active branch '${name}' to switch to`;
    }
    if (active(name)) return `${image}: branch '${name}' exists`;
    // A fresh image has no main record yet: the first mount creates it (SPEC 3.9.1).
    if (!active(parent) && !(parent === "main" && opened.findBranch("main") === undefined))
      return `${image}: no active parent branch '${parent}'`;
    return undefined;
  } finally {
    opened.close();
  }
}
