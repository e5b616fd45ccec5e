// @daxfs/mkdaxfs: the mkdaxfs tool as a library (the builder itself is @daxfs/core build/).
export { type CliIo, main } from "./cli.js";
export {
  type BuildResult,
  buildToTarget,
  loadSource,
  type MkdaxfsOptions,
  selectTarget,
  sourceDateEpoch,
  sourceName,
  type Target,
} from "./mkdaxfs.js";
export { jsonSummary, summaryLines } from "./report.js";
export { type TarOptions, TarTreeBuilder } from "./tar.js";
