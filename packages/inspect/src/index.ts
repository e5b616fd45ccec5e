// @daxfs/inspect: the daxfs-inspect command, also callable in-process (tests, the TUI).

export { describeEntry } from "./commands/log.js";
export { EXIT_INVALID, EXIT_OK, EXIT_USAGE, type InspectIo, main, normalizeArgs } from "./main.js";
export { openSource, type SourceOptions } from "./source.js";
