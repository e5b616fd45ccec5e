// The page-cache header (docs/format.md "daxfs_pcache_header"): the one decoder of where a split
// image's page cache keeps its slot records and slot data. PageCacheReader passes throwOnProblem()
// and stops at the first problem; the validator (validate/pcache.ts) collects them and then checks
// every slot record.
import {
  DAXFS_BLOCK_SIZE,
  DAXFS_PCACHE_MAGIC,
  DAXFS_PCACHE_VERSION,
  DaxfsPcacheHeader,
  DaxfsPcacheSlot,
} from "@daxfs/format";
import type { Region } from "../geometry.js";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemKind, type ProblemSink } from "../problems.js";

/** Where the slots are; offsets relative to the page-cache region, both ranges inside it. */
export interface PcacheLayout {
  header: DaxfsPcacheHeader;
  slotCount: number;
  slotMetaOffset: number;
  slotDataOffset: number;
}

/** Decodes the header of the page cache at `pcache` (slot count from the superblock); null after a problem. */
export function decodePcacheHeader(
  source: ImageSource,
  pcache: Region & { slotCount: number },
  sink: ProblemSink,
): PcacheLayout | null {
  const header = DaxfsPcacheHeader.decode(source.read(pcache.offset, DaxfsPcacheHeader.size), 0);
  const problem = (
    field: keyof typeof DaxfsPcacheHeader.offsets,
    expected: string,
    actual: string,
    message: string,
    kind: ProblemKind = "corrupt",
  ) => {
    const cName = DaxfsPcacheHeader.fields.find((f) => f.name === field)?.cName ?? field;
    sink.add({
      offset: pcache.offset + DaxfsPcacheHeader.offsets[field],
      structure: "pcache_header",
      field: cName,
      expected,
      actual,
      message: `page cache: ${message}`,
      kind,
    });
  };
  if (header.magic !== DAXFS_PCACHE_MAGIC) {
    problem("magic", hex(DAXFS_PCACHE_MAGIC), hex(header.magic), `bad magic ${hex(header.magic)}`);
    return null;
  }
  if (header.version !== DAXFS_PCACHE_VERSION) {
    problem(
      "version",
      String(DAXFS_PCACHE_VERSION),
      String(header.version),
      `unknown version ${header.version}`,
      "unsupported",
    );
    return null;
  }
  const slots = pcache.slotCount;
  if (header.slotCount !== slots) {
    problem(
      "slotCount",
      `${slots} (superblock pcache_slot_count)`,
      String(header.slotCount),
      `slot count ${header.slotCount} disagrees with the superblock's ${slots}`,
    );
    return null;
  }
  if (header.hashShift !== Math.log2(slots)) {
    problem(
      "hashShift",
      String(Math.log2(slots)),
      String(header.hashShift),
      "hash shift is not log2(slot count)",
    );
  }
  const size = BigInt(pcache.size);
  const metaBytes = BigInt(slots * DaxfsPcacheSlot.size);
  const dataBytes = BigInt(slots) * BigInt(DAXFS_BLOCK_SIZE);
  let inside = true;
  if (header.slotMetaOffset < BigInt(DaxfsPcacheHeader.size) || header.slotMetaOffset + metaBytes > size) {
    problem(
      "slotMetaOffset",
      `in [4096, ${size - metaBytes}]`,
      String(header.slotMetaOffset),
      "slot records lie outside the page-cache region",
    );
    inside = false;
  }
  if (
    header.slotDataOffset % BigInt(DAXFS_BLOCK_SIZE) !== 0n ||
    header.slotDataOffset < BigInt(DaxfsPcacheHeader.size) ||
    header.slotDataOffset + dataBytes > size
  ) {
    problem(
      "slotDataOffset",
      `a multiple of 4096 in [4096, ${size - dataBytes}]`,
      String(header.slotDataOffset),
      "slot data lies outside the page-cache region",
    );
    inside = false;
  }
  if (
    inside &&
    header.slotMetaOffset < header.slotDataOffset + dataBytes &&
    header.slotDataOffset < header.slotMetaOffset + metaBytes
  ) {
    problem(
      "slotDataOffset",
      "no overlap with the slot records",
      String(header.slotDataOffset),
      "slot data overlaps the slot records",
    );
    inside = false;
  }
  if (!inside) return null;
  return {
    header,
    slotCount: slots,
    slotMetaOffset: Number(header.slotMetaOffset),
    slotDataOffset: Number(header.slotDataOffset),
  };
}
