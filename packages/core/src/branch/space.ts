// Delta-region space (NOTES.md "Space", docs/space.md). The public module bump-allocates a fixed
// 1 MiB log per branch and never grows it. We keep the bump allocator (delta_alloc_offset is the
// only allocation state the format has) but start logs small and, when an append or a commit merge
// does not fit, move the log to a larger extent: copy, then repoint the record. Every step leaves
// the record valid, so a crash at any point loses nothing that was published. Space no mount can
// read any more (dead logs, moved-away extents) is reused first (free-extents.ts, leases.ts).
import { BranchState } from "@daxfs/format";
import type { BranchRecord } from "../branch-record.js";
import { DaxfsError } from "../errors.js";
import type { DaxfsImage } from "../image.js";
import type { ImageSource } from "../image-source.js";
import { freeBytes, readFreeExtents, reclaim, retireExtent, takeFreeExtent } from "./free-extents.js";
import { leasedChains, leaseHolderIsDead, readLeases } from "./leases.js";
import type { BranchContext } from "./lifecycle.js";
import {
  type BranchingGeometry,
  branchingGeometry,
  RECORD,
  readU64,
  recordOffset,
  SUPER,
  writeU64,
} from "./records.js";

/** First capacity of a log we create; doubled on each move. */
export const INITIAL_LOG_CAPACITY = 64 * 1024;
/** Extents start on page boundaries so page-aligned WRITE data (SPEC 1.5.9) stays aligned after a move. */
export const EXTENT_ALIGN = 4096;
/** Headroom of a tight growth: an eighth of the bytes needed (docs/space.md "Growth headroom"). */
const TIGHT_HEADROOM_DIVISOR = 8;

export function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Bytes of the delta region past the bump cursor (what the public module could still allocate). */
export function deltaSpaceLeft(source: ImageSource, geometry: BranchingGeometry): number {
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  return Math.max(0, geometry.regionOffset + geometry.regionSize - alignUp(cursor, EXTENT_ALIGN));
}

/**
 * Takes `capacity` bytes, or null if no run that long is free (caller holds the coordination lock).
 * Freed space first (free-extents.ts: dead logs no lease reaches, extents whose readers are gone),
 * else the bump cursor, which is advanced and flushed before the extent is used, so a crash can leak
 * space but never hand the same bytes to two logs.
 */
function tryAllocateExtent(ctx: BranchContext, capacity: number): number | null {
  reclaim(ctx);
  const reused = takeFreeExtent(ctx, capacity);
  if (reused !== null) return reused;
  const { source, geometry } = ctx;
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  const start = alignUp(Math.max(cursor, geometry.regionOffset), EXTENT_ALIGN);
  const end = start + capacity;
  if (end > geometry.regionOffset + geometry.regionSize) return null;
  writeU64(source, SUPER.deltaAllocOffset, end);
  source.flush();
  return start;
}

/** As tryAllocateExtent, ENOSPC when nothing fits. */
export function allocateExtent(ctx: BranchContext, capacity: number): number {
  const start = tryAllocateExtent(ctx, capacity);
  if (start !== null) return start;
  throw new DaxfsError(
    "ENOSPC",
    `${ctx.source.name}: delta region full (${capacity} bytes wanted, ${freeSpaceText(ctx.image, capacity)})`,
  );
}

/**
 * What the region has free for an allocation of `wanted` bytes that failed: "N free" and, only
 * when N would be enough, "but not in one piece"; then the bytes still held for live mounts.
 */
export function freeSpaceText(image: DaxfsImage, wanted: number): string {
  const usage = deltaUsage(image) as DeltaUsage;
  const free = usage.size - usage.used;
  const pieces = free >= wanted ? " but not in one piece" : "";
  return `${free} free${pieces}, ${usage.waiting} more waiting for mounts to end`;
}

/** How much of the delta region is in use, for statfs and the 90% warning (docs/space.md). */
export interface DeltaUsage {
  /** Bytes in the region. */
  size: number;
  /** Bytes held by live logs, moved-away extents still readable, and leaked bytes. */
  used: number;
  /** Of `used`: extents waiting for the leases that may read them to end. */
  waiting: number;
}

/**
 * The delta region's usage as stored now; no lock needed (a snapshot), nothing is written. Null for
 * a static image.
 */
export function deltaUsage(image: DaxfsImage): DeltaUsage | null {
  if (!image.branching) return null;
  const source = image.source;
  const geometry = branchingGeometry(image.geometry, source.name);
  const ctx = { source, image, geometry };
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  const handedOut = Math.max(
    0,
    Math.min(cursor, geometry.regionOffset + geometry.regionSize) - geometry.regionOffset,
  );
  const free = freeBytes(ctx);
  const leases = readLeases(ctx).filter((lease) => !leaseHolderIsDead(lease));
  const chains = leasedChains(ctx as BranchContext, leases);
  // What the next allocation's reclaim() frees counts as free already: dead logs no live lease
  // reaches, and retired extents no older live lease reaches (the same rules, read-only).
  let reclaimable = 0;
  let released = 0;
  if (chains) {
    for (const record of ctx.image.branches()) {
      const dead = record.state === BranchState.ABORTED || record.state === BranchState.COMMITTED;
      if (dead && !chains.has(record.id)) reclaimable += record.logCapacity;
    }
    for (const extent of readFreeExtents(ctx)) {
      if (extent.holder === 0) continue;
      const oldest = chains.get(extent.holder);
      if (oldest === undefined || oldest >= extent.serial) released += extent.size;
    }
  }
  return {
    size: geometry.regionSize,
    used: Math.max(0, handedOut - free.now - released - reclaimable),
    waiting: free.waiting - released,
  };
}

/** The warning line when more than 90% of the region is in use, else null. */
export function deltaUsageWarning(name: string, usage: DeltaUsage): string | null {
  if (usage.size === 0 || usage.used * 10 <= usage.size * 9) return null;
  const percent = Math.floor((usage.used * 100) / usage.size);
  return `${name}: delta region ${percent}% used (${usage.used} of ${usage.size} bytes); commit or abort branches, or rebuild the image`;
}

/**
 * Why a log grows: `append` (entries one by one: when the log must move, doubling keeps the
 * copies linear) or `merge` (a commit adds a child's whole log at once: doubling would leave up
 * to half of a large parent empty for good). docs/space.md "Growth headroom".
 */
export type LogGrowth = "append" | "merge";

/**
 * The capacity a log grows to so that `needed` bytes fit: doubling, or with `tight` (a merge, or
 * growth in place, which copies nothing) at most an eighth (at least 64 KiB) more than needed.
 */
export function grownCapacity(current: number, needed: number, tight = false): number {
  let capacity = Math.max(current, INITIAL_LOG_CAPACITY);
  while (capacity < needed) capacity *= 2;
  if (tight)
    capacity = Math.min(
      capacity,
      needed + Math.max(Math.floor(needed / TIGHT_HEADROOM_DIVISOR), INITIAL_LOG_CAPACITY),
    );
  return alignUp(capacity, EXTENT_ALIGN);
}

/**
 * Makes `record`'s log able to hold `needed` bytes, moving it if it must (caller holds the
 * coordination lock). Order: copy the published bytes to the new extent and flush; write the new
 * offset (the old capacity still fits inside the larger new extent, so the record is valid); then
 * the new capacity. The old extent is retired, not freed: a mount elsewhere may still be reading
 * from it, so it is reused only once every lease that could reach it is gone (free-extents.ts).
 * If even a tight fit cannot be had, ENOSPC is thrown and nothing has changed but leaked space.
 */
export function ensureLogCapacity(
  ctx: BranchContext,
  record: BranchRecord,
  needed: number,
  growth: LogGrowth = "append",
): BranchRecord {
  const { source, geometry } = ctx;
  if (needed <= record.logCapacity) return record;
  if (record.state === BranchState.FREE)
    throw new DaxfsError("EINVAL", `${source.name}: slot ${record.slot} is FREE`);
  const at = recordOffset(geometry, record.slot);
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  const regionEnd = geometry.regionOffset + geometry.regionSize;
  // The log is the last extent handed out: extend it in place, no copy and no leak, so an eighth
  // of headroom is enough (doubling would hold up to half of the log's size unused until the
  // branch ends). The cursor moves first, so the capacity written after it never claims bytes
  // someone else may get.
  if (record.logOffset + record.logCapacity === cursor && record.logOffset % EXTENT_ALIGN === 0) {
    let capacity = grownCapacity(record.logCapacity, needed, true);
    if (record.logOffset + capacity > regionEnd) capacity = alignUp(needed, EXTENT_ALIGN);
    if (record.logOffset + capacity <= regionEnd) {
      writeU64(source, SUPER.deltaAllocOffset, record.logOffset + capacity);
      source.flush();
      writeU64(source, at + RECORD.deltaLogCapacity, capacity);
      source.flush();
      return { ...record, logCapacity: capacity };
    }
  }
  let capacity = grownCapacity(record.logCapacity, needed, growth === "merge");
  let newOffset = tryAllocateExtent(ctx, capacity);
  if (newOffset === null) {
    capacity = alignUp(needed, EXTENT_ALIGN);
    newOffset = allocateExtent(ctx, capacity);
  }
  if (record.logSize > 0) source.write(newOffset, source.read(record.logOffset, record.logSize).slice());
  source.flush();
  writeU64(source, at + RECORD.deltaLogOffset, newOffset);
  source.flush();
  writeU64(source, at + RECORD.deltaLogCapacity, capacity);
  source.flush();
  retireExtent(ctx, record.id, record.logOffset, record.logCapacity);
  return { ...record, logOffset: newOffset, logCapacity: capacity };
}
