export { allocateFile, allocateHoles, allocateImageFile } from "./allocate.js";
export { allocDmaHeap, closeFd, DAXFS_IOC_GET_DMABUF, DMA_HEAP_IOCTL_ALLOC, getDmabufFd } from "./dmabuf.js";
export type { SyscallErrorDetails } from "./errors.js";
export { errnoName, SyscallError } from "./errors.js";
export type { MapFdOptions, MapFileOptions, MapOptions, MappedMemory } from "./mmap.js";
export { MAX_VIEW_BYTES, mapFd, mapFile } from "./mmap.js";
export type { FsContextMount, RemountOptions, UnmountOptions } from "./mount.js";
export { mountWithFsContext, remount, unmount } from "./mount.js";
export type { MountInfo } from "./mountinfo.js";
export {
  findMount,
  isWritableMount,
  mountOption,
  parseMountInfo,
  readMounts,
  unescapeMountField,
} from "./mountinfo.js";
export { renameNoReplace } from "./rename.js";
export { linkUnnamedFile, openUnnamedFile, unnamedFiles } from "./unnamed-file.js";
export { listXattrs } from "./xattr.js";
