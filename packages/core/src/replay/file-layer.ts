// What one branch level's WRITE and TRUNCATE entries did to one regular file, in a form that
// composes with the levels below (NOTES.md "Semantics"; SPEC 3.7.3, "intended semantics"):
// byte p = the newest write covering p in the nearest level, else the level below's byte if p is
// under every truncation applied since, else zero. Data stays in the image: a segment records
// where its bytes are, never the bytes.

/** Bytes [start, end) of the file are at absolute image offset dataOffset onwards. */
export interface Segment {
  start: number;
  end: number;
  dataOffset: number;
}

export class FileLayer {
  /** Non-overlapping, sorted by start: the level's newest data for each byte. */
  readonly segments: Segment[] = [];
  /** Set once the level truncated the file: its size no longer depends on the level below. */
  truncated = false;
  private sizeAfterTruncate = 0;
  private writeEnd = 0;
  /** Bytes of the level below at or past this offset were cut off by a truncation. */
  lowerLimit = Number.POSITIVE_INFINITY;

  /** Size of the file given the size `lowerSize` it had below this level. */
  sizeOver(lowerSize: number): number {
    return this.truncated ? this.sizeAfterTruncate : Math.max(lowerSize, this.writeEnd);
  }

  /** Index of the first segment that ends after `offset`. */
  firstEndingAfter(offset: number): number {
    let low = 0;
    let high = this.segments.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.segments[mid] as Segment).end > offset) high = mid;
      else low = mid + 1;
    }
    return low;
  }

  /** A WRITE of `length` bytes at file offset `start`, whose data is at `dataOffset` (SPEC 1.5.2). */
  write(start: number, length: number, dataOffset: number): void {
    const end = start + length;
    if (this.truncated) this.sizeAfterTruncate = Math.max(this.sizeAfterTruncate, end);
    else this.writeEnd = Math.max(this.writeEnd, end);
    if (length === 0) return;
    const first = this.firstEndingAfter(start);
    let last = first;
    const kept: Segment[] = [];
    while (last < this.segments.length && (this.segments[last] as Segment).start < end) {
      const old = this.segments[last] as Segment;
      if (old.start < start) kept.push({ start: old.start, end: start, dataOffset: old.dataOffset });
      if (old.end > end)
        kept.push({ start: end, end: old.end, dataOffset: old.dataOffset + (end - old.start) });
      last++;
    }
    const replacement: Segment = { start, end, dataOffset };
    const pieces =
      kept.length === 0
        ? [replacement]
        : [...kept.filter((s) => s.end <= start), replacement, ...kept.filter((s) => s.start >= end)];
    if (first === this.segments.length) this.segments.push(...pieces);
    else this.segments.splice(first, last - first, ...pieces);
  }

  /** A TRUNCATE (or SETATTR with the SIZE bit) to `size`: bytes past it are gone for good. */
  truncate(size: number): void {
    this.truncated = true;
    this.sizeAfterTruncate = size;
    this.lowerLimit = Math.min(this.lowerLimit, size);
    const first = this.firstEndingAfter(size);
    const crossing = this.segments[first];
    let keep = first;
    if (crossing && crossing.start < size) {
      crossing.end = size;
      keep++;
    }
    this.segments.length = keep;
  }
}
