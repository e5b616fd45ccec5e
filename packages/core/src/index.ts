// @daxfs/core: the one DAXFS image model every tool uses (docs/architecture.md). This is its whole
// public API, listed name by name: the decoders, replay and validator internals stay private, and
// test helpers live in the "@daxfs/core/testing" subpath (src/testing), which is not built.

// Read side: an opened image, its branches, a live view of one branch.
export type { BaseImage, BaseInodeInfo } from "./base/base-image.js";
// Write side: branch lifecycle, appends, POSIX calls inside a branch, space.
export {
  abortBranch,
  acquireLease,
  type BranchContext,
  BranchFiles,
  BranchWriter,
  branchContext,
  checkBranchName,
  commitBranch,
  createBranch,
  type DeltaUsage,
  deltaSpaceLeft,
  deltaUsage,
  deltaUsageWarning,
  dropBranch,
  ensureMain,
  entryTimestamp,
  findBranch,
  type Lease,
  MAIN_BRANCH,
  type Owner,
  RENAME_NOREPLACE,
  readLeases,
  releaseLease,
} from "./branch/index.js";
export type { BranchRecord } from "./branch-record.js";
// The image builder.
export {
  type BuildDir,
  type BuildFile,
  type BuildNode,
  type BuildOptions,
  type BuildSymlink,
  buildImage,
  buildSplitImage,
  type CopyFileRange,
  compileGlob,
  type HostCalls,
  type HostStat,
  hostError,
  type ImageMode,
  type ImagePlan,
  imageFilePath,
  makeDir,
  makeFile,
  makeSymlink,
  nodeHostCalls,
  type PlannedInode,
  planContentsText,
  planImage,
  planInodeTypes,
  type ScanOptions,
  scanDirectory,
  storedMtime,
  withShortPath,
  writeImageFile,
  writeImageToMemory,
} from "./build/index.js";
// The command-line contract of the tools.
export {
  type CliMain,
  commanderMessage,
  commanderOutput,
  commandLineFailure,
  errorLine,
  jsonErrorText,
  type ParsableCommand,
  parseAddress,
  parseSize,
  parseToolArguments,
  rejectExtraArguments,
  requireDeltaSize,
  requirePath,
  requireSize,
  requireWritableOutput,
  runCli,
  type ToolStreams,
  UsageError,
  usageErrorText,
  versionText,
  workFailure,
} from "./cli.js";
// Offline compaction (docs/space.md "Compaction").
export {
  type BranchTreeOptions,
  branchTree,
  type CompactionSource,
  type CompactOptions,
  type CompactResult,
  compactImage,
  openCompactionSource,
} from "./compact/index.js";
// Delta log entries.
export {
  type DeltaEntry,
  decodeDeltaLog,
  decodeDeltaLogPrefix,
  decodeDeltaRange,
  deltaTypeName,
  encodeDeltaEntry,
  featureNames,
  KNOWN_FEATURES,
  type NewDeltaEntry,
} from "./delta/entry.js";

// Image sources and errors.
export {
  CorruptImageError,
  DaxfsError,
  ERRNO_NUMBER,
  type Errno,
  isDaxfsError,
  systemError,
} from "./errors.js";
export {
  countInodeTypes,
  fileTypeOf,
  type InodeTypeCounts,
  inodeCountText,
  NO_OWNER,
  PERMISSION_BITS,
  plural,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  typeCountText,
} from "./file-type.js";
export { DaxfsImage, type OpenOptions } from "./image.js";
export { FileImage, type ImageSource, MemoryImage } from "./image-source.js";
// Names are bytes, carried as strings in one reversible form (names.ts).
export {
  compareNames,
  decodeName,
  encodeName,
  hasEscapedBytes,
  hostPath,
  nameByteLength,
  nameTextProblem,
  showName,
} from "./names.js";
// The checker.
export {
  formatProblem,
  type Problem,
  type ProblemKind,
  problemLine,
  type ValidateOptions,
  type ValidationReport,
  type ValidationStats,
  validate,
  validationStatsText,
} from "./validate/index.js";
export { BranchView, type DirEntry, noBranchInStaticImage, type Stat } from "./view.js";
