// Where an image's bytes live. Tools read an image through positioned reads and writes, never by
// loading a multi-GiB file whole; a Buffer or a mapped region (a dma-buf, /dev/mem) serves the same
// interface, so every layer above works unchanged on all three.
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from "node:fs";
import { CorruptImageError, DaxfsError, systemError } from "./errors.js";
import { hostPath, showName } from "./names.js";

export interface ImageSource {
  /** Total bytes addressable. */
  readonly size: number;
  readonly writable: boolean;
  /** A label for messages: the file path, or "(buffer)". */
  readonly name: string;
  /** Reads exactly `length` bytes at `offset`; throws CorruptImageError past the end. */
  read(offset: number, length: number): Uint8Array;
  /**
   * Reads exactly `into.length` bytes at `offset` into `into`, like read: for a caller that reads
   * many ranges into one buffer of its own (the validator's directory arrays) instead of a new
   * buffer per range. Offered where read would copy (files), not where it returns a view (memory).
   */
  readInto?(offset: number, into: Uint8Array): void;
  /** Writes `bytes` at `offset`; throws EROFS on a read-only source, EIO past the end. */
  write(offset: number, bytes: Uint8Array): void;
  /** Makes earlier writes durable (fsync for files; nothing for memory). */
  flush(): void;
  close(): void;
  /**
   * Atomic compare-and-swap of the little-endian u32 at `offset` (4-aligned); returns the value
   * found. Offered only where the bytes are really shared memory (a mapping), so that the CAS is
   * seen by every process and kernel using them: the coordination lock (SPEC 3.9.1) relies on it.
   */
  compareExchange32?(offset: number, expected: number, replacement: number): number;
}

function checkRange(source: ImageSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new CorruptImageError(`${source.name}: invalid range ${offset}+${length}`);
  }
  if (offset + length > source.size) {
    throw new CorruptImageError(
      `${source.name}: ${length} bytes at ${offset} run past the image end ${source.size}`,
      offset,
    );
  }
}

/** An image held in memory: a Buffer, a Uint8Array, or a mapped region wrapped as one. */
export class MemoryImage implements ImageSource {
  readonly name: string;
  constructor(
    readonly bytes: Uint8Array,
    readonly writable = true,
    name = "(buffer)",
  ) {
    this.name = name;
  }

  get size(): number {
    return this.bytes.length;
  }

  read(offset: number, length: number): Uint8Array {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }

  write(offset: number, bytes: Uint8Array): void {
    if (!this.writable) throw new DaxfsError("EROFS", `${this.name}: image is read-only`);
    checkRange(this, offset, bytes.length);
    this.bytes.set(bytes, offset);
  }

  flush(): void {}
  close(): void {}

  compareExchange32(offset: number, expected: number, replacement: number): number {
    if (!this.writable) throw new DaxfsError("EROFS", `${this.name}: image is read-only`);
    checkRange(this, offset, 4);
    if (offset % 4 !== 0 || (this.bytes.byteOffset + offset) % 4 !== 0) {
      throw new DaxfsError("EINVAL", `${this.name}: compare-and-swap at unaligned offset ${offset}`);
    }
    // The word is little-endian on media; Atomics use host order, little-endian on every supported host.
    const words = new Int32Array(this.bytes.buffer, this.bytes.byteOffset + offset, 1);
    return Atomics.compareExchange(words, 0, expected | 0, replacement | 0) >>> 0;
  }
}

/** An image file read and written with pread/pwrite. */
export class FileImage implements ImageSource {
  readonly size: number;
  private fd: number;

  private constructor(
    readonly name: string,
    fd: number,
    readonly writable: boolean,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  /** Opens `path`; errors carry the path and the system's reason. */
  static open(path: string, options: { writable?: boolean } = {}): FileImage {
    const writable = options.writable ?? false;
    let fd: number;
    try {
      fd = openSync(hostPath(path), writable ? "r+" : "r");
    } catch (error) {
      throw systemError(error, showName(path));
    }
    // Reading opens a directory without complaint; its first read would fail with a bare EISDIR.
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      throw new DaxfsError("EISDIR", `${path}: is a directory, not an image`);
    }
    return new FileImage(path, fd, writable);
  }

  read(offset: number, length: number): Uint8Array {
    const out = Buffer.allocUnsafe(length);
    this.readInto(offset, out);
    return out;
  }

  readInto(offset: number, into: Uint8Array): void {
    const length = into.length;
    checkRange(this, offset, length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, into, done, length - done, offset + done);
      if (n === 0) throw new CorruptImageError(`${this.name}: short read at ${offset + done}`, offset + done);
      done += n;
    }
  }

  write(offset: number, bytes: Uint8Array): void {
    if (!this.writable) throw new DaxfsError("EROFS", `${this.name}: image is read-only`);
    checkRange(this, offset, bytes.length);
    let done = 0;
    while (done < bytes.length) done += writeSync(this.fd, bytes, done, bytes.length - done, offset + done);
  }

  flush(): void {
    if (this.writable) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
