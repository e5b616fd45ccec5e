// Delta-region space (NOTES.md "Space", docs/space.md). The public module bump-allocates a fixed
// 1 MiB log per branch and never grows it. We keep the bump allocator (delta_alloc_offset is the
// only allocation state the format has) but start logs small and, when an append or a commit merge
// does not fit, move the log to a larger extent: copy, then repoint the record. Every step leaves
// the record valid, so a crash at any point loses nothing that was published.
import { BranchState } from "@daxfs/format";
import type { BranchRecord } from "../branch-record.js";
import { DaxfsError } from "../errors.js";
import type { ImageSource } from "../image-source.js";
import { type BranchingGeometry, RECORD, readU64, recordOffset, SUPER, writeU64 } from "./records.js";

/** First capacity of a log we create; doubled on each move. */
export const INITIAL_LOG_CAPACITY = 64 * 1024;
/** Extents start on page boundaries so page-aligned WRITE data (SPEC 1.5.9) stays aligned after a move. */
export const EXTENT_ALIGN = 4096;

function alignUp(value: number, align: number): number {
  return Math.ceil(value / align) * align;
}

/** Bytes of the delta region not yet handed out. */
export function deltaSpaceLeft(source: ImageSource, geometry: BranchingGeometry): number {
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  return Math.max(0, geometry.regionOffset + geometry.regionSize - alignUp(cursor, EXTENT_ALIGN));
}

/**
 * Takes `capacity` bytes from the delta region (caller holds the coordination lock). The cursor is
 * advanced and flushed before the extent is used, so a crash can leak space but never hand the
 * same bytes to two logs.
 */
export function allocateExtent(source: ImageSource, geometry: BranchingGeometry, capacity: number): number {
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  const start = alignUp(Math.max(cursor, geometry.regionOffset), EXTENT_ALIGN);
  const end = start + capacity;
  if (end > geometry.regionOffset + geometry.regionSize) {
    throw new DaxfsError(
      "ENOSPC",
      `${source.name}: delta region full (${capacity} bytes wanted, ${Math.max(0, geometry.regionOffset + geometry.regionSize - start)} left)`,
    );
  }
  writeU64(source, SUPER.deltaAllocOffset, end);
  source.flush();
  return start;
}

/** The capacity a log must move to so that `needed` bytes fit: doubling, capped by the region. */
export function grownCapacity(current: number, needed: number): number {
  let capacity = Math.max(current, INITIAL_LOG_CAPACITY);
  while (capacity < needed) capacity *= 2;
  return alignUp(capacity, EXTENT_ALIGN);
}

/**
 * Makes `record`'s log able to hold `needed` bytes, moving it if it must (caller holds the
 * coordination lock). Order: copy the published bytes to the new extent and flush; write the new
 * offset (the old capacity still fits inside the larger new extent, so the record is valid); then
 * the new capacity. The old extent is not reused: a mount elsewhere may still be reading from it.
 * If even a tight fit cannot be had, ENOSPC is thrown and nothing has changed but leaked space.
 */
export function ensureLogCapacity(
  source: ImageSource,
  geometry: BranchingGeometry,
  record: BranchRecord,
  needed: number,
): BranchRecord {
  if (needed <= record.logCapacity) return record;
  if (record.state === BranchState.FREE)
    throw new DaxfsError("EINVAL", `${source.name}: slot ${record.slot} is FREE`);
  const at = recordOffset(geometry, record.slot);
  const cursor = readU64(source, SUPER.deltaAllocOffset, "delta_alloc_offset");
  const regionEnd = geometry.regionOffset + geometry.regionSize;
  // The log is the last extent handed out: extend it in place, no copy and no leak. The cursor
  // moves first, so the capacity written after it never claims bytes someone else may get.
  if (record.logOffset + record.logCapacity === cursor && record.logOffset % EXTENT_ALIGN === 0) {
    let capacity = grownCapacity(record.logCapacity, needed);
    if (record.logOffset + capacity > regionEnd) capacity = alignUp(needed, EXTENT_ALIGN);
    if (record.logOffset + capacity > regionEnd) {
      throw new DaxfsError(
        "ENOSPC",
        `${source.name}: delta region full (log of branch ${record.id} needs ${needed} bytes)`,
      );
    }
    writeU64(source, SUPER.deltaAllocOffset, record.logOffset + capacity);
    source.flush();
    writeU64(source, at + RECORD.deltaLogCapacity, capacity);
    source.flush();
    return { ...record, logCapacity: capacity };
  }
  let capacity = grownCapacity(record.logCapacity, needed);
  if (capacity > deltaSpaceLeft(source, geometry)) capacity = alignUp(needed, EXTENT_ALIGN);
  const newOffset = allocateExtent(source, geometry, capacity);
  if (record.logSize > 0) source.write(newOffset, source.read(record.logOffset, record.logSize).slice());
  source.flush();
  writeU64(source, at + RECORD.deltaLogOffset, newOffset);
  source.flush();
  writeU64(source, at + RECORD.deltaLogCapacity, capacity);
  source.flush();
  return { ...record, logOffset: newOffset, logCapacity: capacity };
}
