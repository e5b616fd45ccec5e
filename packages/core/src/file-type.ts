// Inode attributes as every part of the library interprets them: the file-type bits of st_mode, as
// stored in base inodes, dirents and CREATE entries (SPEC 1.5, 1.6), the permission bits SETATTR
// may change, and the one uid/gid no inode may own (docs/semantics.md "Validity"). The type values
// are the format's own FileType; the mask is the one bit group the format does not name. The
// builder, the branch writer, replay and the validator take them from here.
import { FileType } from "@daxfs/format";

export const S_IFMT = 0o170000;
export const S_IFREG: number = FileType.REGULAR;
export const S_IFDIR: number = FileType.DIR;
export const S_IFLNK: number = FileType.SYMLINK;

/** The file-type bits of `mode` (0 for an all-zero slot). */
export function fileTypeOf(mode: number): number {
  return mode & S_IFMT;
}

/** Permission, set-id and sticky bits: what chmod and SETATTR may change (the type bits stay). */
export const PERMISSION_BITS = 0o7777;

/** (uid_t)-1 / (gid_t)-1: chown(2)'s "unchanged", the kernel's INVALID_UID; never a stored owner. */
export const NO_OWNER = 0xffffffff;

/** "regular file", "directory", "symlink", "none" (mode 0) or "unsupported type 0x...". */
export function fileTypeName(mode: number): string {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "regular file";
    case S_IFDIR:
      return "directory";
    case S_IFLNK:
      return "symlink";
    case 0:
      return "none";
    default:
      return `unsupported type 0x${(mode & S_IFMT).toString(16)}`;
  }
}
