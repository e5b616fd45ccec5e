// Page-cache region checks (SPEC.md 1.7, 4.2 item 4): the header through the readers' decoder
// (base/pcache-header.ts), its pending count, and every slot record (states, and tags that hash
// to their own slot: the cache is direct-mapped).
import { DaxfsPcacheHeader, DaxfsPcacheSlot } from "@daxfs/format";
import { decodePcacheHeader } from "../base/pcache-header.js";
import type { ImageSource } from "../image-source.js";
import type { ProblemLog } from "../problems.js";
import type { Region } from "./regions.js";

export function checkPageCache(
  source: ImageSource,
  pcache: Region & { slotCount: number },
  log: ProblemLog,
): void {
  const where = "pcache_header";
  const decoded = decodePcacheHeader(source, pcache, log);
  if (!decoded) return;
  const { header, slotCount: slots } = decoded;
  if (header.pendingCount > slots) {
    log.corrupt(
      pcache.offset + DaxfsPcacheHeader.offsets.pendingCount,
      where,
      "pending_count",
      `<= ${slots}`,
      String(header.pendingCount),
      "more pending slots than slots",
    );
  }
  const metaStart = pcache.offset + decoded.slotMetaOffset;
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
