// Field-level access to the superblock counters and branch records (SPEC 1.3, 1.4) for the write
// side and the live views; records are decoded by branch-record.ts, regions by geometry.ts. Every
// helper reads fresh from the source (other processes and kernels change these bytes under us),
// and single fields are written in place so a crash leaves each record valid.
import { DAXFS_BRANCH_NAME_MAX, DaxfsBranch, DaxfsSuper } from "@daxfs/format";
import { DaxfsError, toSafeNumber } from "../errors.js";
import type { ImageGeometry } from "../geometry.js";
import type { ImageSource } from "../image-source.js";

/** The superblock fields the branch layer needs, with the branching geometry checked. */
export interface BranchingGeometry {
  tableOffset: number;
  tableEntries: number;
  regionOffset: number;
  regionSize: number;
}

const textEncoder = new TextEncoder();

export function readU32(source: ImageSource, offset: number): number {
  const bytes = source.read(offset, 4);
  return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
}

/** A u64 field as stored, for comparisons that must not fail on values no reader can address. */
export function readU64Bits(source: ImageSource, offset: number): bigint {
  const bytes = source.read(offset, 8);
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

export function readU64(source: ImageSource, offset: number, what: string): number {
  return toSafeNumber(readU64Bits(source, offset), what, offset);
}

export function writeU32(source: ImageSource, offset: number, value: number): void {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value >>> 0, true);
  source.write(offset, bytes);
}

export function writeU64(source: ImageSource, offset: number, value: number): void {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
  source.write(offset, bytes);
}

export const SUPER = DaxfsSuper.offsets;
export const RECORD = DaxfsBranch.offsets;

/** Where the branch table and delta region of image `name` are; EROFS for a static image. */
export function branchingGeometry(geometry: ImageGeometry, name: string): BranchingGeometry {
  const { branchTable, delta } = geometry;
  if (!branchTable || !delta) {
    throw new DaxfsError("EROFS", `${name}: static image (no branch table or delta region)`);
  }
  return {
    tableOffset: branchTable.offset,
    tableEntries: branchTable.entries,
    regionOffset: delta.offset,
    regionSize: delta.size,
  };
}

export function recordOffset(geometry: BranchingGeometry, slot: number): number {
  return geometry.tableOffset + slot * DaxfsBranch.size;
}

/** Encodes a branch name into the 32-byte field, NUL-terminated (SPEC 1.4). */
export function encodeName(name: string): Uint8Array {
  const field = new Uint8Array(32);
  field.set(textEncoder.encode(name).subarray(0, DAXFS_BRANCH_NAME_MAX));
  return field;
}
