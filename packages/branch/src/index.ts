export { findDaxfsMount, finishCommand, listCommand, type MountView, viewMount } from "./commands.js";
export { type CreateArgs, chooseSource, createCommand } from "./create.js";
export { type BranchEnv, defaultBranchEnv } from "./env.js";
export {
  controlSocketDirs,
  controlSocketName,
  controlSocketPaths,
  FuseControlError,
  type FuseControlOp,
  type FuseControlOptions,
  FuseControlUnreachable,
  type FuseMountInfo,
  fuseControl,
  fuseInfo,
} from "./fuse-control.js";
export { main } from "./main.js";
export {
  branchName,
  type DaxfsMount,
  daxfsMountAt,
  daxfsMounts,
  FUSE_FSTYPE,
  type FuseDaxfsMount,
  fuseBranchPath,
  KERNEL_FSTYPE,
  type KernelDaxfsMount,
} from "./mounts.js";
export {
  type FuseBranchLaunch,
  type FuseCommand,
  fuseLogPath,
  launchFuseBranch,
  resolveFuseCommand,
} from "./spawn-fuse.js";
