// The superblock and the regions it names (docs/format.md "daxfs_super"; docs/semantics.md
// "Validity"): the one decoder of the image geometry. DaxfsImage, the branch write side and the
// validator all locate the base image, branch table, delta region and page cache through it, so
// they agree on which images can be opened. Readers pass throwOnProblem() and stop at the first
// problem; the validator collects them and adds the consistency checks no reader depends on
// (validate/regions.ts). Every range is computed in bigint: a hostile u64 cannot overflow.
import {
  DAXFS_BLOCK_SIZE,
  DAXFS_SUPER_MAGIC,
  DAXFS_SUPER_SIZE,
  DAXFS_VERSION,
  DaxfsBranch,
  DaxfsSuper,
} from "@daxfs/format";
import type { ImageSource } from "./image-source.js";
import { hex, type ProblemKind, type ProblemSink } from "./problems.js";

export interface Region {
  /** Absolute offset. */
  offset: number;
  size: number;
}

/** The regions a superblock names; each one here lies inside the image, block-aligned, after block 0. */
export interface ImageGeometry {
  superblock: DaxfsSuper;
  /** Null when base_offset is 0. */
  base: Region | null;
  /** Null in a static image (branch_table_entries 0) or when the table is out of bounds. */
  branchTable: (Region & { entries: number }) | null;
  /** Null in a static image, when delta_region_offset is 0, or when it is out of bounds. */
  delta: Region | null;
  /** Null without a page cache or when its geometry is bad. */
  pcache: (Region & { slotCount: number }) | null;
}

const BLOCK = BigInt(DAXFS_BLOCK_SIZE);
const SB = "superblock";

function cName(field: keyof DaxfsSuper): string {
  return DaxfsSuper.fields.find((f) => f.name === field)?.cName ?? String(field);
}

/** Reports a problem with one superblock field. */
export function superProblem(
  sink: ProblemSink,
  field: keyof DaxfsSuper,
  expected: string,
  actual: string,
  message: string,
  kind: ProblemKind = "corrupt",
): void {
  sink.add({
    offset: DaxfsSuper.offsets[field],
    structure: SB,
    field: cName(field),
    expected,
    actual,
    message,
    kind,
  });
}

/** Decodes the superblock: an image large enough, the DAXFS magic and version 5. Null on a problem. */
export function decodeSuperblock(source: ImageSource, sink: ProblemSink): DaxfsSuper | null {
  if (source.size < DAXFS_BLOCK_SIZE) {
    sink.add({
      offset: 0,
      structure: SB,
      field: "size",
      expected: `an image of at least ${DAXFS_BLOCK_SIZE} bytes`,
      actual: `${source.size} bytes`,
      message: `image of ${source.size} bytes is too small for a superblock`,
      kind: "corrupt",
    });
    return null;
  }
  const sb = DaxfsSuper.decode(source.read(0, DAXFS_SUPER_SIZE), 0);
  if (sb.magic !== DAXFS_SUPER_MAGIC) {
    superProblem(
      sink,
      "magic",
      hex(DAXFS_SUPER_MAGIC),
      hex(sb.magic),
      `bad magic ${hex(sb.magic)}: not a DAXFS image`,
    );
    return null;
  }
  if (sb.version !== DAXFS_VERSION) {
    superProblem(
      sink,
      "version",
      String(DAXFS_VERSION),
      String(sb.version),
      `unsupported format version ${sb.version}`,
      "unsupported",
    );
    return null;
  }
  return sb;
}

/**
 * One region named by the superblock: inside the image, after the superblock block, block-aligned.
 * `sizeField` stores `count` units of `unit` bytes (the branch table counts 128-byte records, the
 * other regions bytes): a problem reports the field's stored value and a bound in its own unit.
 */
function decodeRegion(
  sink: ProblemSink,
  imageSize: bigint,
  what: string,
  offsetField: keyof DaxfsSuper,
  offset: bigint,
  sizeField: keyof DaxfsSuper,
  count: bigint,
  unit = 1n,
): Region | null {
  let ok = true;
  const size = count * unit;
  const outside = `${what} [${hex(offset)}, +${size}) lies outside the ${imageSize}-byte image`;
  if (offset >= imageSize && size > 0n) {
    // Nothing of the region is in the image: its start is what is wrong (or the image is cut).
    superProblem(sink, offsetField, `< ${hex(imageSize)} (the image's end)`, hex(offset), outside);
    ok = false;
  } else if (offset + size > imageSize) {
    const room = (imageSize - offset) / unit;
    const unitsText = unit === 1n ? "bytes" : `${unit}-byte records that fit`;
    const bound = `<= ${room} (the ${unitsText} between ${hex(offset)} and the image's end)`;
    superProblem(sink, sizeField, bound, String(count), outside);
    ok = false;
  }
  if (offset < BLOCK) {
    superProblem(sink, offsetField, ">= 4096", hex(offset), `${what} overlaps the superblock block`);
    ok = false;
  }
  if (offset % BLOCK !== 0n) {
    superProblem(sink, offsetField, "a multiple of 4096", hex(offset), `${what} is not block-aligned`);
    ok = false;
  }
  return ok ? { offset: Number(offset), size: Number(size) } : null;
}

/** The smallest page-cache region for `slots` slots: header block, slot table, one block per slot. */
export function pcacheMinimumSize(slots: number): bigint {
  const table = 16n * BigInt(slots);
  return BLOCK + ((table + BLOCK - 1n) / BLOCK) * BLOCK + BLOCK * BigInt(slots);
}

/**
 * Locates every region `sb` names. A static image (branch_table_entries 0) has no branch table
 * and no delta region whatever the other fields say (the validator reports those fields).
 */
export function decodeGeometry(source: ImageSource, sb: DaxfsSuper, sink: ProblemSink): ImageGeometry {
  const imageSize = BigInt(source.size);
  const geometry: ImageGeometry = {
    superblock: sb,
    base: null,
    branchTable: null,
    delta: null,
    pcache: null,
  };
  if (sb.baseOffset !== 0n) {
    geometry.base = decodeRegion(
      sink,
      imageSize,
      "base image",
      "baseOffset",
      sb.baseOffset,
      "baseSize",
      sb.baseSize,
    );
  }
  if (sb.branchTableEntries !== 0) {
    if (sb.branchTableOffset === 0n) {
      superProblem(
        sink,
        "branchTableOffset",
        "non-zero",
        "0",
        `${sb.branchTableEntries} branch slots but no branch table offset`,
      );
    } else {
      const region = decodeRegion(
        sink,
        imageSize,
        "branch table",
        "branchTableOffset",
        sb.branchTableOffset,
        "branchTableEntries",
        BigInt(sb.branchTableEntries),
        BigInt(DaxfsBranch.size),
      );
      if (region) geometry.branchTable = { ...region, entries: sb.branchTableEntries };
    }
    if (sb.deltaRegionOffset !== 0n) {
      geometry.delta = decodeRegion(
        sink,
        imageSize,
        "delta region",
        "deltaRegionOffset",
        sb.deltaRegionOffset,
        "deltaRegionSize",
        sb.deltaRegionSize,
      );
    }
  }
  if (sb.pcacheOffset !== 0n) {
    const slots = sb.pcacheSlotCount;
    if (slots === 0 || (slots & (slots - 1)) !== 0) {
      superProblem(
        sink,
        "pcacheSlotCount",
        "a non-zero power of two",
        String(slots),
        `bad page-cache slot count ${slots}`,
      );
    } else if (sb.pcacheSize < pcacheMinimumSize(slots)) {
      superProblem(
        sink,
        "pcacheSize",
        `>= ${pcacheMinimumSize(slots)}`,
        String(sb.pcacheSize),
        `page-cache region of ${sb.pcacheSize} bytes is too small for its ${slots} slots`,
      );
    } else {
      const region = decodeRegion(
        sink,
        imageSize,
        "page cache",
        "pcacheOffset",
        sb.pcacheOffset,
        "pcacheSize",
        sb.pcacheSize,
      );
      if (region) geometry.pcache = { ...region, slotCount: slots };
    }
  }
  return geometry;
}
