// @daxfs/inspect: the daxfs-inspect command, also callable in-process (tests, the TUI).

export {
  type BranchDiff,
  branchLabel,
  type DiffChange,
  describeEntry,
  diffBranches,
} from "./commands/log.js";
export { stateName } from "./commands/summary.js";
export { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type InspectIo, main, normalizeArgs } from "./main.js";
export { humanSize, modeString, percent, timeText } from "./render.js";
export { openSource, type SourceOptions } from "./source.js";
