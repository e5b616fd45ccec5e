// The file-type bits of st_mode, as stored in base inodes, dirents and CREATE entries (SPEC 1.5,
// 1.6). The type values are the format's own FileType; the mask is the one bit group the format
// does not name. Every module of the library takes them from here.
import { FileType } from "@daxfs/format";

export const S_IFMT = 0o170000;
export const S_IFREG: number = FileType.REGULAR;
export const S_IFDIR: number = FileType.DIR;
export const S_IFLNK: number = FileType.SYMLINK;

/** The file-type bits of `mode` (0 for an all-zero slot). */
export function fileTypeOf(mode: number): number {
  return mode & S_IFMT;
}
