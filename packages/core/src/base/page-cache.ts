// Read side of the shared page cache of a split image (SPEC 1.7, OVERVIEW 7): a direct-mapped
// cache of backing-file pages inside the image. It lets a reader that has the memory but not the
// backing file (a dma-buf mapped by a tool) still read every page some kernel has cached.
import { DAXFS_BLOCK_SIZE, type DaxfsPcacheHeader, DaxfsPcacheSlot, PcacheState } from "@daxfs/format";
import type { Region } from "../geometry.js";
import type { ImageSource } from "../image-source.js";
import { throwOnProblem } from "../problems.js";
import { decodePcacheHeader, type PcacheLayout } from "./pcache-header.js";

export class PageCacheReader {
  readonly slotCount: number;
  /** The header as decoded at open (its pending_count changes; slotStates() reads slots fresh). */
  readonly header: DaxfsPcacheHeader;
  private readonly offset: number;
  private readonly slotMetaOffset: number;
  private readonly slotDataOffset: number;

  /** Reads the header of the page cache `pcache` (absolute offset, size, slot count from the superblock). */
  constructor(
    private readonly source: ImageSource,
    pcache: Region & { slotCount: number },
  ) {
    this.offset = pcache.offset;
    const layout = decodePcacheHeader(source, pcache, throwOnProblem(source.name)) as PcacheLayout;
    this.header = layout.header;
    this.slotCount = layout.slotCount;
    this.slotMetaOffset = layout.slotMetaOffset;
    this.slotDataOffset = layout.slotDataOffset;
  }

  /** How many slots are VALID, PENDING and FREE now. */
  slotStates(): { valid: number; pending: number; free: number } {
    const records = this.source.read(
      this.offset + this.slotMetaOffset,
      this.slotCount * DaxfsPcacheSlot.size,
    );
    let valid = 0;
    let pending = 0;
    for (let slot = 0; slot < this.slotCount; slot++) {
      const state = Number(DaxfsPcacheSlot.decode(records, slot * DaxfsPcacheSlot.size).stateTag & 3n);
      if (state === PcacheState.VALID) valid++;
      else if (state === PcacheState.PENDING) pending++;
    }
    return { valid, pending, free: this.slotCount - valid - pending };
  }

  /** Backing page `page` (4096 bytes) if its slot holds it VALID now, else undefined. */
  readPage(page: number): Uint8Array | undefined {
    const slot = page % this.slotCount;
    const metaAt = this.offset + this.slotMetaOffset + slot * DaxfsPcacheSlot.size;
    const wanted = (BigInt(page) << 2n) | BigInt(PcacheState.VALID);
    const stateTag = () => DaxfsPcacheSlot.decode(this.source.read(metaAt, DaxfsPcacheSlot.size)).stateTag;
    if (stateTag() !== wanted) return undefined;
    const data = this.source
      .read(this.offset + this.slotDataOffset + slot * DAXFS_BLOCK_SIZE, DAXFS_BLOCK_SIZE)
      .slice();
    // A kernel may evict the slot while we copy: the copy counts only if the tag is unchanged after it.
    return stateTag() === wanted ? data : undefined;
  }
}
