// Images with hand-written branch records and raw delta logs (SPEC 1.4-1.5), for the validator's
// and inspector's tests: branch ids, parents and states as given, entries laid back to back as
// given bytes (possibly corrupt), which neither mkdaxfs nor the library's writer would produce.
// The entry encoders below are written from the layout with the generated codecs, independent of
// the library's delta/entry.ts, so each can check the other.
import {
  BranchState,
  DAXFS_BRANCH_TABLE_OFFSET,
  DaxfsBranch,
  DaxfsDeltaCreate,
  DaxfsDeltaDelete,
  DaxfsDeltaHdr,
  DaxfsDeltaRename,
  DaxfsDeltaSymlink,
  DaxfsDeltaWrite,
  DaxfsSuper,
  DeltaType,
} from "@daxfs/format";
import type { BuildDir } from "../build/tree.js";
import { encodeName } from "../names.js";
import { branchNameField, buildTestImage } from "./test-image.js";

export interface TestBranch {
  name: string;
  id: number;
  parentId: number;
  state?: number; // default ACTIVE
  entries?: Uint8Array[]; // encoded delta entries, laid back to back
  capacity?: number; // default 64 KiB
}

export interface TestLogImageOptions {
  /** Branch table and delta region (default: when `branches` is given). */
  branching?: boolean;
  /** Branch records in slot order; no main unless listed. */
  branches?: TestBranch[];
  /** Delta region bytes (default 1 MiB). */
  deltaSize?: number;
}

/**
 * A complete image as bytes: the test base (testing/test-image.ts), then, when branching, the
 * given branch records with their logs allocated one after another from the delta region start.
 */
export function buildTestImageWithLogs(root: BuildDir, options: TestLogImageOptions = {}): Uint8Array {
  const branching = options.branching ?? options.branches !== undefined;
  if (!branching) return buildTestImage(root, { branching: false }).bytes;
  const { bytes: image, nextInodeId } = buildTestImage(root, {
    main: false,
    deltaSize: options.deltaSize ?? 1 << 20,
  });
  const sb = DaxfsSuper.decode(image, 0);
  let alloc = Number(sb.deltaRegionOffset);
  let maxId = 0;
  const slotsUsed = options.branches ?? [];
  slotsUsed.forEach((branch, slot) => {
    const capacity = branch.capacity ?? 64 * 1024;
    let used = 0;
    for (const entry of branch.entries ?? []) {
      image.set(entry, alloc + used);
      used += entry.length;
    }
    DaxfsBranch.encode(image, DAXFS_BRANCH_TABLE_OFFSET + slot * DaxfsBranch.size, {
      ...DaxfsBranch.zero(),
      branchId: BigInt(branch.id),
      parentId: BigInt(branch.parentId),
      deltaLogOffset: BigInt(alloc),
      deltaLogSize: BigInt(used),
      deltaLogCapacity: BigInt(capacity),
      state: branch.state ?? BranchState.ACTIVE,
      nextLocalIno: BigInt(nextInodeId),
      name: branchNameField(branch.name),
    });
    alloc += capacity;
    maxId = Math.max(maxId, branch.id);
  });
  DaxfsSuper.encode(image, 0, {
    ...sb,
    activeBranches: slotsUsed.filter((b) => (b.state ?? BranchState.ACTIVE) === BranchState.ACTIVE).length,
    nextBranchId: BigInt(maxId + 1),
    // Above any inode the given logs create (they do not advance the counter).
    nextInodeId: BigInt(nextInodeId + 1000),
    deltaAllocOffset: BigInt(alloc),
  });
  return image;
}

// ---- raw delta entries (SPEC.md 1.5) -------------------------------------------------------------

function entry(
  type: DeltaType,
  ino: number,
  payloadSize: number,
  tail: Uint8Array[],
  totalOverride?: number,
): { bytes: Uint8Array; payload: number } {
  const tailLength = tail.reduce((sum, part) => sum + part.length, 0);
  const total = DaxfsDeltaHdr.size + payloadSize + tailLength;
  const bytes = new Uint8Array(total);
  DaxfsDeltaHdr.encode(bytes, 0, {
    type,
    totalSize: totalOverride ?? total,
    ino: BigInt(ino),
    timestamp: 1n,
  });
  let at = DaxfsDeltaHdr.size + payloadSize;
  for (const part of tail) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, payload: DaxfsDeltaHdr.size };
}

export function writeEntry(ino: number, fileOffset: number, data: Uint8Array): Uint8Array {
  const { bytes, payload } = entry(DeltaType.WRITE, ino, DaxfsDeltaWrite.size, [data]);
  DaxfsDeltaWrite.encode(bytes, payload, { offset: BigInt(fileOffset), len: data.length, flags: 0 });
  return bytes;
}

export function createEntry(
  type: DeltaType.CREATE | DeltaType.MKDIR,
  parentIno: number,
  newIno: number,
  name: string,
  mode: number,
): Uint8Array {
  const nameBytes = encodeName(name);
  const { bytes, payload } = entry(type, newIno, DaxfsDeltaCreate.size, [nameBytes]);
  DaxfsDeltaCreate.encode(bytes, payload, {
    parentIno: BigInt(parentIno),
    newIno: BigInt(newIno),
    mode,
    uid: 0,
    gid: 0,
    nameLen: nameBytes.length,
    flags: 0,
  });
  return bytes;
}

export function deleteEntry(parentIno: number, ino: number, name: string): Uint8Array {
  const nameBytes = encodeName(name);
  const { bytes, payload } = entry(DeltaType.DELETE, ino, DaxfsDeltaDelete.size, [nameBytes]);
  DaxfsDeltaDelete.encode(bytes, payload, {
    parentIno: BigInt(parentIno),
    nameLen: nameBytes.length,
    flags: 0,
    reserved: 0,
  });
  return bytes;
}

export function renameEntry(
  oldParent: number,
  newParent: number,
  ino: number,
  oldName: string,
  newName: string,
): Uint8Array {
  const oldBytes = encodeName(oldName);
  const newBytes = encodeName(newName);
  const { bytes, payload } = entry(DeltaType.RENAME, ino, DaxfsDeltaRename.size, [oldBytes, newBytes]);
  DaxfsDeltaRename.encode(bytes, payload, {
    oldParentIno: BigInt(oldParent),
    newParentIno: BigInt(newParent),
    ino: BigInt(ino),
    oldNameLen: oldBytes.length,
    newNameLen: newBytes.length,
    reserved: 0,
  });
  return bytes;
}

export function symlinkEntry(parentIno: number, newIno: number, name: string, target: string): Uint8Array {
  const nameBytes = encodeName(name);
  const targetBytes = encodeName(target);
  const { bytes, payload } = entry(DeltaType.SYMLINK, newIno, DaxfsDeltaSymlink.size, [
    nameBytes,
    targetBytes,
    new Uint8Array(1),
  ]);
  DaxfsDeltaSymlink.encode(bytes, payload, {
    parentIno: BigInt(parentIno),
    newIno: BigInt(newIno),
    uid: 0,
    gid: 0,
    nameLen: nameBytes.length,
    targetLen: targetBytes.length,
    pad: new Uint8Array(4),
  });
  return bytes;
}
