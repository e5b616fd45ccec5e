// Encoding of new entries byte-compatibly with the public module (SPEC 1.5): structs through the
// generated codecs, trailing bytes at entry offset 24 + the payload struct's size (SPEC 1.5.8).
import {
  DAXFS_BLOCK_SIZE,
  DAXFS_DELTA_HDR_SIZE,
  DAXFS_NAME_MAX,
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
import { DaxfsError } from "../errors.js";
import { encodeName, nameByteLength, nameProblem } from "../names.js";
import { type NewDeltaEntry, PAYLOAD_SIZE, SYMLINK_TARGET_MAX, U32_MAX } from "./types.js";

export interface EncodePosition {
  /** Absolute image offset the entry will be written at. */
  absoluteOffset: number;
  /** WRITE only: pad after the payload so the data starts on a 4096-byte boundary (SPEC 1.5.9). */
  alignData?: boolean;
}

/** Padding that page-aligns the data of a WRITE entry written at absolute offset `at` (SPEC 1.5.9). */
export function writeDataPadding(at: number): number {
  const dataStart = at + DAXFS_DELTA_HDR_SIZE + DaxfsDeltaWrite.size;
  return (DAXFS_BLOCK_SIZE - (dataStart % DAXFS_BLOCK_SIZE)) % DAXFS_BLOCK_SIZE;
}

function encodeEntryName(name: string, label: string): Uint8Array {
  const bytes = encodeName(name);
  const problem = nameProblem(bytes);
  if (problem) {
    throw new DaxfsError(
      bytes.length > DAXFS_NAME_MAX ? "ENAMETOOLONG" : "EINVAL",
      `${label} ${JSON.stringify(name)} ${problem}`,
    );
  }
  return bytes;
}

function checkU32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX)
    throw new DaxfsError("EINVAL", `${what} ${value} is not a u32`);
  return value;
}

function u64(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new DaxfsError("EINVAL", `${what} ${value} is not a valid unsigned number`);
  return BigInt(value);
}

/** Encodes one entry; the bytes are exactly `total_size` long and ready to append to a log. */
export function encodeDeltaEntry(entry: NewDeltaEntry, at?: EncodePosition): Uint8Array {
  const payloadSize = PAYLOAD_SIZE[entry.type];
  let trailing: Uint8Array[];
  let padding = 0;
  switch (entry.type) {
    case DeltaType.WRITE:
      if (at?.alignData) padding = writeDataPadding(at.absoluteOffset);
      trailing = [new Uint8Array(padding), entry.data];
      break;
    case DeltaType.CREATE:
    case DeltaType.MKDIR:
    case DeltaType.DELETE:
    case DeltaType.LINK:
      trailing = [encodeEntryName(entry.name, "name")];
      break;
    case DeltaType.RENAME:
      trailing = [encodeEntryName(entry.oldName, "old name"), encodeEntryName(entry.newName, "new name")];
      break;
    case DeltaType.SYMLINK: {
      const target = encodeName(entry.target);
      if (target.length === 0 || target.length > SYMLINK_TARGET_MAX || target.includes(0)) {
        throw new DaxfsError(
          target.length > SYMLINK_TARGET_MAX ? "ENAMETOOLONG" : "EINVAL",
          `symlink target ${JSON.stringify(entry.target)} is not valid`,
        );
      }
      trailing = [encodeEntryName(entry.name, "name"), target, new Uint8Array(1)];
      break;
    }
    default:
      trailing = [];
  }
  const trailingSize = trailing.reduce((sum, part) => sum + part.length, 0);
  const totalSize = DAXFS_DELTA_HDR_SIZE + payloadSize + trailingSize;
  if (totalSize > U32_MAX)
    throw new DaxfsError("EFBIG", `delta entry of ${totalSize} bytes exceeds the u32 total_size`);
  const bytes = new Uint8Array(totalSize);
  DaxfsDeltaHdr.encode(bytes, 0, {
    type: entry.type,
    totalSize,
    ino: u64(entry.ino, "inode"),
    timestamp: entry.timestamp ?? 0n,
  });
  encodePayload(bytes, DAXFS_DELTA_HDR_SIZE, entry);
  let cursor = DAXFS_DELTA_HDR_SIZE + payloadSize;
  for (const part of trailing) {
    bytes.set(part, cursor);
    cursor += part.length;
  }
  return bytes;
}

function encodePayload(bytes: Uint8Array, at: number, entry: NewDeltaEntry): void {
  switch (entry.type) {
    case DeltaType.WRITE:
      DaxfsDeltaWrite.encode(bytes, at, {
        offset: u64(entry.fileOffset, "file offset"),
        len: checkU32(entry.data.length, "write length"),
        flags: checkU32(entry.flags ?? 0, "flags"),
      });
      return;
    case DeltaType.CREATE:
    case DeltaType.MKDIR:
      DaxfsDeltaCreate.encode(bytes, at, {
        parentIno: u64(entry.parentIno, "parent inode"),
        newIno: u64(entry.newIno, "new inode"),
        mode: checkU32(entry.mode, "mode"),
        uid: checkU32(entry.uid, "uid"),
        gid: checkU32(entry.gid, "gid"),
        nameLen: nameByteLength(entry.name),
        flags: 0,
      });
      return;
    case DeltaType.DELETE:
    case DeltaType.LINK:
      // One payload layout (parent_ino, name_len, flags, reserved), each under its own name.
      (entry.type === DeltaType.LINK ? DaxfsDeltaLink : DaxfsDeltaDelete).encode(bytes, at, {
        parentIno: u64(entry.parentIno, "parent inode"),
        nameLen: nameByteLength(entry.name),
        flags: 0,
        reserved: 0,
      });
      return;
    case DeltaType.TRUNCATE:
      DaxfsDeltaTruncate.encode(bytes, at, { newSize: u64(entry.newSize, "new size") });
      return;
    case DeltaType.RENAME:
      DaxfsDeltaRename.encode(bytes, at, {
        oldParentIno: u64(entry.oldParentIno, "old parent inode"),
        newParentIno: u64(entry.newParentIno, "new parent inode"),
        ino: u64(entry.renamedIno, "renamed inode"),
        oldNameLen: nameByteLength(entry.oldName),
        newNameLen: nameByteLength(entry.newName),
        reserved: 0,
      });
      return;
    case DeltaType.SETATTR:
      DaxfsDeltaSetattr.encode(bytes, at, {
        mode: checkU32(entry.mode, "mode"),
        uid: checkU32(entry.uid, "uid"),
        gid: checkU32(entry.gid, "gid"),
        valid: checkU32(entry.valid, "valid"),
        size: u64(entry.size, "size"),
      });
      return;
    case DeltaType.UTIMES:
      DaxfsDeltaUtimes.encode(bytes, at, {
        atime: entry.atime,
        mtime: entry.mtime,
        valid: checkU32(entry.valid, "valid"),
        reserved: 0,
      });
      return;
    case DeltaType.SYMLINK:
      DaxfsDeltaSymlink.encode(bytes, at, {
        parentIno: u64(entry.parentIno, "parent inode"),
        newIno: u64(entry.newIno, "new inode"),
        uid: checkU32(entry.uid, "uid"),
        gid: checkU32(entry.gid, "gid"),
        nameLen: nameByteLength(entry.name),
        targetLen: nameByteLength(entry.target),
        pad: new Uint8Array(4),
      });
      return;
  }
}
