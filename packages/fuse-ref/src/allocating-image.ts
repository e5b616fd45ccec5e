// A writable mapping of an image file that may have holes (made with `mkdaxfs --sparse`, by another
// tool, or on a file system that could not hold it whole). A store into a hole of a MAP_SHARED
// mapping makes the kernel allocate the block; on a full file system that fails with SIGBUS, which
// kills daxfs-fuse and leaves a dead mount. So before any write reaches the mapping, the pages it
// touches are allocated with posix_fallocate, and a failure becomes ENOSPC for that one writer
// (docs/fuse.md "Full file systems"). Reads need nothing: a hole reads as zeros.
import { DaxfsError, type ImageSource, type MemoryImage } from "@daxfs/core";
import { allocateFile } from "@daxfs/linux";

const PAGE = 4096;

export class AllocatingImage implements ImageSource {
  /** One flag per page: allocated by us (or found allocated) already. */
  private readonly allocated: Uint8Array;

  constructor(
    private readonly mapped: MemoryImage,
    /** The image file, open for writing, for posix_fallocate; its opener closes it. */
    private readonly fd: number,
  ) {
    this.allocated = new Uint8Array(Math.ceil(mapped.size / PAGE));
  }

  get size(): number {
    return this.mapped.size;
  }
  get writable(): boolean {
    return this.mapped.writable;
  }
  get name(): string {
    return this.mapped.name;
  }

  read(offset: number, length: number): Uint8Array {
    return this.mapped.read(offset, length);
  }

  write(offset: number, bytes: Uint8Array): void {
    this.ensureAllocated(offset, bytes.length);
    this.mapped.write(offset, bytes);
  }

  compareExchange32(offset: number, expected: number, replacement: number): number {
    this.ensureAllocated(offset, 4);
    return this.mapped.compareExchange32(offset, expected, replacement);
  }

  flush(): void {
    this.mapped.flush();
  }

  close(): void {
    this.mapped.close();
  }

  /** Allocates the pages of [offset, offset+length) not known to be allocated; ENOSPC if it cannot. */
  private ensureAllocated(offset: number, length: number): void {
    if (length === 0 || offset < 0 || offset + length > this.size) return; // the mapping reports the range
    let first = Math.floor(offset / PAGE);
    let last = Math.floor((offset + length - 1) / PAGE);
    while (first <= last && this.allocated[first]) first++;
    while (last >= first && this.allocated[last]) last--;
    if (first > last) return;
    const start = first * PAGE;
    const end = Math.min((last + 1) * PAGE, this.size);
    try {
      allocateFile(this.fd, end, undefined, start);
    } catch (error) {
      // The reason in words, not as "(ENOSPC)": whoever reports a DaxfsError adds its code
      // (daxfs-branch prints "... (ENOSPC)" after the message the control socket passes on).
      const code = (error as { code?: string }).code;
      const reason = code === "ENOSPC" ? "no space left on device" : (error as Error).message;
      throw new DaxfsError(
        code === "ENOSPC" ? "ENOSPC" : "EIO",
        `${this.name}: cannot allocate ${end - start} bytes at ${start} of the image: ${reason}`,
      );
    }
    this.allocated.fill(1, first, last + 1);
  }
}
