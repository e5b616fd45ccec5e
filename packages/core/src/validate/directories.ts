// Directory arrays and the link structure (NOTES.md "Validity", SPEC.md 1.6.3): names, duplicates,
// children, dirent modes, then link counts and reachability from arrays indexed by inode number.
// One read and one pass per array; the reachability walk follows parent links with an explicit
// stack, marking each directory once, so a deep or cyclic tree costs no more than a flat one.

import type { ImageSource } from "../image-source.js";
import { nameProblem } from "../names.js";
import { hex, type ProblemLog } from "../problems.js";
import * as common from "./common.js";

// Copied into module locals: under CJS interop (tsx) each read of an imported binding is a getter call.
const { DIRENT_FIELDS, DIRENT_STRIDE, fileTypeName, NAME_MAX, ROOT_INO, S_IFDIR, S_IFMT } = common;

/** What the inode pass (base.ts) learnt, indexed by inode number. */
export interface InodeTable {
  inodeCount: number;
  /** Mode of every usable inode (0 for zero or broken slots). */
  modes: Uint32Array;
  nlinks: Uint32Array;
  /** Entry count of each directory whose array is in bounds. */
  dirCounts: Uint32Array;
  /** Directories whose arrays are in bounds, in inode order. */
  dirArrays: number[];
  /** Base-relative data offset of each inode. */
  dataOffsets: Float64Array;
  /** Base-relative offset -> absolute offset. */
  at: (relative: number) => number;
  inodeAt: (ino: number, field: "nlink" | "ino") => number;
}

/** Checks every directory array and the link structure; returns the number of entries read. */
export function checkDirectories(source: ImageSource, table: InodeTable, log: ProblemLog): number {
  const { inodeCount, modes, nlinks, dirCounts, dirArrays, dataOffsets, at, inodeAt } = table;
  const direntAt = (arrayStart: number, index: number, field: keyof typeof DIRENT_FIELDS) =>
    at(arrayStart + index * DIRENT_STRIDE + DIRENT_FIELDS[field]);
  const names = new Uint32Array(inodeCount + 1); // directory entries naming each inode
  const subdirs = new Uint32Array(inodeCount + 1);
  const parentOf = new Uint32Array(inodeCount + 1); // the one directory naming each directory
  let directoryEntries = 0;
  const readArray = arrayReader(source);
  for (const dir of dirArrays) {
    const count = dirCounts[dir]!;
    const arrayStart = dataOffsets[dir]!;
    const array = readArray(at(arrayStart), count * DIRENT_STRIDE);
    const arrayView = new DataView(array.buffer, array.byteOffset, array.byteLength);
    const arrayText = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
    // Names in strictly ascending byte order (as our builder writes them) cannot repeat: each is
    // compared with the previous good one, in place. Only an array out of order gets a set of its
    // names (as strings), filled with the good names before the first one out of order.
    let seen: Set<string> | null = null;
    let previousStart = -1;
    let previousLength = 0;
    for (let index = 0; index < count; index++) {
      directoryEntries++;
      const entry = readDirent(arrayView, index * DIRENT_STRIDE);
      const nameStart = index * DIRENT_STRIDE + DIRENT_FIELDS.name;
      const problem = nameProblem(array, nameStart, entry.nameLen);
      const bad = problem === undefined ? null : `name ${problem}`;
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
      if (
        seen === null &&
        (previousStart < 0 ||
          compareBytes(array, previousStart, previousLength, nameStart, entry.nameLen) < 0)
      ) {
        previousStart = nameStart;
        previousLength = entry.nameLen;
      } else {
        seen ??= goodNamesBefore(array, arrayView, arrayText, index);
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
      }
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
  return directoryEntries;
}

/**
 * Reads a directory array: into one buffer reused for every array where the source copies anyway
 * (a file), so validating 100,000 entries does not leave 27 MB of buffers for the collector.
 */
function arrayReader(source: ImageSource): (offset: number, length: number) => Uint8Array {
  const readInto = source.readInto?.bind(source);
  if (!readInto) return (offset, length) => source.read(offset, length);
  let scratch = new Uint8Array(0);
  return (offset, length) => {
    if (scratch.length < length) scratch = new Uint8Array(Math.max(length, 2 * scratch.length));
    const array = scratch.subarray(0, length);
    readInto(offset, array);
    return array;
  };
}

/** memcmp of two names inside one array, shorter first on a common prefix (SPEC 2.4's order). */
function compareBytes(bytes: Uint8Array, a: number, aLength: number, b: number, bLength: number): number {
  const length = Math.min(aLength, bLength);
  for (let i = 0; i < length; i++) {
    const difference = bytes[a + i]! - bytes[b + i]!;
    if (difference !== 0) return difference;
  }
  return aLength - bLength;
}

/** The good names (no name problem) of entries [0, end), as the keys the duplicate check uses. */
function goodNamesBefore(array: Uint8Array, view: DataView, text: Buffer, end: number): Set<string> {
  const names = new Set<string>();
  for (let index = 0; index < end; index++) {
    const nameLen = readDirent(view, index * DIRENT_STRIDE).nameLen;
    const nameStart = index * DIRENT_STRIDE + DIRENT_FIELDS.name;
    if (nameProblem(array, nameStart, nameLen) === undefined)
      names.add(text.toString("latin1", nameStart, nameStart + nameLen));
  }
  return names;
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
