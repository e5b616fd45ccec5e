// Base image checks (SPEC.md 1.6, 4.3; NOTES.md layout facts 1, 5, 6 and "Validity"): the base
// superblock and each inode slot through the readers' decoders (base/base-super.ts,
// base/base-inode.ts), then what only a whole pass sees (owners, data ranges and their overlaps),
// then the directory arrays and link structure (directories.ts). Time and memory are linear in
// the metadata.
import { SuperFeature } from "@daxfs/format";
import { checkInodeSlot, readInodeSlot } from "../base/base-inode.js";
import { decodeBaseSuper } from "../base/base-super.js";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "../problems.js";
import * as common from "./common.js";
import { checkDirectories } from "./directories.js";
import type { Region } from "./regions.js";

// Copied into module locals: under CJS interop (tsx) each read of an imported binding is a getter call.
const {
  BLOCK,
  DIRENT_SIZE,
  DIRENT_STRIDE,
  fileTypeName,
  INODE_FIELDS,
  INODE_SIZE,
  NO_OWNER,
  ROOT_INO,
  S_IFDIR,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
} = common;

/** What the delta-log checks need to know about the base. */
export interface BaseFacts {
  inodeCount: number;
  /** Mode of every usable inode by number (index 0 unused); 0 for zero or broken slots. */
  modes: Uint32Array;
  /** Regular-file data lives in a backing file (base flag EXTERNAL_DATA). */
  externalData: boolean;
  directoryEntries: number;
}

/**
 * The data items (file data, directory arrays, symlink targets) as base-relative [start, end) ranges
 * with their inode, in typed arrays: one object per item kept 100,000 objects alive through the
 * pass for the collector to copy (docs/benchmarks.md "Validator").
 */
class DataItems {
  count = 0;
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  readonly inos: Uint32Array;

  constructor(capacity: number) {
    this.starts = new Float64Array(capacity);
    this.ends = new Float64Array(capacity);
    this.inos = new Uint32Array(capacity);
  }

  /** At most one item per inode, so `capacity` = inode count always suffices. */
  push(start: number, end: number, ino: number): void {
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.inos[this.count] = ino;
    this.count++;
  }
}

export function checkBase(
  source: ImageSource,
  base: Region,
  log: ProblemLog,
  backingSize?: number,
  /** Superblock feature bits: without BASE_MTIME the mtime bytes are reserved and must be 0. */
  features = 0,
): BaseFacts | null {
  const mtimeAnnounced = (features & SuperFeature.BASE_MTIME) !== 0;
  const at = (relative: number) => base.offset + relative;
  const layout = decodeBaseSuper(source, base, log);
  if (!layout) return null;
  const { inodeOffset, inodeCount, totalSize, externalData, dataOffset: dataAreaStart } = layout;

  // Inode table: one read, each slot read at the generated codec's field offsets (readInodeSlot).
  const table = source.read(at(inodeOffset), inodeCount * INODE_SIZE);
  const tableView = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const modes = new Uint32Array(inodeCount + 1);
  const nlinks = new Uint32Array(inodeCount + 1);
  const dirCounts = new Uint32Array(inodeCount + 1);
  const dirArrays: number[] = []; // inode numbers of directories whose arrays are in bounds
  const dataOffsets = new Float64Array(inodeCount + 1);
  const items = new DataItems(inodeCount);
  const inodeAt = (ino: number, field: keyof typeof INODE_FIELDS) =>
    at(inodeOffset + (ino - 1) * INODE_SIZE + INODE_FIELDS[field]);

  /** Checks that [offset, offset+length) is an aligned item inside the data area. */
  const checkItem = (
    ino: number,
    what: string,
    offset: number,
    length: number,
    sizeField: "size" | "dataOffset",
  ): boolean => {
    if (offset % BLOCK !== 0) {
      log.corrupt(
        inodeAt(ino, "dataOffset"),
        `inode ${ino}`,
        "data_offset",
        "a multiple of 4096",
        hex(offset),
        `${what} starts unaligned`,
      );
      return false;
    }
    if (offset < dataAreaStart || offset + length > totalSize) {
      log.corrupt(
        inodeAt(ino, sizeField),
        `inode ${ino}`,
        sizeField === "size" ? "size" : "data_offset",
        `[data_offset, +${length}) inside the data area [${dataAreaStart}, ${totalSize})`,
        `[${offset}, ${offset + length})`,
        `${what} lies outside the data area`,
      );
      return false;
    }
    return true;
  };

  for (let ino = 1; ino <= inodeCount; ino++) {
    const inode = readInodeSlot(tableView, (ino - 1) * INODE_SIZE);
    // The readers' slot rules (base/base-inode.ts): unused slot, number, type, addressable sizes.
    if (checkInodeSlot(inode, ino, inodeAt(ino, "ino") - INODE_FIELDS.ino, log) !== true) continue;
    const type = inode.mode & S_IFMT;
    // (uid_t)-1 / (gid_t)-1 is no owner: the kernel maps it to INVALID_UID and not even root could
    // use such an inode (NOTES.md "Validity"; kernel/validate.c refuses it too). Independent of the
    // checks below, so they still run.
    for (const field of ["uid", "gid"] as const) {
      if (inode[field] === NO_OWNER)
        log.corrupt(
          inodeAt(ino, field),
          `inode ${ino}`,
          field,
          "an owner other than 4294967295",
          String(NO_OWNER),
          `${field} 4294967295 ((${field}_t)-1) is not a valid owner`,
        );
    }
    if (!mtimeAnnounced && inode.mtime !== 0n)
      log.corrupt(
        inodeAt(ino, "mtime"),
        `inode ${ino}`,
        "mtime",
        "0 (superblock feature base_mtime not set)",
        String(inode.mtime),
        "mtime stored in an image whose superblock does not announce base_mtime",
      );
    const external = externalData && type === S_IFREG;
    const dataLimit = external ? (backingSize ?? Number.MAX_SAFE_INTEGER) : totalSize;
    if (inode.size === 0 && inode.dataOffset > dataLimit) {
      log.corrupt(
        inodeAt(ino, "dataOffset"),
        `inode ${ino}`,
        "data_offset",
        `<= ${dataLimit}`,
        String(inode.dataOffset),
        "empty inode's data offset points outside the image",
      );
      continue;
    }
    modes[ino] = inode.mode;
    nlinks[ino] = inode.nlink;
    dataOffsets[ino] = inode.dataOffset;
    if (type === S_IFDIR) {
      if (inode.size % DIRENT_SIZE !== 0) {
        log.corrupt(
          inodeAt(ino, "size"),
          `inode ${ino}`,
          "size",
          "a multiple of 271",
          String(inode.size),
          "directory size is not a whole number of entries",
        );
        continue;
      }
      const count = inode.size / DIRENT_SIZE;
      if (count === 0) continue;
      // NOTES.md layout fact 1: the array occupies count x 272 bytes.
      if (checkItem(ino, "directory array", inode.dataOffset, count * DIRENT_STRIDE, "size")) {
        dirCounts[ino] = count;
        dirArrays.push(ino);
        items.push(inode.dataOffset, inode.dataOffset + count * DIRENT_STRIDE, ino);
      }
    } else if (type === S_IFLNK) {
      if (inode.size === 0 || inode.size >= BLOCK) {
        log.corrupt(
          inodeAt(ino, "size"),
          `inode ${ino}`,
          "size",
          "1..4095",
          String(inode.size),
          "symlink target length out of range",
        );
        continue;
      }
      // SPEC.md 1.6.4: target plus its NUL inside the allocation.
      if (checkItem(ino, "symlink target", inode.dataOffset, inode.size + 1, "size")) {
        const size = inode.size;
        const target = source.read(at(inode.dataOffset), size + 1);
        const nul = target.indexOf(0);
        if (nul !== size) {
          log.corrupt(
            at(inode.dataOffset + (nul < 0 ? size : nul)),
            `inode ${ino}`,
            "target",
            `${size} non-NUL bytes then a NUL`,
            nul < 0 ? "no NUL terminator" : `a NUL at byte ${nul}`,
            "symlink target is not NUL-terminated at its length",
          );
        }
        items.push(inode.dataOffset, inode.dataOffset + size + 1, ino);
      }
    } else if (inode.size > 0) {
      if (externalData) {
        // Split mode: the data is in the backing file; its bounds only when its size is known.
        if (inode.dataOffset % BLOCK !== 0) {
          log.corrupt(
            inodeAt(ino, "dataOffset"),
            `inode ${ino}`,
            "data_offset",
            "a multiple of 4096",
            hex(inode.dataOffset),
            "backing-file data starts unaligned",
          );
        } else if (backingSize !== undefined && inode.dataOffset + inode.size > backingSize) {
          log.corrupt(
            inodeAt(ino, "size"),
            `inode ${ino}`,
            "size",
            `[data_offset, +size) inside the ${backingSize}-byte backing file`,
            `[${inode.dataOffset}, ${inode.dataOffset + inode.size})`,
            "file data runs past the backing file",
          );
        }
      } else if (checkItem(ino, "file data", inode.dataOffset, inode.size, "size")) {
        items.push(inode.dataOffset, inode.dataOffset + inode.size, ino);
      }
    }
  }
  if ((modes[ROOT_INO]! & S_IFMT) !== S_IFDIR) {
    log.corrupt(
      inodeAt(ROOT_INO, "mode"),
      "inode 1",
      "mode",
      "directory",
      fileTypeName(modes[ROOT_INO]!),
      "root is not a directory",
    );
    return null;
  }
  checkDataOverlaps(items, at, log);

  // Directory arrays: names, targets, and the link structure (directories.ts).
  const directoryEntries = checkDirectories(
    source,
    { inodeCount, modes, nlinks, dirCounts, dirArrays, dataOffsets, at, inodeAt },
    log,
  );
  return { inodeCount, modes, externalData, directoryEntries };
}

/**
 * Two data items sharing a byte: in start order, compare neighbours (O(n log n); O(n) when the
 * items come in start order already, as a builder that lays data out in inode order leaves them).
 */
function checkDataOverlaps(items: DataItems, at: (relative: number) => number, log: ProblemLog): void {
  const { count, starts, ends, inos } = items;
  let sorted = true;
  for (let i = 1; i < count && sorted; i++) sorted = starts[i - 1]! <= starts[i]!;
  let order: ArrayLike<number> | null = null;
  if (!sorted) {
    const indexes = Array.from({ length: count }, (_, i) => i);
    // Stable, as the sort of item objects before: equal starts keep inode order.
    indexes.sort((a, b) => starts[a]! - starts[b]!);
    order = indexes;
  }
  let previous = -1;
  for (let k = 0; k < count; k++) {
    const item = order ? order[k]! : k;
    if (previous >= 0 && starts[item]! < ends[previous]!) {
      log.corrupt(
        at(starts[item]!),
        `inode ${inos[item]}`,
        "data_offset",
        `>= ${ends[previous]} (end of inode ${inos[previous]}'s data)`,
        String(starts[item]),
        "data overlaps another inode's data",
      );
    }
    if (previous < 0 || ends[item]! > ends[previous]!) previous = item;
  }
}
