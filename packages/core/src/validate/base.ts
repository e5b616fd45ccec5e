// Base image checks (SPEC.md 1.6, 4.3; NOTES.md layout facts 1, 5, 6 and "Validity"). One pass over
// the inode table, one over every directory array, then link counts and reachability from arrays
// indexed by inode number: time and memory are linear in the metadata, and no walk recurses, so a
// deep or cyclic tree costs no more than a flat one.
import {
  BaseFlags,
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BASE_MAGIC,
  DAXFS_BLOCK_SIZE,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DAXFS_NAME_MAX,
  DAXFS_ROOT_INO,
  DAXFS_VERSION,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsDirent,
  FileType,
} from "@daxfs/format";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "./problems.js";
import type { Region } from "./regions.js";

const S_IFMT = 0o170000;
// Hot-loop constants as plain locals: under module interop (tsx, CJS) every imported binding read
// is a getter call, which cost a third of the validation time on 100,000 inodes.
const INODE_SIZE = DAXFS_BASE_INODE_SIZE;
const DIRENT_SIZE = DAXFS_DIRENT_SIZE;
const DIRENT_STRIDE = DAXFS_DIRENT_STRIDE;
const NAME_MAX = DAXFS_NAME_MAX;
const ROOT_INO = DAXFS_ROOT_INO;
const S_IFREG: number = FileType.REGULAR;
const S_IFDIR: number = FileType.DIR;
const S_IFLNK: number = FileType.SYMLINK;
const INODE_FIELDS = DaxfsBaseInode.offsets;
const DIRENT_FIELDS = DaxfsDirent.offsets;

const BLOCK = DAXFS_BLOCK_SIZE;
/** A u64 above 2^53: no reader can address it. */
const TOO_LARGE = Number.POSITIVE_INFINITY;

function readU64(view: DataView, at: number): number {
  const high = view.getUint32(at + 4, true);
  return high > 0x1fffff ? TOO_LARGE : high * 2 ** 32 + view.getUint32(at, true);
}

/**
 * The fields the checks need from one inode slot, read at the offsets of the generated codec
 * (INODE_FIELDS) from one DataView over the whole table: decoding 100,000 slots into
 * fresh objects with copied reserved bytes and bigints is what made validation slow.
 */
function readInodeSlot(view: DataView, at: number) {
  const o = INODE_FIELDS;
  return {
    ino: view.getUint32(at + o.ino, true),
    mode: view.getUint32(at + o.mode, true),
    size: readU64(view, at + o.size),
    dataOffset: readU64(view, at + o.dataOffset),
    nlink: view.getUint32(at + o.nlink, true),
  };
}

/** What the delta-log checks need to know about the base. */
export interface BaseFacts {
  inodeCount: number;
  /** Mode of every usable inode by number (index 0 unused); 0 for zero or broken slots. */
  modes: Uint32Array;
  /** Regular-file data lives in a backing file (base flag EXTERNAL_DATA). */
  externalData: boolean;
  directoryEntries: number;
}

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
      return `unsupported type ${hex(mode & S_IFMT)}`;
  }
}

/** A dirent or delta name: 1..255 bytes, no '/' or NUL, not "." or "..". Returns why not, or null. */
export function nameProblem(bytes: Uint8Array, start: number, length: number): string | null {
  if (length < 1 || length > NAME_MAX) return `name length ${length} is outside 1..${NAME_MAX}`;
  for (let i = start; i < start + length; i++) {
    const byte = bytes[i];
    if (byte === 0x2f) return "name contains '/'";
    if (byte === 0) return "name contains a NUL byte";
  }
  if (bytes[start] === 0x2e && (length === 1 || (length === 2 && bytes[start + 1] === 0x2e))) {
    return `name is "${length === 1 ? "." : ".."}"`;
  }
  return null;
}

interface DataItem {
  start: number;
  end: number;
  ino: number;
}

export function checkBase(
  source: ImageSource,
  base: Region,
  log: ProblemLog,
  backingSize?: number,
): BaseFacts | null {
  const at = (relative: number) => base.offset + relative;
  if (base.size < DaxfsBaseSuper.size) {
    log.corrupt(
      at(0),
      "base_super",
      "size",
      `>= ${DaxfsBaseSuper.size}`,
      String(base.size),
      "base region too small for its superblock",
    );
    return null;
  }
  const bsuper = DaxfsBaseSuper.decode(source.read(base.offset, DaxfsBaseSuper.size), 0);
  const superProblem = (
    field: keyof DaxfsBaseSuper,
    cName: string,
    expected: string,
    actual: string,
    message: string,
  ) => log.corrupt(at(DaxfsBaseSuper.offsets[field]), "base_super", cName, expected, actual, message);
  if (bsuper.magic !== DAXFS_BASE_MAGIC) {
    superProblem("magic", "magic", hex(DAXFS_BASE_MAGIC), hex(bsuper.magic), "bad base image magic");
    return null;
  }
  if (bsuper.version !== DAXFS_VERSION) {
    log.unsupported(
      at(DaxfsBaseSuper.offsets.version),
      "base_super",
      "version",
      "5",
      String(bsuper.version),
      "unknown base version",
    );
    return null;
  }
  if ((bsuper.flags & ~BaseFlags.EXTERNAL_DATA) !== 0) {
    log.unsupported(
      at(DaxfsBaseSuper.offsets.flags),
      "base_super",
      "flags",
      "0 or 1 (EXTERNAL_DATA)",
      hex(bsuper.flags),
      "unknown base flags",
    );
  }
  if (bsuper.totalSize > BigInt(base.size)) {
    superProblem(
      "totalSize",
      "total_size",
      `<= ${base.size} (superblock base_size)`,
      String(bsuper.totalSize),
      "base image larger than its region",
    );
    return null;
  }
  const totalSize = Number(bsuper.totalSize);
  if (bsuper.inodeCount === 0) {
    superProblem("inodeCount", "inode_count", ">= 1", "0", "base image has no inodes");
    return null;
  }
  const tableBytes = BigInt(bsuper.inodeCount) * BigInt(INODE_SIZE);
  if (bsuper.inodeOffset < BigInt(DaxfsBaseSuper.size) || bsuper.inodeOffset % BigInt(BLOCK) !== 0n) {
    superProblem(
      "inodeOffset",
      "inode_offset",
      "a multiple of 4096, >= 4096",
      hex(bsuper.inodeOffset),
      "inode table overlaps the base superblock or is unaligned",
    );
    return null;
  }
  if (bsuper.inodeOffset + tableBytes > bsuper.totalSize) {
    superProblem(
      "inodeCount",
      "inode_count",
      `<= ${(bsuper.totalSize - bsuper.inodeOffset) / 64n}`,
      String(bsuper.inodeCount),
      "inode table runs past the base image",
    );
    return null;
  }
  const inodeOffset = Number(bsuper.inodeOffset);
  const inodeCount = bsuper.inodeCount;
  const dataStart = inodeOffset + inodeCount * INODE_SIZE;
  if (
    bsuper.dataOffset < BigInt(dataStart) ||
    bsuper.dataOffset > bsuper.totalSize ||
    bsuper.dataOffset % BigInt(BLOCK) !== 0n
  ) {
    superProblem(
      "dataOffset",
      "data_offset",
      `a multiple of 4096 in [${dataStart}, ${totalSize}]`,
      String(bsuper.dataOffset),
      "data area overlaps the inode table or lies outside the base",
    );
    return null;
  }
  const dataAreaStart = Number(bsuper.dataOffset);
  if (bsuper.rootInode !== ROOT_INO) {
    superProblem(
      "rootInode",
      "root_inode",
      String(ROOT_INO),
      String(bsuper.rootInode),
      "root must be inode 1 (OVERVIEW.md 2)",
    );
    return null;
  }
  const externalData = (bsuper.flags & BaseFlags.EXTERNAL_DATA) !== 0;

  // Inode table: one read, each slot read at the generated codec's field offsets (readInodeSlot).
  const table = source.read(at(inodeOffset), inodeCount * INODE_SIZE);
  const tableView = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const modes = new Uint32Array(inodeCount + 1);
  const nlinks = new Uint32Array(inodeCount + 1);
  const dirCounts = new Uint32Array(inodeCount + 1);
  const dirArrays: number[] = []; // inode numbers of directories whose arrays are in bounds
  const dataOffsets = new Float64Array(inodeCount + 1);
  const items: DataItem[] = [];
  const direntAt = (arrayStart: number, index: number, field: keyof typeof DIRENT_FIELDS) =>
    at(arrayStart + index * DIRENT_STRIDE + DIRENT_FIELDS[field]);
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
    if (inode.ino === 0 && inode.mode === 0) continue; // an unused slot (NOTES.md layout fact 6)
    if (inode.ino !== ino) {
      log.corrupt(
        inodeAt(ino, "ino"),
        `inode ${ino}`,
        "ino",
        String(ino),
        String(inode.ino),
        "inode number does not match its slot",
      );
      continue;
    }
    const type = inode.mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFDIR && type !== S_IFLNK) {
      log.corrupt(
        inodeAt(ino, "mode"),
        `inode ${ino}`,
        "mode",
        "a regular file, directory or symlink",
        fileTypeName(inode.mode),
        "unsupported file type",
      );
      continue;
    }
    // Offsets and sizes must be exact numbers for any reader, even where they are not used.
    if (inode.size === TOO_LARGE || inode.dataOffset === TOO_LARGE) {
      const field = inode.size === TOO_LARGE ? "size" : "dataOffset";
      log.corrupt(
        inodeAt(ino, field),
        `inode ${ino}`,
        field === "size" ? "size" : "data_offset",
        `<= ${Number.MAX_SAFE_INTEGER}`,
        String(tableView.getBigUint64((ino - 1) * INODE_SIZE + INODE_FIELDS[field], true)),
        "value too large to address",
      );
      continue;
    }
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
        items.push({
          start: inode.dataOffset,
          end: inode.dataOffset + count * DIRENT_STRIDE,
          ino,
        });
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
        items.push({ start: inode.dataOffset, end: inode.dataOffset + size + 1, ino });
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
        items.push({ start: inode.dataOffset, end: inode.dataOffset + inode.size, ino });
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

  // Directory arrays: names, targets, and the link structure.
  const names = new Uint32Array(inodeCount + 1); // directory entries naming each inode
  const subdirs = new Uint32Array(inodeCount + 1);
  const parentOf = new Uint32Array(inodeCount + 1); // the one directory naming each directory
  let directoryEntries = 0;
  for (const dir of dirArrays) {
    const count = dirCounts[dir]!;
    const arrayStart = dataOffsets[dir]!;
    const array = source.read(at(arrayStart), count * DIRENT_STRIDE);
    const arrayView = new DataView(array.buffer, array.byteOffset, array.byteLength);
    const arrayText = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    const seen = new Set<string>();
    for (let index = 0; index < count; index++) {
      directoryEntries++;
      const entry = readDirent(arrayView, index * DIRENT_STRIDE);
      const nameStart = index * DIRENT_STRIDE + DIRENT_FIELDS.name;
      const bad = nameProblem(array, nameStart, entry.nameLen);
      if (bad) {
        log.corrupt(
          direntAt(arrayStart, index, entry.nameLen < 1 || entry.nameLen > NAME_MAX ? "nameLen" : "name"),
          `dirent ${dir}[${index}]`,
          entry.nameLen < 1 || entry.nameLen > NAME_MAX ? "name_len" : "name",
          "1..255 bytes, no '/' or NUL, not . or ..",
          describeName(array.subarray(nameStart, nameStart + NAME_MAX), entry.nameLen),
          bad,
        );
        continue;
      }
      const key = arrayText.toString("latin1", nameStart, nameStart + entry.nameLen);
      if (seen.has(key)) {
        log.corrupt(
          direntAt(arrayStart, index, "name"),
          `dirent ${dir}[${index}]`,
          "name",
          "a name unique in its directory",
          describeName(array.subarray(nameStart, nameStart + NAME_MAX), entry.nameLen),
          "duplicate name",
        );
        continue;
      }
      seen.add(key);
      const child = entry.ino;
      if (child < 1 || child > inodeCount) {
        log.corrupt(
          direntAt(arrayStart, index, "ino"),
          `dirent ${dir}[${index}]`,
          "ino",
          `1..${inodeCount}`,
          String(child),
          "entry names an inode outside the table",
        );
        continue;
      }
      if (modes[child] === 0) {
        log.corrupt(
          direntAt(arrayStart, index, "ino"),
          `dirent ${dir}[${index}]`,
          "ino",
          "a used inode slot",
          `unused or broken slot ${child}`,
          "entry names an unused inode",
        );
        continue;
      }
      if (entry.mode !== modes[child]) {
        log.corrupt(
          direntAt(arrayStart, index, "mode"),
          `dirent ${dir}[${index}]`,
          "mode",
          `${hex(modes[child]!)} (inode ${child}'s mode)`,
          hex(entry.mode),
          "entry mode differs from its inode",
        );
      }
      if (child === ROOT_INO) {
        log.corrupt(
          direntAt(arrayStart, index, "ino"),
          `dirent ${dir}[${index}]`,
          "ino",
          "not the root (root is named by no entry)",
          "1",
          "entry names the root directory",
        );
        continue;
      }
      names[child]!++;
      if ((modes[child]! & S_IFMT) === S_IFDIR) {
        if (parentOf[child] !== 0) {
          log.corrupt(
            direntAt(arrayStart, index, "ino"),
            `dirent ${dir}[${index}]`,
            "ino",
            `a directory named once (already in directory ${parentOf[child]})`,
            String(child),
            "directory has two parents",
          );
          continue;
        }
        parentOf[child] = dir;
        subdirs[dir]!++;
      }
    }
  }

  checkLinksAndReachability(inodeCount, modes, nlinks, names, subdirs, parentOf, inodeAt, log);
  return { inodeCount, modes, externalData, directoryEntries };
}

/** The dirent fields the checks need, at the generated codec's offsets (see readInodeSlot). */
function readDirent(view: DataView, at: number) {
  const o = DIRENT_FIELDS;
  return {
    ino: view.getUint32(at + o.ino, true),
    mode: view.getUint32(at + o.mode, true),
    nameLen: view.getUint16(at + o.nameLen, true),
  };
}

function describeName(name: Uint8Array, length: number): string {
  const shown = Buffer.from(name.buffer, name.byteOffset, Math.min(length, name.length, 64)).toString(
    "latin1",
  );
  return `${JSON.stringify(shown)} (${length} bytes)`;
}

/** Two data items sharing a byte: sort by start, compare neighbours (O(n log n)). */
function checkDataOverlaps(items: DataItem[], at: (relative: number) => number, log: ProblemLog): void {
  items.sort((a, b) => a.start - b.start);
  let previous: DataItem | undefined;
  for (const item of items) {
    if (previous && item.start < previous.end) {
      log.corrupt(
        at(item.start),
        `inode ${item.ino}`,
        "data_offset",
        `>= ${previous.end} (end of inode ${previous.ino}'s data)`,
        String(item.start),
        "data overlaps another inode's data",
      );
    }
    if (!previous || item.end > previous.end) previous = item;
  }
}

/**
 * NOTES.md "Validity": files and symlinks have nlink = names; directories 2 + subdirectories and
 * exactly one parent; every directory reachable from root. Reachability follows parent links
 * upward with an explicit stack, marking each directory once, so the cost is linear even for
 * cycles or a chain as deep as the inode table.
 */
function checkLinksAndReachability(
  inodeCount: number,
  modes: Uint32Array,
  nlinks: Uint32Array,
  names: Uint32Array,
  subdirs: Uint32Array,
  parentOf: Uint32Array,
  inodeAt: (ino: number, field: "nlink" | "ino") => number,
  log: ProblemLog,
): void {
  const UNKNOWN = 0;
  const VISITING = 1;
  const REACHABLE = 2;
  const ORPHAN = 3;
  const state = new Uint8Array(inodeCount + 1);
  state[ROOT_INO] = REACHABLE;
  const stack: number[] = [];
  for (let ino = 1; ino <= inodeCount; ino++) {
    const type = modes[ino]! & S_IFMT;
    if (type === 0) continue;
    if (type === S_IFDIR) {
      const expected = 2 + subdirs[ino]!;
      if (nlinks[ino] !== expected) {
        log.corrupt(
          inodeAt(ino, "nlink"),
          `inode ${ino}`,
          "nlink",
          `${expected} (2 + ${subdirs[ino]} subdirectories)`,
          String(nlinks[ino]),
          "directory link count is wrong",
        );
      }
      if (state[ino] !== UNKNOWN) continue;
      let cursor = ino;
      while (state[cursor] === UNKNOWN) {
        state[cursor] = VISITING;
        stack.push(cursor);
        cursor = parentOf[cursor]!;
        if (cursor === 0) break;
      }
      // Reachable only if the walk ended at a directory already known to hang off root.
      const verdict = cursor !== 0 && state[cursor] === REACHABLE ? REACHABLE : ORPHAN;
      const inCycle = cursor !== 0 && state[cursor] === VISITING;
      for (const dir of stack) state[dir] = verdict;
      if (verdict === ORPHAN) {
        const first = stack[0]!;
        log.corrupt(
          inodeAt(first, "ino"),
          `inode ${first}`,
          "parent",
          "a directory reachable from root",
          inCycle
            ? `a cycle through directory ${cursor}`
            : parentOf[first] === 0
              ? "no directory entry"
              : `unreachable directory ${parentOf[first]}`,
          "directory is not reachable from root",
        );
      }
      stack.length = 0;
    } else {
      const count = names[ino]!;
      if (count === 0) {
        log.corrupt(
          inodeAt(ino, "nlink"),
          `inode ${ino}`,
          "nlink",
          "named by at least one directory entry",
          "0 entries",
          `${fileTypeName(modes[ino]!)} is not reachable`,
        );
      } else if (nlinks[ino] !== count) {
        log.corrupt(
          inodeAt(ino, "nlink"),
          `inode ${ino}`,
          "nlink",
          `${count} (directory entries naming it)`,
          String(nlinks[ino]),
          "link count is wrong",
        );
      }
    }
  }
}
