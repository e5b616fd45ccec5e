// @daxfs/fuse-ref: the FUSE reference filesystem (docs/fuse.md).
export { BranchFs, type BranchFsInfo, type BranchFsOptions } from "./branch-fs.js";
export { type ControlReply, controlRequest, controlSocketPath, handleControlRequest } from "./control.js";
export { type FuseIo, main as fuseMain } from "./main.js";
export { type FuseServer, type MountOptions, mountDaxfs } from "./mount.js";
