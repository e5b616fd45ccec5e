// @daxfs/inspect: the daxfs-inspect command, also callable in-process (tests, the TUI).

export { describeEntry } from "./commands/log.js";
export { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type InspectIo, normalizeArgs, run } from "./main.js";
export { openSource, parseSize, type SourceOptions, UsageError } from "./source.js";
