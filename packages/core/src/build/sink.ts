// Destinations for a new image. The layout is written in one ascending pass (plan.ts orders every
// region and data item by offset), so a file destination can batch many small items into one
// pwrite and leave everything never written as a sparse hole of zeros.
import { writeSync } from "node:fs";

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

/** Writes to a file descriptor (already sized with ftruncate) through one reusable window. */
export class FileSink implements ImageSink {
  readonly maxSlice: number;
  /** A plain Uint8Array: its subarray, one per slice, costs less than a Buffer's. */
  private readonly window: Uint8Array;
  private windowStart = 0;
  private used = 0;

  private copyFileRange: CopyFileRange | undefined;

  constructor(
    private readonly fd: number,
    options: { windowBytes?: number; copyFileRange?: CopyFileRange } = {},
  ) {
    const windowBytes = options.windowBytes ?? DEFAULT_WINDOW;
    this.window = new Uint8Array(windowBytes);
    this.maxSlice = windowBytes;
    this.copyFileRange = options.copyFileRange;
  }

  copyFromFd(fd: number, sourceOffset: number, destination: number, length: number): number {
    if (!this.copyFileRange) return -1;
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
    let done = 0;
    try {
      while (done < this.used)
        done += writeSync(this.fd, this.window, done, this.used - done, this.windowStart + done);
    } catch (error) {
      throw new ImageWriteError(error);
    }
    this.windowStart += this.used;
    this.used = 0;
  }
}
