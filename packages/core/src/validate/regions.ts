// Superblock and region checks (SPEC.md 1.2, 1.3, 4.2; NOTES.md layout facts 2-4). Every range is
// computed in bigint so that a hostile u64 cannot overflow; a region that fails its bounds is not
// handed to the later passes, which therefore only ever read inside the image.
import {
  DAXFS_BLOCK_SIZE,
  DAXFS_SUPER_MAGIC,
  DAXFS_SUPER_SIZE,
  DAXFS_VERSION,
  DaxfsBranch,
  DaxfsSuper,
} from "@daxfs/format";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemKind, type ProblemLog } from "./problems.js";

export interface Region {
  /** Absolute offset. */
  offset: number;
  size: number;
}

/** What the later passes may rely on: each region here lies inside the image. */
export interface ImageLayout {
  superblock: DaxfsSuper;
  base: Region | null;
  branchTable: (Region & { entries: number }) | null;
  delta: (Region & { allocOffset: number }) | null;
  pcache: (Region & { slotCount: number }) | null;
}

const BLOCK = BigInt(DAXFS_BLOCK_SIZE);
const SB = "superblock";

function cName(field: keyof DaxfsSuper): string {
  return DaxfsSuper.fields.find((f) => f.name === field)?.cName ?? String(field);
}

function superProblem(
  log: ProblemLog,
  field: keyof DaxfsSuper,
  expected: string,
  actual: string,
  message: string,
  kind: ProblemKind = "corrupt",
): void {
  log.add({
    offset: DaxfsSuper.offsets[field],
    structure: SB,
    field: cName(field),
    expected,
    actual,
    message,
    kind,
  });
}

/** Checks one superblock region; returns it when it lies inside the image. */
function checkRegion(
  log: ProblemLog,
  imageSize: bigint,
  what: string,
  offsetField: keyof DaxfsSuper,
  offset: bigint,
  sizeField: keyof DaxfsSuper,
  size: bigint,
): Region | null {
  let ok = true;
  if (offset % BLOCK !== 0n) {
    superProblem(log, offsetField, "a multiple of 4096", hex(offset), `${what} is not block-aligned`);
    ok = false;
  }
  if (offset < BLOCK) {
    superProblem(log, offsetField, ">= 4096", hex(offset), `${what} overlaps the superblock block`);
    ok = false;
  }
  if (offset + size > imageSize) {
    superProblem(
      log,
      sizeField,
      `<= ${imageSize - (offset < imageSize ? offset : imageSize)}`,
      String(size),
      `${what} [${hex(offset)}, +${size}) runs past the image end ${imageSize}`,
    );
    ok = false;
  }
  return ok ? { offset: Number(offset), size: Number(size) } : null;
}

export function checkSuperblock(source: ImageSource, log: ProblemLog): ImageLayout | null {
  if (source.size < DAXFS_BLOCK_SIZE) {
    log.corrupt(
      0,
      SB,
      "size",
      `an image of at least ${DAXFS_BLOCK_SIZE} bytes`,
      `${source.size} bytes`,
      "image is too small for a superblock",
    );
    return null;
  }
  const sb = DaxfsSuper.decode(source.read(0, DAXFS_SUPER_SIZE), 0);
  if (sb.magic !== DAXFS_SUPER_MAGIC) {
    superProblem(log, "magic", hex(DAXFS_SUPER_MAGIC), hex(sb.magic), "not a DAXFS image");
    return null;
  }
  if (sb.version !== DAXFS_VERSION) {
    superProblem(
      log,
      "version",
      String(DAXFS_VERSION),
      String(sb.version),
      "unknown format version",
      "unsupported",
    );
    return null;
  }
  if (sb.blockSize !== DAXFS_BLOCK_SIZE) {
    superProblem(
      log,
      "blockSize",
      String(DAXFS_BLOCK_SIZE),
      String(sb.blockSize),
      "only 4096-byte blocks exist in v5",
      "unsupported",
    );
  }
  if (sb.flags !== 0) {
    superProblem(log, "flags", "0", hex(sb.flags), "unknown superblock flags", "unsupported");
  }
  const imageSize = BigInt(source.size);
  if (sb.totalSize > imageSize) {
    superProblem(
      log,
      "totalSize",
      `<= ${imageSize} (the image size)`,
      String(sb.totalSize),
      "image is truncated",
    );
  }

  const layout: ImageLayout = { superblock: sb, base: null, branchTable: null, delta: null, pcache: null };
  if (sb.baseOffset === 0n) {
    superProblem(log, "baseOffset", "non-zero", "0", "image has no base image");
  } else {
    layout.base = checkRegion(
      log,
      imageSize,
      "base image",
      "baseOffset",
      sb.baseOffset,
      "baseSize",
      sb.baseSize,
    );
  }

  const branching = sb.branchTableEntries !== 0;
  if (!branching) {
    // A static image: SPEC.md 1.2 and OVERVIEW.md 1 (offsets, sizes and counts all 0).
    const mustBeZero: (keyof DaxfsSuper)[] = [
      "branchTableOffset",
      "deltaRegionOffset",
      "deltaRegionSize",
      "deltaAllocOffset",
      "nextBranchId",
      "activeBranches",
      "pcacheOffset",
    ];
    for (const field of mustBeZero) {
      const value = sb[field] as bigint | number;
      if (BigInt(value) !== 0n) {
        superProblem(
          log,
          field,
          "0 in a static image (branch_table_entries 0)",
          String(value),
          "static image with branching fields set",
        );
      }
    }
  } else {
    if (sb.branchTableOffset === 0n) {
      superProblem(
        log,
        "branchTableOffset",
        "non-zero",
        "0",
        "branch_table_entries is set but the table has no offset",
      );
    } else {
      const tableBytes = BigInt(sb.branchTableEntries) * BigInt(DaxfsBranch.size);
      const region = checkRegion(
        log,
        imageSize,
        "branch table",
        "branchTableOffset",
        sb.branchTableOffset,
        "branchTableEntries",
        tableBytes,
      );
      if (region) layout.branchTable = { ...region, entries: sb.branchTableEntries };
    }
    if (sb.deltaRegionOffset === 0n) {
      superProblem(log, "deltaRegionOffset", "non-zero", "0", "branching image without a delta region");
    } else {
      const region = checkRegion(
        log,
        imageSize,
        "delta region",
        "deltaRegionOffset",
        sb.deltaRegionOffset,
        "deltaRegionSize",
        sb.deltaRegionSize,
      );
      const end = sb.deltaRegionOffset + sb.deltaRegionSize;
      if (sb.deltaAllocOffset < sb.deltaRegionOffset || sb.deltaAllocOffset > end) {
        superProblem(
          log,
          "deltaAllocOffset",
          `in [${hex(sb.deltaRegionOffset)}, ${hex(end)}]`,
          hex(sb.deltaAllocOffset),
          "delta allocation pointer outside the delta region",
        );
      } else if (region) {
        layout.delta = { ...region, allocOffset: Number(sb.deltaAllocOffset) };
      }
    }
    if (sb.nextBranchId === 0n) {
      superProblem(log, "nextBranchId", ">= 1", "0", "branching image with next_branch_id 0");
    }
  }

  if (sb.pcacheOffset === 0n) {
    // No page cache: its other fields must not describe one (readers size the region from them).
    for (const field of ["pcacheSize", "pcacheSlotCount", "pcacheHashShift"] as const) {
      if (BigInt(sb[field]) !== 0n)
        superProblem(
          log,
          field,
          "0 when pcache_offset is 0",
          String(sb[field]),
          "page-cache fields set without a page cache",
        );
    }
  } else {
    const slots = sb.pcacheSlotCount;
    if (slots === 0 || (slots & (slots - 1)) !== 0) {
      superProblem(
        log,
        "pcacheSlotCount",
        "a non-zero power of two",
        String(slots),
        "bad page-cache slot count",
      );
    } else {
      const minimum = BLOCK + alignBlock(16n * BigInt(slots)) + BLOCK * BigInt(slots);
      if (sb.pcacheSize < minimum) {
        superProblem(
          log,
          "pcacheSize",
          `>= ${minimum}`,
          String(sb.pcacheSize),
          "page-cache region too small for its slots",
        );
      } else {
        const region = checkRegion(
          log,
          imageSize,
          "page cache",
          "pcacheOffset",
          sb.pcacheOffset,
          "pcacheSize",
          sb.pcacheSize,
        );
        if (region) layout.pcache = { ...region, slotCount: slots };
      }
      const shift = Math.log2(slots);
      if (sb.pcacheHashShift !== shift) {
        superProblem(
          log,
          "pcacheHashShift",
          String(shift),
          String(sb.pcacheHashShift),
          "hash shift is not log2(slot count)",
        );
      }
    }
  }

  checkOverlaps(log, sb);
  return layout;
}

export function alignBlock(value: bigint): bigint {
  return ((value + BLOCK - 1n) / BLOCK) * BLOCK;
}

/** SPEC.md 4.2 item 5: no two regions share a byte (empty regions ignored). */
function checkOverlaps(log: ProblemLog, sb: DaxfsSuper): void {
  const regions: { name: string; field: keyof DaxfsSuper; start: bigint; end: bigint }[] = [
    { name: "superblock", field: "magic", start: 0n, end: BigInt(DAXFS_SUPER_SIZE) },
  ];
  if (sb.baseOffset !== 0n)
    regions.push({
      name: "base image",
      field: "baseOffset",
      start: sb.baseOffset,
      end: sb.baseOffset + sb.baseSize,
    });
  if (sb.branchTableOffset !== 0n) {
    const end = sb.branchTableOffset + BigInt(sb.branchTableEntries) * BigInt(DaxfsBranch.size);
    regions.push({ name: "branch table", field: "branchTableOffset", start: sb.branchTableOffset, end });
  }
  if (sb.deltaRegionOffset !== 0n) {
    regions.push({
      name: "delta region",
      field: "deltaRegionOffset",
      start: sb.deltaRegionOffset,
      end: sb.deltaRegionOffset + sb.deltaRegionSize,
    });
  }
  if (sb.pcacheOffset !== 0n)
    regions.push({
      name: "page cache",
      field: "pcacheOffset",
      start: sb.pcacheOffset,
      end: sb.pcacheOffset + sb.pcacheSize,
    });
  for (let i = 0; i < regions.length; i++) {
    for (let j = i + 1; j < regions.length; j++) {
      const a = regions[i] as (typeof regions)[number];
      const b = regions[j] as (typeof regions)[number];
      if (a.start === a.end || b.start === b.end) continue;
      if (a.start < b.end && b.start < a.end) {
        superProblem(
          log,
          b.field,
          `no overlap with the ${a.name} [${hex(a.start)}, ${hex(a.end)})`,
          `[${hex(b.start)}, ${hex(b.end)})`,
          `${b.name} overlaps the ${a.name}`,
        );
      }
    }
  }
}
