// Page-cache region checks (SPEC.md 1.7, 4.2 item 4): the header, its offsets inside the region,
// and every slot record (states, and tags that hash to their own slot: the cache is direct-mapped).
import {
  DAXFS_BLOCK_SIZE,
  DAXFS_PCACHE_MAGIC,
  DAXFS_PCACHE_VERSION,
  DaxfsPcacheHeader,
  DaxfsPcacheSlot,
} from "@daxfs/format";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "../problems.js";
import type { Region } from "./regions.js";

export function checkPageCache(
  source: ImageSource,
  pcache: Region & { slotCount: number },
  log: ProblemLog,
): void {
  const header = DaxfsPcacheHeader.decode(source.read(pcache.offset, DaxfsPcacheHeader.size), 0);
  const at = (field: keyof typeof DaxfsPcacheHeader.offsets) =>
    pcache.offset + DaxfsPcacheHeader.offsets[field];
  const where = "pcache_header";
  if (header.magic !== DAXFS_PCACHE_MAGIC) {
    log.corrupt(
      at("magic"),
      where,
      "magic",
      hex(DAXFS_PCACHE_MAGIC),
      hex(header.magic),
      "bad page-cache magic",
    );
    return;
  }
  if (header.version !== DAXFS_PCACHE_VERSION) {
    log.unsupported(
      at("version"),
      where,
      "version",
      String(DAXFS_PCACHE_VERSION),
      String(header.version),
      "unknown page-cache version",
    );
    return;
  }
  const slots = pcache.slotCount;
  if (header.slotCount !== slots) {
    log.corrupt(
      at("slotCount"),
      where,
      "slot_count",
      `${slots} (superblock pcache_slot_count)`,
      String(header.slotCount),
      "slot counts disagree",
    );
    return;
  }
  if (header.hashShift !== Math.log2(slots)) {
    log.corrupt(
      at("hashShift"),
      where,
      "hash_shift",
      String(Math.log2(slots)),
      String(header.hashShift),
      "hash shift is not log2(slot count)",
    );
  }
  const size = BigInt(pcache.size);
  const metaBytes = BigInt(slots * DaxfsPcacheSlot.size);
  const dataBytes = BigInt(slots) * BigInt(DAXFS_BLOCK_SIZE);
  let ok = true;
  if (header.slotMetaOffset < BigInt(DaxfsPcacheHeader.size) || header.slotMetaOffset + metaBytes > size) {
    log.corrupt(
      at("slotMetaOffset"),
      where,
      "slot_meta_offset",
      `in [4096, ${size - metaBytes}]`,
      String(header.slotMetaOffset),
      "slot records lie outside the page-cache region",
    );
    ok = false;
  }
  if (
    header.slotDataOffset % BigInt(DAXFS_BLOCK_SIZE) !== 0n ||
    header.slotDataOffset < BigInt(DaxfsPcacheHeader.size) ||
    header.slotDataOffset + dataBytes > size
  ) {
    log.corrupt(
      at("slotDataOffset"),
      where,
      "slot_data_offset",
      `a multiple of 4096 in [4096, ${size - dataBytes}]`,
      String(header.slotDataOffset),
      "slot data lies outside the page-cache region",
    );
    ok = false;
  }
  if (
    ok &&
    header.slotMetaOffset < header.slotDataOffset + dataBytes &&
    header.slotDataOffset < header.slotMetaOffset + metaBytes
  ) {
    log.corrupt(
      at("slotDataOffset"),
      where,
      "slot_data_offset",
      "no overlap with the slot records",
      String(header.slotDataOffset),
      "slot data overlaps the slot records",
    );
    ok = false;
  }
  if (header.pendingCount > slots) {
    log.corrupt(
      at("pendingCount"),
      where,
      "pending_count",
      `<= ${slots}`,
      String(header.pendingCount),
      "more pending slots than slots",
    );
  }
  if (!ok) return;
  const metaStart = pcache.offset + Number(header.slotMetaOffset);
  const records = source.read(metaStart, slots * DaxfsPcacheSlot.size);
  const mask = BigInt(slots - 1);
  for (let slot = 0; slot < slots; slot++) {
    const record = DaxfsPcacheSlot.decode(records, slot * DaxfsPcacheSlot.size);
    const state = Number(record.stateTag & 3n);
    const tag = record.stateTag >> 2n;
    const recordAt = metaStart + slot * DaxfsPcacheSlot.size;
    if (state === 3) {
      log.corrupt(
        recordAt,
        `pcache_slot ${slot}`,
        "state_tag",
        "state 0 FREE, 1 PENDING or 2 VALID",
        "3",
        "unknown slot state",
      );
    } else if (state !== 0 && (tag & mask) !== BigInt(slot)) {
      log.corrupt(
        recordAt,
        `pcache_slot ${slot}`,
        "state_tag",
        `a page index p with p & ${slots - 1} = ${slot}`,
        String(tag),
        "cached page is in the wrong slot",
      );
    }
  }
}
