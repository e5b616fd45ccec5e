// Destinations for a new image. The layout is written in one ascending pass (plan.ts orders every
// region and data item by offset), so a file destination can batch many small items into one
// pwrite and leave everything never written as a sparse hole of zeros. A sparse file destination
// (mkdaxfs --sparse) also leaves out every block of zeros it is given, as mkfs.erofs and
// `cp --sparse=always` do, so the image takes about the disk space of its data.
import { writeSync } from "node:fs";
import { DAXFS_BLOCK_SIZE } from "@daxfs/format";

export interface ImageSink {
  /**
   * A view to fill with the `length` bytes at `offset`, valid until the next call. Offsets must
   * ascend without overlap; bytes skipped between views read as zero.
   */
  slice(offset: number, length: number): Uint8Array;
  /** Longest view one call may ask for. */
  readonly maxSlice: number;
  /** Writes out whatever is buffered. */
  flush(): void;
  /**
   * Copies `length` bytes of file `fd` at `sourceOffset` to `destination` inside the kernel
   * (copy_file_range), if this sink can; returns the bytes copied (short at the source's EOF), or
   * -1 if it cannot, having copied nothing.
   */
  copyFromFd?(fd: number, sourceOffset: number, destination: number, length: number): number;
  /**
   * Blocks of zeros are not written (they stay holes of the file): a copier should skip its
   * source's holes rather than read them, and copy through `slice` (which sees the zeros) rather
   * than `copyFromFd` (which cannot).
   */
  readonly sparse?: boolean;
}

/**
 * copy_file_range(2) as the caller can provide it (core has no native bindings): returns the
 * bytes copied, 0 at the source's end; throws an error with `code` (EXDEV, ENOSYS...) on failure.
 */
export type CopyFileRange = (
  inFd: number,
  inOffset: number,
  outFd: number,
  outOffset: number,
  length: number,
) => number;

const UNSUPPORTED = new Set(["EXDEV", "ENOSYS", "EOPNOTSUPP", "EINVAL", "EBADF"]);
/** copy_file_range failures that are the destination's: the image's file system, not the source. */
const DESTINATION_ERRORS = new Set(["ENOSPC", "EDQUOT", "EFBIG"]);

/**
 * A write to the image's own file failed (a full file system, a quota, EIO): the writer names the
 * image in its message, not the source file whose bytes were being copied.
 */
export class ImageWriteError extends Error {
  override readonly name = "ImageWriteError";
  constructor(readonly failure: unknown) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}

/** Writes into memory that is already zero (a new buffer, a fresh dma-buf, a zeroed mapping). */
export class MemorySink implements ImageSink {
  readonly maxSlice = 1 << 30;
  constructor(readonly bytes: Uint8Array) {}

  slice(offset: number, length: number): Uint8Array {
    if (offset + length > this.bytes.length) {
      throw new RangeError(`image write of ${length} bytes at ${offset} runs past ${this.bytes.length}`);
    }
    return this.bytes.subarray(offset, offset + length);
  }

  flush(): void {}
}

const DEFAULT_WINDOW = 4 << 20;

/** A block of zeros to compare the window's blocks with (memcmp through Buffer#compare). */
const ZERO_BLOCK = Buffer.alloc(DAXFS_BLOCK_SIZE);

/**
 * Writes to a new file descriptor (sized with ftruncate after the fill) through one reusable
 * window. With `sparse`, each block of the image (DAXFS_BLOCK_SIZE, at image offsets) that is all
 * zeros in the window is skipped: the file is new, so a byte never written reads as zero and the
 * image bytes are those of a full write.
 */
export class FileSink implements ImageSink {
  readonly maxSlice: number;
  readonly sparse: boolean;
  /** A plain Uint8Array: its subarray, one per slice, costs less than a Buffer's. */
  private readonly window: Uint8Array;
  /** The same memory as a Buffer, for the zero test (compare without a subarray per block). */
  private readonly windowBuffer: Buffer;
  private windowStart = 0;
  private used = 0;

  private copyFileRange: CopyFileRange | undefined;

  constructor(
    private readonly fd: number,
    options: { windowBytes?: number; copyFileRange?: CopyFileRange; sparse?: boolean } = {},
  ) {
    const windowBytes = options.windowBytes ?? DEFAULT_WINDOW;
    this.window = new Uint8Array(windowBytes);
    this.windowBuffer = Buffer.from(this.window.buffer, 0, windowBytes);
    this.sparse = options.sparse === true;
    this.maxSlice = windowBytes;
    this.copyFileRange = options.copyFileRange;
  }

  copyFromFd(fd: number, sourceOffset: number, destination: number, length: number): number {
    // A sparse image is copied through the window, where its zeros are seen (an in-kernel copy
    // would write the source's holes and zeros as data).
    if (!this.copyFileRange || this.sparse) return -1;
    if (destination < this.windowStart + this.used)
      throw new RangeError(`image writes must ascend: ${destination}`);
    this.flush();
    let done = 0;
    while (done < length) {
      let copied: number;
      try {
        copied = this.copyFileRange(fd, sourceOffset + done, this.fd, destination + done, length - done);
      } catch (error) {
        // Not across these file systems: fall back to reads and writes for good.
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (done === 0 && UNSUPPORTED.has(code)) {
          this.copyFileRange = undefined;
          return -1;
        }
        throw DESTINATION_ERRORS.has(code) ? new ImageWriteError(error) : error;
      }
      if (copied === 0) break;
      done += copied;
    }
    this.windowStart = destination + done;
    return done;
  }

  slice(offset: number, length: number): Uint8Array {
    if (length > this.window.length)
      throw new RangeError(`slice of ${length} bytes exceeds the ${this.window.length}-byte window`);
    const windowEnd = this.windowStart + this.used;
    if (offset < windowEnd) throw new RangeError(`image writes must ascend: ${offset} after ${windowEnd}`);
    const relative = offset - this.windowStart;
    if (this.used > 0 && relative + length <= this.window.length) {
      // A small gap (alignment padding) inside the window: zero it rather than write twice.
      this.window.fill(0, this.used, relative);
      this.used = relative + length;
      return this.window.subarray(relative, relative + length);
    }
    this.flush();
    this.windowStart = offset;
    this.used = length;
    return this.window.subarray(0, length);
  }

  flush(): void {
    try {
      if (this.sparse) this.writeNonZero();
      else this.write(0, this.used);
    } catch (error) {
      throw new ImageWriteError(error);
    }
    this.windowStart += this.used;
    this.used = 0;
  }

  /** pwrite of window bytes [from, to). */
  private write(from: number, to: number): void {
    for (let done = from; done < to; )
      done += writeSync(this.fd, this.window, done, to - done, this.windowStart + done);
  }

  /**
   * Writes the window's runs of non-zero blocks, skipping its all-zero blocks. The window's first
   * and last blocks may be partial (the window need not start or end on a block): a partial block
   * of zeros is skipped too, since bytes never written read as zero whatever the rest of its block
   * holds.
   */
  private writeNonZero(): void {
    const start = this.windowStart;
    let run = -1;
    for (let at = 0; at < this.used; ) {
      const end = Math.min(
        this.used,
        (Math.floor((start + at) / DAXFS_BLOCK_SIZE) + 1) * DAXFS_BLOCK_SIZE - start,
      );
      // The first byte settles most data blocks without a call.
      const zero = this.window[at] === 0 && this.windowBuffer.compare(ZERO_BLOCK, 0, end - at, at, end) === 0;
      if (zero && run >= 0) {
        this.write(run, at);
        run = -1;
      } else if (!zero && run < 0) run = at;
      at = end;
    }
    if (run >= 0) this.write(run, this.used);
  }
}
