// Decoding of branch logs (SPEC 1.5, 3.7): every field is untrusted; a violation is a
// CorruptImageError carrying the entry's absolute offset, never a RangeError from a codec.
import {
  DAXFS_DELTA_HDR_SIZE,
  DaxfsDeltaCreate,
  DaxfsDeltaDelete,
  DaxfsDeltaHdr,
  DaxfsDeltaLink,
  DaxfsDeltaRename,
  DaxfsDeltaSetattr,
  DaxfsDeltaSymlink,
  DaxfsDeltaTruncate,
  DaxfsDeltaUtimes,
  DaxfsDeltaWrite,
  DeltaType,
} from "@daxfs/format";
import { CorruptImageError } from "../errors.js";
import type { ImageSource } from "../image-source.js";
import { decodeName, nameProblem } from "../names.js";
import {
  type DeltaEntry,
  deltaTypeName,
  PAYLOAD_SIZE,
  SETATTR_KNOWN_BITS,
  SYMLINK_TARGET_MAX,
  UTIMES_KNOWN_BITS,
} from "./types.js";

/**
 * Reads a log region through a sliding window, so that a log in a file is read in chunks and a
 * log in memory is never copied. WRITE data is never needed here: after a jump over a large entry
 * the window shrinks to one block, so a log of big writes is not read through.
 */
class LogWindow {
  private static readonly SIZE = 64 * 1024;
  private static readonly AFTER_JUMP = 4096;
  private start = 0;
  private bytes: Uint8Array = new Uint8Array(0);
  constructor(
    private readonly source: ImageSource,
    private readonly end: number,
  ) {}

  /** `length` bytes at absolute `offset`; the caller has checked they lie before `end`. */
  read(offset: number, length: number): Uint8Array {
    if (offset < this.start || offset + length > this.start + this.bytes.length) {
      const jumped = offset > this.start + this.bytes.length + LogWindow.SIZE;
      const span = Math.min(
        Math.max(length, jumped ? LogWindow.AFTER_JUMP : LogWindow.SIZE),
        this.end - offset,
      );
      this.bytes = this.source.read(offset, span);
      this.start = offset;
    }
    return this.bytes.subarray(offset - this.start, offset - this.start + length);
  }
}

export interface LogRegion {
  /** Absolute offset and size of the area the log must lie in (the delta region). */
  offset: number;
  size: number;
}

export interface DecodedRange {
  entries: DeltaEntry[];
  /** Log-relative offset where decoding stopped: `to`, or an entry with total_size 0. */
  end: number;
}

/**
 * Decodes the entries of the log at `logOffset` between log-relative offsets `from` and `to`
 * (`from` must be an entry boundary). Stops at `to` or at an entry whose total_size is 0 (SPEC 1.5).
 */
export function decodeDeltaRange(
  source: ImageSource,
  logOffset: number,
  from: number,
  to: number,
  region?: LogRegion,
): DecodedRange {
  return decodeInto([], source, logOffset, from, to, region);
}

/**
 * A whole branch log up to its first entry that does not decode, and why that one does not: what a
 * viewer can still show of a corrupt log (the readers stop with the error instead).
 */
export function decodeDeltaLogPrefix(
  source: ImageSource,
  logOffset: number,
  logSize: number,
  region?: LogRegion,
): { entries: DeltaEntry[]; error?: CorruptImageError } {
  const entries: DeltaEntry[] = [];
  try {
    decodeInto(entries, source, logOffset, 0, logSize, region);
    return { entries };
  } catch (error) {
    if (!(error instanceof CorruptImageError)) throw error;
    return { entries, error };
  }
}

/** decodeDeltaRange, appending to `entries` as it goes, so a caller keeps what preceded an error. */
function decodeInto(
  entries: DeltaEntry[],
  source: ImageSource,
  logOffset: number,
  from: number,
  to: number,
  region?: LogRegion,
): DecodedRange {
  checkLogBounds(source, logOffset, to, region);
  const window = new LogWindow(source, logOffset + to);
  const context = new EntryContext(window);
  let pos = from;
  while (pos < to) {
    const at = logOffset + pos;
    const remaining = to - pos;
    if (remaining < DAXFS_DELTA_HDR_SIZE) {
      throw new CorruptImageError(
        `delta log: ${remaining} bytes at the log end are too short for an entry header`,
        at,
      );
    }
    const hdr = DaxfsDeltaHdr.decode(window.read(at, DAXFS_DELTA_HDR_SIZE));
    if (hdr.totalSize === 0) return { entries, end: pos };
    if (hdr.totalSize < DAXFS_DELTA_HDR_SIZE) {
      throw new CorruptImageError(`delta entry: total_size ${hdr.totalSize} is smaller than its header`, at);
    }
    if (hdr.totalSize > remaining) {
      throw new CorruptImageError(
        `delta entry: total_size ${hdr.totalSize} runs past the log end (${remaining} bytes left)`,
        at,
      );
    }
    entries.push(decodeEntry(context, at, hdr.type, hdr.totalSize, hdr.ino, hdr.timestamp));
    pos += hdr.totalSize;
  }
  return { entries, end: pos };
}

/** Decodes a whole branch log (`logSize` bytes at absolute `logOffset`), bounds-checked. */
export function decodeDeltaLog(
  source: ImageSource,
  logOffset: number,
  logSize: number,
  region?: LogRegion,
): DeltaEntry[] {
  return decodeDeltaRange(source, logOffset, 0, logSize, region).entries;
}

function checkLogBounds(source: ImageSource, logOffset: number, logSize: number, region?: LogRegion): void {
  if (!Number.isSafeInteger(logOffset) || !Number.isSafeInteger(logSize) || logOffset < 0 || logSize < 0) {
    throw new CorruptImageError(`delta log: invalid extent ${logOffset}+${logSize}`);
  }
  if (region && (logOffset < region.offset || logOffset + logSize > region.offset + region.size)) {
    throw new CorruptImageError(
      `delta log of ${logSize} bytes lies outside the delta region [${region.offset}, ${region.offset + region.size})`,
      logOffset,
    );
  }
  if (logOffset + logSize > source.size) {
    throw new CorruptImageError(
      `delta log of ${logSize} bytes runs past the image end ${source.size}`,
      logOffset,
    );
  }
}

/** Per-entry context of decodeEntry; messages are built only when something is wrong. */
class EntryContext {
  at = 0;
  type = 0;
  totalSize = 0;
  trailing = 0;
  trailingRoom = 0;
  constructor(readonly window: LogWindow) {}

  error(why: string): CorruptImageError {
    return new CorruptImageError(`delta ${deltaTypeName(this.type)} entry: ${why}`, this.at);
  }

  /** `count` trailing bytes at `skip` after the payload, `needed` of them checked against total_size. */
  trailingBytes(skip: number, count: number, needed: number): Uint8Array {
    if (needed > this.trailingRoom)
      throw this.error(`total_size ${this.totalSize} is too small for its ${needed} trailing bytes`);
    return this.window.read(this.trailing + skip, count);
  }

  name(skip: number, length: number, needed: number, label: string): string {
    const bytes = this.trailingBytes(skip, length, needed);
    const problem = nameProblem(bytes);
    if (problem) throw this.error(`${label} ${problem}`);
    return decodeName(bytes);
  }

  /** An inode number: not 0, and exact as a JS number. */
  inode(value: bigint, label: string): number {
    if (value === 0n) throw this.error(`${label} is 0`);
    return this.number(value, label);
  }

  number(value: bigint, label: string): number {
    if (value > MAX_SAFE) throw this.error(`${label} ${value} is too large`);
    return Number(value);
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function decodeEntry(
  context: EntryContext,
  at: number,
  type: number,
  totalSize: number,
  rawIno: bigint,
  timestamp: bigint,
): DeltaEntry {
  const payloadSize = PAYLOAD_SIZE[type as DeltaType];
  if (payloadSize === undefined) throw new CorruptImageError(`delta entry: unknown type ${type}`, at);
  context.at = at;
  context.type = type;
  context.totalSize = totalSize;
  context.trailing = at + DAXFS_DELTA_HDR_SIZE + payloadSize;
  context.trailingRoom = totalSize - DAXFS_DELTA_HDR_SIZE - payloadSize;
  if (context.trailingRoom < 0) {
    throw context.error(`total_size ${totalSize} is below the minimum ${DAXFS_DELTA_HDR_SIZE + payloadSize}`);
  }
  const ino = context.inode(rawIno, "inode");
  const payload = context.window.read(at + DAXFS_DELTA_HDR_SIZE, payloadSize);

  switch (type as DeltaType) {
    case DeltaType.WRITE: {
      const p = DaxfsDeltaWrite.decode(payload);
      if (p.len > context.trailingRoom) {
        throw context.error(`${p.len} data bytes do not fit in total_size ${totalSize}`);
      }
      const fileOffset = context.number(p.offset, "file offset");
      if (fileOffset + p.len > Number.MAX_SAFE_INTEGER) throw context.error(`file offset too large`);
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: DeltaType.WRITE,
        fileOffset,
        length: p.len,
        flags: p.flags,
        dataOffset: at + totalSize - p.len,
      };
    }
    case DeltaType.CREATE:
    case DeltaType.MKDIR: {
      const p = DaxfsDeltaCreate.decode(payload);
      const newIno = context.inode(p.newIno, "new inode");
      if (newIno !== ino) throw context.error(`header inode ${ino} differs from new inode ${newIno}`);
      const name = context.name(0, p.nameLen, p.nameLen, "name");
      const parentIno = context.inode(p.parentIno, "parent inode");
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: type as DeltaType.CREATE,
        parentIno,
        newIno,
        mode: p.mode,
        uid: p.uid,
        gid: p.gid,
        name,
      };
    }
    case DeltaType.DELETE:
    case DeltaType.LINK: {
      // One payload layout (parent_ino, name_len, flags, reserved, name), each under its own name.
      const link = type === DeltaType.LINK;
      const p = (link ? DaxfsDeltaLink : DaxfsDeltaDelete).decode(payload);
      const name = context.name(0, p.nameLen, p.nameLen, "name");
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: link ? DeltaType.LINK : DeltaType.DELETE,
        parentIno: context.inode(p.parentIno, "parent inode"),
        name,
      };
    }
    case DeltaType.TRUNCATE: {
      const p = DaxfsDeltaTruncate.decode(payload);
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: DeltaType.TRUNCATE,
        newSize: context.number(p.newSize, "new size"),
      };
    }
    case DeltaType.RENAME: {
      const p = DaxfsDeltaRename.decode(payload);
      const renamedIno = context.inode(p.ino, "renamed inode");
      if (renamedIno !== ino)
        throw context.error(`header inode ${ino} differs from renamed inode ${renamedIno}`);
      const needed = p.oldNameLen + p.newNameLen;
      const oldName = context.name(0, p.oldNameLen, needed, "old name");
      const newName = context.name(p.oldNameLen, p.newNameLen, needed, "new name");
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: DeltaType.RENAME,
        oldParentIno: context.inode(p.oldParentIno, "old parent inode"),
        newParentIno: context.inode(p.newParentIno, "new parent inode"),
        renamedIno,
        oldName,
        newName,
      };
    }
    case DeltaType.SETATTR: {
      const p = DaxfsDeltaSetattr.decode(payload);
      if ((p.valid & ~SETATTR_KNOWN_BITS) !== 0)
        throw context.error(`unknown valid bits 0x${p.valid.toString(16)}`);
      const size = context.number(p.size, "size");
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: DeltaType.SETATTR,
        mode: p.mode,
        uid: p.uid,
        gid: p.gid,
        valid: p.valid,
        size,
      };
    }
    case DeltaType.UTIMES: {
      const p = DaxfsDeltaUtimes.decode(payload);
      if ((p.valid & ~UTIMES_KNOWN_BITS) !== 0)
        throw context.error(`unknown valid bits 0x${p.valid.toString(16)}`);
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: DeltaType.UTIMES,
        atime: p.atime,
        mtime: p.mtime,
        valid: p.valid,
      };
    }
    case DeltaType.SYMLINK: {
      const p = DaxfsDeltaSymlink.decode(payload);
      const newIno = context.inode(p.newIno, "new inode");
      if (newIno !== ino) throw context.error(`header inode ${ino} differs from new inode ${newIno}`);
      const needed = p.nameLen + p.targetLen + 1;
      const name = context.name(0, p.nameLen, needed, "name");
      const targetAndNul = context.trailingBytes(p.nameLen, p.targetLen + 1, needed);
      const target = targetAndNul.subarray(0, p.targetLen);
      if (p.targetLen === 0 || p.targetLen > SYMLINK_TARGET_MAX) {
        throw context.error(`target length ${p.targetLen} is outside 1..${SYMLINK_TARGET_MAX}`);
      }
      if (target.includes(0) || targetAndNul[p.targetLen] !== 0) {
        throw context.error(`target is not a NUL-terminated string`);
      }
      return {
        offset: at,
        totalSize,
        ino,
        timestamp,
        type: DeltaType.SYMLINK,
        parentIno: context.inode(p.parentIno, "parent inode"),
        newIno,
        uid: p.uid,
        gid: p.gid,
        name,
        target: decodeName(target),
      };
    }
  }
}
