// Read side of the shared page cache of a split image (SPEC 1.7, OVERVIEW 7): a direct-mapped
// cache of backing-file pages inside the image. It lets a reader that has the memory but not the
// backing file (a dma-buf mapped by a tool) still read every page some kernel has cached.
import {
  DAXFS_BLOCK_SIZE,
  DAXFS_PCACHE_MAGIC,
  DaxfsPcacheHeader,
  DaxfsPcacheSlot,
  PcacheState,
} from "@daxfs/format";
import { CorruptImageError, toSafeNumber } from "../errors.js";
import type { ImageSource } from "../image-source.js";

export class PageCacheReader {
  readonly slotCount: number;
  private readonly slotMetaOffset: number;
  private readonly slotDataOffset: number;

  /** Reads the header at absolute `offset`; the region is `size` bytes. */
  constructor(
    private readonly source: ImageSource,
    private readonly offset: number,
    size: number,
  ) {
    if (size < DaxfsPcacheHeader.size)
      throw new CorruptImageError(`page cache: region of ${size} bytes is smaller than its header`, offset);
    const header = DaxfsPcacheHeader.decode(source.read(offset, DaxfsPcacheHeader.size));
    if (header.magic !== DAXFS_PCACHE_MAGIC) {
      throw new CorruptImageError(
        `page cache: bad magic 0x${header.magic.toString(16)} (expected 0x${DAXFS_PCACHE_MAGIC.toString(16)})`,
        offset,
      );
    }
    this.slotCount = header.slotCount;
    this.slotMetaOffset = toSafeNumber(header.slotMetaOffset, "page cache: slot_meta_offset", offset);
    this.slotDataOffset = toSafeNumber(header.slotDataOffset, "page cache: slot_data_offset", offset);
    const powerOfTwo = this.slotCount > 0 && (this.slotCount & (this.slotCount - 1)) === 0;
    if (
      !powerOfTwo ||
      this.slotMetaOffset + this.slotCount * DaxfsPcacheSlot.size > size ||
      this.slotDataOffset + this.slotCount * DAXFS_BLOCK_SIZE > size
    ) {
      throw new CorruptImageError(
        `page cache: ${this.slotCount} slots do not fit its ${size}-byte region`,
        offset,
      );
    }
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
