// The last pass: replay every live branch's chain through the image model's own index (the code
// every reader runs), so that an image validate accepts is one every reader can open. The earlier
// passes check each entry on its own; this one catches what only replay order shows. Costs the
// log entries plus one walk of the tree per live branch with a non-empty log; runs only when
// nothing else was found, since the model stops at the first problem.
import { BranchState } from "@daxfs/format";
import { CorruptImageError, DaxfsError } from "../errors.js";
import { DaxfsImage } from "../image.js";
import type { ImageSource } from "../image-source.js";
import type { ProblemLog } from "../problems.js";
import type { CheckedBranch } from "./branches.js";

export function checkReplay(source: ImageSource, branches: CheckedBranch[], log: ProblemLog): void {
  const live = branches.filter((b) => b.state === BranchState.ACTIVE && b.name !== "" && b.logSize > 0);
  if (live.length === 0) return;
  // Not closed: closing the model would close the caller's source.
  const image = DaxfsImage.open(source);
  for (const branch of live) {
    try {
      // Index the chain, then walk it: the walk fails on a directory reachable twice (a rename
      // into its own subtree on a shared directory); files are not read.
      for (const _ of image.view(branch.name).walk()) {
        // the walk itself is the check
      }
    } catch (error) {
      if (!(error instanceof DaxfsError)) throw error;
      const offset =
        error instanceof CorruptImageError && error.offset !== undefined ? error.offset : branch.logOffset;
      log.corrupt(
        offset,
        `replay ${branch.name}`,
        "entry",
        "an entry that applies to the tree of its branch chain",
        "one that does not",
        error.message.replace(/ \(at 0x[0-9a-f]+\)$/, ""),
      );
    }
  }
}
