// One base inode slot (docs/format.md "daxfs_base_inode"): the rules a slot must satisfy before
// anything uses it, stated once. BaseImage reads one slot at a time and throws on the first
// problem; the validator (validate/base.ts) reads the whole table through the same readInodeSlot
// and checkInodeSlot, collects every problem and adds owners, data ranges and link counts.
import { DaxfsBaseInode } from "@daxfs/format";
import { fileTypeName, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../file-type.js";
import type { ProblemSink } from "../problems.js";

/**
 * A base inode slot, with u64 fields as numbers; one no reader can address (above 2^53) reads as
 * TOO_LARGE, which checkInodeSlot refuses.
 */
export interface BaseInodeInfo {
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of a file, target length of a symlink, entry_count * 271 of a directory. */
  size: number;
  /** Base-relative (split images, regular files: backing-file) offset of the data. */
  dataOffset: number;
  nlink: number;
  /** Modification time in ns (extension BASE_MTIME; 0 in plain v5 images). */
  mtime: bigint;
}

/** A u64 above 2^53: no reader can address it. */
export const TOO_LARGE = Number.POSITIVE_INFINITY;

// Module locals: under CJS interop (tsx) each read of an imported binding is a getter call, and
// the validator reads 100,000 slots.
const FIELDS = DaxfsBaseInode.offsets;
const REGULAR = S_IFREG;
const DIRECTORY = S_IFDIR;
const SYMLINK = S_IFLNK;
const TYPE_MASK = S_IFMT;

function readU64(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  return high > 0x1fffff ? TOO_LARGE : high * 2 ** 32 + view.getUint32(at, true);
}

/**
 * The slot at byte `at` of `view`, read at the generated codec's field offsets: decoding 100,000
 * slots into fresh objects with copied reserved bytes and bigints is what made validation slow.
 */
export function readInodeSlot(view: DataView, at: number): BaseInodeInfo {
  return {
    ino: view.getUint32(at + FIELDS.ino, true),
    mode: view.getUint32(at + FIELDS.mode, true),
    uid: view.getUint32(at + FIELDS.uid, true),
    gid: view.getUint32(at + FIELDS.gid, true),
    size: readU64(view, at + FIELDS.size),
    dataOffset: readU64(view, at + FIELDS.dataOffset),
    nlink: view.getUint32(at + FIELDS.nlink, true),
    mtime: view.getBigUint64(at + FIELDS.mtime, true),
  };
}

/**
 * Checks the slot of inode `ino` (slot `ino - 1`, at absolute offset `slotAt`): null for an unused
 * slot (ino 0, mode 0: the public mkdaxfs leaves them for extra hard-link names); false after
 * reporting a number that does not match the slot, a type other than regular file, directory or
 * symlink, or a size or data offset too large to address; true when the slot may be used.
 */
export function checkInodeSlot(
  slot: BaseInodeInfo,
  ino: number,
  slotAt: number,
  sink: ProblemSink,
): boolean | null {
  if (slot.ino === 0 && slot.mode === 0) return null;
  const structure = `inode ${ino}`;
  if (slot.ino !== ino) {
    sink.add({
      offset: slotAt + FIELDS.ino,
      structure,
      field: "ino",
      expected: String(ino),
      actual: String(slot.ino),
      message: `base inode slot ${ino - 1}: records inode ${slot.ino}`,
      kind: "corrupt",
    });
    return false;
  }
  const type = slot.mode & TYPE_MASK;
  if (type !== REGULAR && type !== DIRECTORY && type !== SYMLINK) {
    sink.add({
      offset: slotAt + FIELDS.mode,
      structure,
      field: "mode",
      expected: "a regular file, directory or symlink",
      actual: fileTypeName(slot.mode),
      message: `base inode ${ino}: mode 0${slot.mode.toString(8)} is not a regular file, directory or symlink`,
      kind: "corrupt",
    });
    return false;
  }
  if (slot.size === TOO_LARGE || slot.dataOffset === TOO_LARGE) {
    const field = slot.size === TOO_LARGE ? "size" : "dataOffset";
    sink.add({
      offset: slotAt + FIELDS[field],
      structure,
      field: field === "size" ? "size" : "data_offset",
      expected: `<= ${Number.MAX_SAFE_INTEGER}`,
      actual: "a value above 2^53",
      message: `base inode ${ino}: ${field === "size" ? "size" : "data_offset"} is too large to address`,
      kind: "corrupt",
    });
    return false;
  }
  return true;
}
