// Superblock and region checks (SPEC.md 1.2, 1.3, 4.2; NOTES.md layout facts 2-4) the validator
// adds to the geometry decoder every reader uses (geometry.ts): block size, flags, total size, the
// fields a static image leaves 0, the delta allocation pointer, next_branch_id, the page-cache
// hash shift and overlaps between regions. A region the decoder rejects is not handed to the
// later passes, which therefore only ever read inside the image.
import { DAXFS_BLOCK_SIZE, DAXFS_SUPER_SIZE, DaxfsBranch, type DaxfsSuper } from "@daxfs/format";
import { KNOWN_FEATURES } from "../delta/types.js";
import {
  decodeGeometry,
  decodeSuperblock,
  type ImageGeometry,
  type Region,
  superProblem,
} from "../geometry.js";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "../problems.js";

export type { Region } from "../geometry.js";

/** What the later passes may rely on: each region here lies inside the image. */
export interface ImageLayout extends ImageGeometry {
  delta: (Region & { allocOffset: number }) | null;
}

export function checkSuperblock(source: ImageSource, log: ProblemLog): ImageLayout | null {
  const sb = decodeSuperblock(source, log);
  if (!sb) return null;
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
  if ((sb.flags & ~KNOWN_FEATURES) !== 0) {
    // A feature this validator does not know may change what any byte means: refuse to judge.
    superProblem(
      log,
      "flags",
      `bits of ${hex(KNOWN_FEATURES)} (link, utimes, base_mtime)`,
      hex(sb.flags),
      `unknown superblock feature bits ${hex((sb.flags & ~KNOWN_FEATURES) >>> 0)}`,
      "unsupported",
    );
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
  if (sb.baseOffset === 0n) superProblem(log, "baseOffset", "non-zero", "0", "image has no base image");

  const geometry = decodeGeometry(source, sb, log);
  const layout: ImageLayout = { ...geometry, delta: null };
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
    if (sb.deltaRegionOffset === 0n) {
      superProblem(log, "deltaRegionOffset", "non-zero", "0", "branching image without a delta region");
    } else {
      const end = sb.deltaRegionOffset + sb.deltaRegionSize;
      if (sb.deltaAllocOffset < sb.deltaRegionOffset || sb.deltaAllocOffset > end) {
        superProblem(
          log,
          "deltaAllocOffset",
          `in [${hex(sb.deltaRegionOffset)}, ${hex(end)}]`,
          hex(sb.deltaAllocOffset),
          "delta allocation pointer outside the delta region",
        );
      } else if (geometry.delta) {
        layout.delta = { ...geometry.delta, allocOffset: Number(sb.deltaAllocOffset) };
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
    const shift = Math.log2(slots);
    if (Number.isInteger(shift) && sb.pcacheHashShift !== shift) {
      superProblem(
        log,
        "pcacheHashShift",
        String(shift),
        String(sb.pcacheHashShift),
        "hash shift is not log2(slot count)",
      );
    }
  }

  checkOverlaps(log, sb);
  return layout;
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
