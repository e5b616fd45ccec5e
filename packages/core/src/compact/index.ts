// Offline compaction: main folded into a new base (docs/space.md "Compaction").
export { type BranchTreeOptions, branchTree } from "./branch-tree.js";
export {
  type CompactionSource,
  type CompactOptions,
  type CompactResult,
  compactImage,
  openCompactionSource,
} from "./compact.js";
