// A pull reader over a byte stream for the tar parser: exact-length reads of header blocks, and
// bodies handed on chunk by chunk so a multi-GiB member never sits in memory. `position` counts the
// bytes consumed, so a member of an uncompressed tar file can be referenced where it lies.
import { DaxfsError } from "@daxfs/core";

export class ByteReader {
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

  /** Exactly `n` bytes, or null if the stream ends with none; fewer is a truncated archive. */
  async read(n: number, what: string): Promise<Buffer | null> {
    if (!(await this.fill(n))) {
      if (this.buffered === 0) return null;
      throw this.truncated(what);
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

  /** Exactly `n` bytes; the end of the stream is a truncated archive. */
  async readAll(n: number, what: string): Promise<Buffer> {
    const bytes = await this.read(n, what);
    if (bytes === null && n > 0) throw this.truncated(what);
    return bytes ?? Buffer.alloc(0);
  }

  /** The next `n` bytes as chunks (views valid until the next call). */
  async *take(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.fill(1))) throw this.truncated(what);
      const piece = this.shiftUpTo(left);
      left -= piece.length;
      yield piece;
    }
  }

  /** Discards the next `n` bytes. */
  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.take(n, what)) {
      // Discarded.
    }
  }

  /** Reads the stream to its end, so a decompressor's or the source's error surfaces. */
  async drainToEnd(): Promise<void> {
    this.chunks.length = 0;
    this.buffered = 0;
    while (!(await this.iterator.next()).done) {
      // Padding after the end-of-archive blocks.
    }
  }

  private truncated(what: string): DaxfsError {
    return new DaxfsError("EIO", `${this.label}: truncated archive (ends inside ${what})`);
  }
}
