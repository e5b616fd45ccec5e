// Branch write side of the image model: lifecycle (create/commit/abort/drop), appends, the lock.
export {
  COORD_EPOCH_OFFSET,
  COORD_LOCK_OFFSET,
  COORD_OWNER_PID_OFFSET,
  CoordinationLock,
  compareExchangeImageU32,
} from "./coord-lock.js";
export { type FreeExtent, readFreeExtents } from "./free-extents.js";
export { acquireLease, type Lease, readLeases, releaseLease } from "./leases.js";
export {
  abortBranch,
  type BranchContext,
  branchContext,
  checkBranchName,
  commitBranch,
  createBranch,
  dropBranch,
  ensureMain,
  findBranch,
  MAIN_BRANCH,
  recoverInterruptedMerge,
} from "./lifecycle.js";
export { BranchFiles, type Owner, RENAME_NOREPLACE, splitPath } from "./posix.js";
export {
  type DeltaUsage,
  deltaSpaceLeft,
  deltaUsage,
  deltaUsageWarning,
  ensureLogCapacity,
  INITIAL_LOG_CAPACITY,
} from "./space.js";
export { type AppendedEntry, BranchWriter, entryTimestamp } from "./writer.js";
