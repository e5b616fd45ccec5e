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

/** How many inodes of each type an image or a build holds. */
export interface InodeTypeCounts {
  directories: number;
  files: number;
  symlinks: number;
}

/** Counts the inode types of `modes` (other types are in the total only). */
export function countInodeTypes(modes: Iterable<number>): InodeTypeCounts {
  const counts: InodeTypeCounts = { directories: 0, files: 0, symlinks: 0 };
  for (const mode of modes) {
    const type = mode & S_IFMT;
    if (type === S_IFDIR) counts.directories++;
    else if (type === S_IFREG) counts.files++;
    else if (type === S_IFLNK) counts.symlinks++;
  }
  return counts;
}

/** "1 inode", "2 inodes": a count and its noun. */
export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "2 directories, 2 regular files, 1 symlink". */
export function typeCountText(counts: InodeTypeCounts): string {
  return [
    plural(counts.directories, "directory", "directories"),
    plural(counts.files, "regular file"),
    plural(counts.symlinks, "symlink"),
  ].join(", ");
}

/**
 * "5 inodes (2 directories, 2 regular files, 1 symlink)": the one way every tool states what an
 * image holds (docs/cli.md "Counts"): inodes, not names, so mkdaxfs, daxfs-inspect and daxfs-tui
 * show the same number for the same image (a hard-linked file is one inode under several names).
 */
export function inodeCountText(total: number, counts: InodeTypeCounts): string {
  return `${plural(total, "inode")} (${typeCountText(counts)})`;
}
