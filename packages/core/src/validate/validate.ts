// validate(): every structural rule of an untrusted image (SPEC.md 4 as NOTES.md "Validity" decides),
// reported as a list of problems rather than the first error, like fsck.erofs. The passes run in
// dependency order and each only reads regions an earlier pass found in bounds; the work is linear
// in the metadata (inode table, directory arrays, branch table, live logs, page-cache slots).
import { CorruptImageError } from "../errors.js";
import type { ImageSource } from "../image-source.js";
import { DEFAULT_MAX_PROBLEMS, ProblemLog, type ValidationReport } from "../problems.js";
import { type BaseFacts, checkBase } from "./base.js";
import { type CheckedBranch, checkBranchTable } from "./branches.js";
import { checkDeltaLogs } from "./deltas.js";
import { checkPageCache } from "./pcache.js";
import { checkSuperblock } from "./regions.js";
import { checkReplay } from "./replay.js";

export interface ValidateOptions {
  /** Problems listed before the rest are only counted (default 1000). */
  maxProblems?: number;
  /** Size of a split image's backing file, to bound regular-file data (unchecked when absent). */
  backingSize?: number;
}

export function validate(source: ImageSource, options: ValidateOptions = {}): ValidationReport {
  const log = new ProblemLog(options.maxProblems ?? DEFAULT_MAX_PROBLEMS);
  const stats = { inodes: 0, directoryEntries: 0, branches: 0, deltaEntries: 0 };
  try {
    const layout = checkSuperblock(source, log);
    if (layout) {
      let base: BaseFacts | null = null;
      if (layout.base)
        base = checkBase(source, layout.base, log, options.backingSize, layout.superblock.flags);
      if (base) {
        stats.inodes = base.inodeCount;
        stats.directoryEntries = base.directoryEntries;
        if (base.externalData && layout.superblock.pcacheOffset === 0n) {
          // Split mode is branching + a page cache (OVERVIEW.md 1, 7); without one no reader can serve the data.
          log.corrupt(
            layout.base!.offset + 8,
            "base_super",
            "flags",
            "EXTERNAL_DATA only with a page cache",
            "EXTERNAL_DATA, no page cache",
            "split-mode flag on an image without a page cache",
          );
        }
        if (layout.superblock.nextInodeId < BigInt(base.inodeCount + 1)) {
          log.corrupt(
            64,
            "superblock",
            "next_inode_id",
            `>= ${base.inodeCount + 1} (inode_count + 1)`,
            String(layout.superblock.nextInodeId),
            "inode high-water mark below the base inodes",
          );
        }
      }
      let branches: CheckedBranch[] = [];
      if (layout.branchTable) {
        branches = checkBranchTable(source, layout, layout.branchTable, log);
        stats.branches = branches.length;
      }
      if (base && branches.length > 0)
        stats.deltaEntries = checkDeltaLogs(source, layout, branches, base, log);
      if (layout.pcache) checkPageCache(source, layout.pcache, log);
      if (base && log.count === 0) checkReplay(source, branches, log);
    }
  } catch (error) {
    // The passes only read checked ranges; should one still run off the image (a source shorter
    // than it claims, a read error), report it as a problem rather than throw at the caller.
    if (error instanceof CorruptImageError) {
      log.corrupt(error.offset ?? 0, "image", "read", "a readable range", "a failed read", error.message);
    } else if (error instanceof RangeError) {
      log.corrupt(0, "image", "read", "a readable range", "a failed decode", error.message);
    } else {
      throw error;
    }
  }
  return { problems: log.problems, omitted: log.omitted, stats };
}
