// Free extents of the delta region (docs/space.md "Reuse"): logs of COMMITTED and ABORTED branches
// that no lease reaches, and extents a log moved away from once every lease that could have read
// them is gone. The table lives in the superblock's reserved bytes after the lease table. Every
// change leaves the table describing a subset of what is really free: a crash can leak space, never
// hand bytes still readable by a mount to a new log.
import { BranchState } from "@daxfs/format";
import type { BranchRecord } from "../branch-record.js";
import { currentSerial, leasedChains, liveLeases, markReuse } from "./leases.js";
import type { BranchContext } from "./lifecycle.js";
import { RECORD, readU32, readU64, recordOffset, SUPER, writeU32, writeU64 } from "./records.js";

export const FREE_TABLE_OFFSET = 3088;
export const FREE_ENTRIES = 39;
export const FREE_SIZE = 24;
/** size 0 = unused entry. holder 0 = free now; otherwise free once no lease older than serial reaches holder. */
const FREE = { offset: 0, size: 8, holder: 16, serial: 20 } as const;
const PAGE = 4096;

export interface FreeExtent {
  index: number;
  offset: number;
  size: number;
  /** Branch id whose readers may still hold it; 0 when free now. */
  holder: number;
  /** Leases with a smaller serial that reach `holder` keep it. */
  serial: number;
}

function entryAt(index: number): number {
  return FREE_TABLE_OFFSET + index * FREE_SIZE;
}

export function readFreeExtents(ctx: Pick<BranchContext, "source">): FreeExtent[] {
  const extents: FreeExtent[] = [];
  for (let index = 0; index < FREE_ENTRIES; index++) {
    const at = entryAt(index);
    const size = readU64(ctx.source, at + FREE.size, "free extent size");
    if (size === 0) continue;
    extents.push({
      index,
      offset: readU64(ctx.source, at + FREE.offset, "free extent offset"),
      size,
      holder: readU32(ctx.source, at + FREE.holder),
      serial: readU32(ctx.source, at + FREE.serial),
    });
  }
  return extents;
}

/**
 * Records [offset, +size) as free (caller holds the lock and has made sure nothing names it any
 * more). An extent free now joins an adjacent one when it can. With the table full the smaller of
 * the new extent and the smallest entry is leaked (forgotten, never handed out).
 */
export function addFreeExtent(
  ctx: BranchContext,
  offset: number,
  size: number,
  holder = 0,
  serial = 0,
): void {
  if (size <= 0 || holder > 0xffff_ffff) return; // a holder id that does not fit stays leaked
  const extents = readFreeExtents(ctx);
  if (holder === 0) {
    for (const extent of extents) {
      if (extent.holder !== 0) continue;
      const at = entryAt(extent.index);
      if (extent.offset + extent.size === offset) {
        writeU64(ctx.source, at + FREE.size, extent.size + size);
        ctx.source.flush();
        return;
      }
      if (offset + size === extent.offset) {
        // Offset first: [offset, +old size) lies inside the union, so the entry stays a subset.
        writeU64(ctx.source, at + FREE.offset, offset);
        ctx.source.flush();
        writeU64(ctx.source, at + FREE.size, extent.size + size);
        ctx.source.flush();
        return;
      }
    }
  }
  let index = -1;
  for (let i = 0; i < FREE_ENTRIES && index < 0; i++)
    if (readU64(ctx.source, entryAt(i) + FREE.size, "free extent size") === 0) index = i;
  if (index < 0) {
    const smallest = extents.reduce((a, b) => (b.size < a.size ? b : a));
    if (smallest.size >= size) return;
    index = smallest.index;
    writeU64(ctx.source, entryAt(index) + FREE.size, 0);
    ctx.source.flush();
  }
  const at = entryAt(index);
  writeU64(ctx.source, at + FREE.offset, offset);
  writeU32(ctx.source, at + FREE.holder, holder);
  writeU32(ctx.source, at + FREE.serial, serial);
  markReuse(ctx);
  ctx.source.flush();
  writeU64(ctx.source, at + FREE.size, size);
  ctx.source.flush();
}

/** [offset, +size) inside the handed-out part of the delta region (a damaged entry is never used). */
function inRegion(ctx: BranchContext, offset: number, size: number): boolean {
  const cursor = Math.min(
    readU64(ctx.source, SUPER.deltaAllocOffset, "delta_alloc_offset"),
    ctx.geometry.regionOffset + ctx.geometry.regionSize,
  );
  return offset >= ctx.geometry.regionOffset && offset + size <= cursor;
}

/** Records the extent `record` just moved away from: free once the leases that might read it are gone. */
export function retireExtent(ctx: BranchContext, branchId: number, offset: number, size: number): void {
  addFreeExtent(ctx, offset, size, branchId, currentSerial(ctx));
}

/**
 * Frees what no live lease can read any more (caller holds the lock): the logs of dead records
 * outside every leased chain (size, then capacity zeroed, then the extent recorded), and retired
 * extents whose holder no older lease reaches. Does nothing when a lease's chain cannot be resolved.
 * Returns the records it read (ids, parents and states as before the call) and the leased chains.
 */
export function reclaim(ctx: BranchContext): { records: BranchRecord[]; chains: Map<number, number> | null } {
  const records = ctx.image.branches();
  const chains = leasedChains(ctx, liveLeases(ctx), records);
  if (!chains) return { records, chains };
  for (const extent of readFreeExtents(ctx)) {
    if (extent.holder === 0) continue;
    const oldest = chains.get(extent.holder);
    if (oldest !== undefined && oldest < extent.serial) continue;
    writeU32(ctx.source, entryAt(extent.index) + FREE.holder, 0);
    ctx.source.flush();
  }
  for (const record of records) {
    const dead = record.state === BranchState.ABORTED || record.state === BranchState.COMMITTED;
    if (!dead || record.logCapacity === 0 || chains.has(record.id)) continue;
    if (!inRegion(ctx, record.logOffset, record.logCapacity)) continue; // damaged: never freed
    const at = recordOffset(ctx.geometry, record.slot);
    writeU64(ctx.source, at + RECORD.deltaLogSize, 0);
    ctx.source.flush();
    writeU64(ctx.source, at + RECORD.deltaLogCapacity, 0);
    ctx.source.flush();
    addFreeExtent(ctx, record.logOffset, record.logCapacity);
  }
  // Unconditional neighbours recorded apart (one was retired, the other freed) are joined.
  for (let joined = true; joined; ) {
    joined = false;
    const free = readFreeExtents(ctx).filter((e) => e.holder === 0);
    for (const a of free) {
      const b = free.find((e) => e.offset === a.offset + a.size);
      if (!b) continue;
      writeU64(ctx.source, entryAt(b.index) + FREE.size, 0);
      ctx.source.flush();
      writeU64(ctx.source, entryAt(a.index) + FREE.size, a.size + b.size);
      ctx.source.flush();
      joined = true;
      break;
    }
  }
  return { records, chains };
}

/**
 * Takes `capacity` bytes from the free table (caller holds the lock, after `reclaim`): the tightest
 * free-now extent that holds a page-aligned run of that size. The run is cut from the extent's end,
 * so one store (the smaller size) takes it; null when nothing fits.
 */
export function takeFreeExtent(ctx: BranchContext, capacity: number): number | null {
  let best: { extent: FreeExtent; start: number } | null = null;
  for (const extent of readFreeExtents(ctx)) {
    if (extent.holder !== 0 || !inRegion(ctx, extent.offset, extent.size)) continue;
    const start = Math.floor((extent.offset + extent.size - capacity) / PAGE) * PAGE;
    if (start < extent.offset) continue;
    if (!best || extent.size < best.extent.size) best = { extent, start };
  }
  if (!best) return null;
  writeU64(ctx.source, entryAt(best.extent.index) + FREE.size, best.start - best.extent.offset);
  ctx.source.flush();
  return best.start;
}

/** Bytes the free table holds, split into free now and waiting for leases to go. */
export function freeBytes(ctx: Pick<BranchContext, "source">): { now: number; waiting: number } {
  let now = 0;
  let waiting = 0;
  for (const extent of readFreeExtents(ctx)) {
    if (extent.holder === 0) now += extent.size;
    else waiting += extent.size;
  }
  return { now, waiting };
}
