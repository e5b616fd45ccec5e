// Pull readers of a tar layer's bytes for the tar parser: exact-length reads of header blocks, and
// bodies handed on chunk by chunk so a multi-GiB member never sits in memory. `position` counts the
// bytes consumed, so a member of an uncompressed tar file can be referenced where it lies. A stream
// (stdin, a decompressor) is read through; a plain file is read at positions, so the bodies the
// writer copies from it later are skipped without being read.
import { readSync } from "node:fs";
import { DaxfsError } from "@daxfs/core";

export interface ByteSource {
  /** Bytes consumed so far. */
  readonly position: number;
  /** Exactly `n` bytes, or null if the input ends with none; fewer is a truncated archive. */
  read(n: number, what: string): Promise<Buffer | null>;
  /** Exactly `n` bytes; the end of the input is a truncated archive. */
  readAll(n: number, what: string): Promise<Buffer>;
  /** The next `n` bytes as chunks (views valid until the next call). */
  take(n: number, what: string): AsyncGenerator<Buffer>;
  /** Discards the next `n` bytes. */
  skip(n: number, what: string): Promise<void>;
  /** Reads the input to its end, so a decompressor's or the source's error surfaces. */
  drainToEnd(): Promise<void>;
}

function truncated(label: string, what: string): DaxfsError {
  return new DaxfsError("EIO", `${label}: truncated archive (ends inside ${what})`);
}

const FILE_CHUNK = 1 << 20;

/** The bytes of a regular file, read at positions. */
export class FileBytes implements ByteSource {
  position = 0;

  constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly label: string,
  ) {}

  private readAt(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    for (let done = 0; done < n; ) {
      const got = readSync(this.fd, out, done, n - done, this.position + done);
      if (got === 0) throw truncated(this.label, "a file that shrank while being read");
      done += got;
    }
    this.position += n;
    return out;
  }

  async read(n: number, what: string): Promise<Buffer | null> {
    if (this.position >= this.size) return null;
    if (this.position + n > this.size) throw truncated(this.label, what);
    return this.readAt(n);
  }

  async readAll(n: number, what: string): Promise<Buffer> {
    if (this.position + n > this.size) throw truncated(this.label, what);
    return this.readAt(n);
  }

  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    if (this.position + n > this.size) throw truncated(this.label, what);
    for (let left = n; left > 0; left -= FILE_CHUNK) yield this.readAt(Math.min(left, FILE_CHUNK));
  }

  async skip(n: number, what: string): Promise<void> {
    if (this.position + n > this.size) throw truncated(this.label, what);
    this.position += n;
  }

  async drainToEnd(): Promise<void> {}
}

/** The bytes of a stream, buffered as they arrive. */
export class StreamBytes implements ByteSource {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private readonly iterator: AsyncIterator<unknown>;
  /** Bytes consumed so far. */
  position = 0;

  constructor(
    stream: AsyncIterable<unknown>,
    private readonly label: string,
  ) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** Buffers at least `n` bytes unless the stream ends first; returns whether it got them. */
  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        break;
      }
      const chunk = typeof next.value === "string" ? Buffer.from(next.value) : (next.value as Buffer);
      if (chunk.length === 0) continue;
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return this.buffered >= n;
  }

  /** At most `limit` buffered bytes (reading more if none are), or an empty buffer at the end. */
  private shiftUpTo(limit: number): Buffer {
    const first = this.chunks[0];
    if (!first) return Buffer.alloc(0);
    const piece = first.length <= limit ? first : first.subarray(0, limit);
    if (piece === first) this.chunks.shift();
    else this.chunks[0] = first.subarray(limit);
    this.buffered -= piece.length;
    this.position += piece.length;
    return piece;
  }

  async read(n: number, what: string): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return null;
      throw truncated(this.label, what);
    }
    if (this.chunks[0]!.length >= n) return this.shiftUpTo(n);
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    while (at < n) {
      const piece = this.shiftUpTo(n - at);
      piece.copy(out, at);
      at += piece.length;
    }
    return out;
  }

  async readAll(n: number, what: string): Promise<Buffer> {
    const bytes = await this.read(n, what);
    if (bytes === null && n > 0) throw truncated(this.label, what);
    return bytes ?? Buffer.alloc(0);
  }

  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw truncated(this.label, what);
      const piece = this.shiftUpTo(left);
      left -= piece.length;
      yield piece;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.take(n, what)) {
      // Discarded.
    }
  }

  async drainToEnd(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    while (!(await this.iterator.next()).done) {
      // Padding after the end-of-archive blocks.
    }
  }
}
