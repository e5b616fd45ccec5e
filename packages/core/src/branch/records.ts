// Field-level access to the superblock counters and branch records (SPEC 1.3, 1.4) for the write
// side; records are decoded by core's DaxfsImage. Every helper reads fresh from the source (other
// processes and kernels change these bytes under us), and single fields are written in place so a
// crash leaves each record valid.
import { DAXFS_BRANCH_NAME_MAX, DaxfsBranch, DaxfsSuper } from "@daxfs/format";
import { CorruptImageError, DaxfsError, toSafeNumber } from "../errors.js";
import type { BranchRecord } from "../image.js";
import type { ImageSource } from "../image-source.js";

/** A branch record as core's DaxfsImage decodes it (image.ts). */
export type BranchSlot = BranchRecord;

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

export function readU64(source: ImageSource, offset: number, what: string): number {
  const bytes = source.read(offset, 8);
  return toSafeNumber(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true), what, offset);
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

export function readGeometry(source: ImageSource): BranchingGeometry {
  const sb = DaxfsSuper.decode(source.read(0, DaxfsSuper.size));
  if (sb.branchTableEntries === 0 || sb.deltaRegionOffset === 0n) {
    throw new DaxfsError("EROFS", `${source.name}: static image (no branch table or delta region)`);
  }
  const geometry = {
    tableOffset: toSafeNumber(sb.branchTableOffset, "branch_table_offset", SUPER.branchTableOffset),
    tableEntries: sb.branchTableEntries,
    regionOffset: toSafeNumber(sb.deltaRegionOffset, "delta_region_offset", SUPER.deltaRegionOffset),
    regionSize: toSafeNumber(sb.deltaRegionSize, "delta_region_size", SUPER.deltaRegionSize),
  };
  if (geometry.tableOffset + geometry.tableEntries * DaxfsBranch.size > source.size) {
    throw new CorruptImageError(
      `${source.name}: branch table runs past the image end`,
      SUPER.branchTableOffset,
    );
  }
  if (geometry.regionOffset + geometry.regionSize > source.size) {
    throw new CorruptImageError(
      `${source.name}: delta region runs past the image end`,
      SUPER.deltaRegionOffset,
    );
  }
  return geometry;
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
