// @daxfs/compact: the daxfs-compact tool as a library (the folding itself is @daxfs/core compact/).
export { type CliIo, main } from "./main.js";
