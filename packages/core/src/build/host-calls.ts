// The system calls the builder makes on the host tree, per entry (lstat) and per regular file
// (open, pread, fstat, close). Node's fs is the default. A caller with native bindings (mkdaxfs,
// through koffi) can pass cheaper ones: Node's lstatSync and fstatSync build a Stats object with
// four Dates (or twenty BigInts) per call, which was a fifth of the CPU time of mkdaxfs on 20,000
// small files (docs/benchmarks.md "Image builder"). Core itself has no native bindings.
import { type BigIntStats, closeSync, fstatSync, lstatSync, openSync, readSync } from "node:fs";

/** What the builder uses of an lstat or fstat. */
export interface HostStat {
  /** st_mode: type and permission bits. */
  mode: number;
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  /** Identifies the device (with `ino`, the key hard links share); only compared, never stored. */
  dev: number;
  ino: number;
  /** Modification time in ns since the epoch. */
  mtimeNs: bigint;
  /** The same time as Stats#mtimeMs gives it (mtimeMsOf). */
  mtimeMs: number;
}

/**
 * Host calls; each throws an Error whose `code` is the errno name ("ENOENT") on failure, as Node's
 * fs does, so hostError names the problem the same way whichever implementation ran.
 */
export interface HostCalls {
  /** lstat(2): the entry itself, a symlink not followed. */
  lstat(path: string | Buffer): HostStat;
  /** open(2) read-only. */
  open(path: string | Buffer): number;
  /** pread(2) into `into[offset, offset + length)`: the bytes read, 0 at the end of the file. */
  pread(fd: number, into: Uint8Array, offset: number, length: number, position: number): number;
  fstat(fd: number): HostStat;
  close(fd: number): void;
  /**
   * lseek(2) SEEK_DATA: the first offset at or after `from` that holds data, or -1 if none does
   * (ENXIO). Optional (Node's fs has no lseek): without it every byte of a file counts as data,
   * and a sparse image finds the zeros of its holes by reading them.
   */
  seekData?(fd: number, from: number): number;
  /** lseek(2) SEEK_HOLE: the first hole at or after `from` (the file's end counts as one). */
  seekHole?(fd: number, from: number): number;
}

/**
 * Stats#mtimeMs of the same file, from its time in ns (Node's formula: seconds * 1e3 + nanoseconds /
 * 1e6, with the timespec's non-negative nanoseconds), so one lstat per entry serves both the stored
 * time and the "changed while copied" check, which compares with mtimeMs.
 */
export function mtimeMsOf(mtimeNs: bigint): number {
  let seconds = mtimeNs / 1_000_000_000n;
  let nanoseconds = mtimeNs % 1_000_000_000n;
  if (nanoseconds < 0n) {
    seconds -= 1n;
    nanoseconds += 1_000_000_000n;
  }
  return Number(seconds) * 1e3 + Number(nanoseconds) / 1e6;
}

function fromBigIntStats(stat: BigIntStats): HostStat {
  return {
    mode: Number(stat.mode),
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    nlink: Number(stat.nlink),
    size: Number(stat.size),
    dev: Number(stat.dev),
    ino: Number(stat.ino),
    mtimeNs: stat.mtimeNs,
    mtimeMs: mtimeMsOf(stat.mtimeNs),
  };
}

/** Node's fs: one bigint lstat per entry (ns times), no native code. */
export const nodeHostCalls: HostCalls = {
  lstat: (path) => fromBigIntStats(lstatSync(path, { bigint: true })),
  open: (path) => openSync(path, "r"),
  pread: (fd, into, offset, length, position) => readSync(fd, into, offset, length, position),
  fstat: (fd) => fromBigIntStats(fstatSync(fd, { bigint: true })),
  close: (fd) => closeSync(fd),
};
