// Constants and helpers shared by the base-image passes (base.ts, directories.ts).
import {
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BLOCK_SIZE,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DAXFS_NAME_MAX,
  DAXFS_ROOT_INO,
  DaxfsBaseInode,
  DaxfsDirent,
} from "@daxfs/format";
import * as fileType from "../file-type.js";

export const S_IFMT = fileType.S_IFMT;
// Hot-loop constants as plain locals: under module interop (tsx, CJS) every imported binding read
// is a getter call, which cost a third of the validation time on 100,000 inodes.
export const INODE_SIZE = DAXFS_BASE_INODE_SIZE;
export const DIRENT_SIZE = DAXFS_DIRENT_SIZE;
export const DIRENT_STRIDE = DAXFS_DIRENT_STRIDE;
export const NAME_MAX = DAXFS_NAME_MAX;
export const ROOT_INO = DAXFS_ROOT_INO;
export const S_IFREG = fileType.S_IFREG;
export const S_IFDIR = fileType.S_IFDIR;
export const S_IFLNK = fileType.S_IFLNK;
export const INODE_FIELDS = DaxfsBaseInode.offsets;
export const DIRENT_FIELDS = DaxfsDirent.offsets;

export const BLOCK = DAXFS_BLOCK_SIZE;
export const NO_OWNER = fileType.NO_OWNER;
export const fileTypeName = fileType.fileTypeName;
