// The coordination lock (SPEC 1.3 "Coordination area", 3.9.1 step 3): one u32 word, 0 free and 1
// held, taken by compare-and-swap on the shared image and released with a store. The public module
// spins on it forever, so a holder that dies wedges every commit; we add an owner/epoch record in the
// area's reserved bytes (docs/coordination.md) so a dead holder can be detected and the lock taken
// over, while the word itself keeps its 0/1 meaning for the public module.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { DaxfsGlobalCoord, DaxfsSuper } from "@daxfs/format";
import { DaxfsError } from "../errors.js";
import type { ImageSource } from "../image-source.js";
import { readU32, readU64, writeU32, writeU64 } from "./records.js";

const COORD = DaxfsSuper.offsets.coord;
export const COORD_LOCK_OFFSET = COORD + DaxfsGlobalCoord.offsets.coordLock;
/** Owner record in coord.reserved (absolute offsets); see docs/coordination.md. */
export const COORD_EPOCH_OFFSET = COORD + DaxfsGlobalCoord.offsets.reserved; // u32, +1 per acquisition
export const COORD_OWNER_PID_OFFSET = COORD_EPOCH_OFFSET + 4; // u32, 0 = unknown owner
export const COORD_OWNER_START_OFFSET = COORD_EPOCH_OFFSET + 8; // u64, /proc/PID/stat starttime
export const COORD_OWNER_BOOT_OFFSET = COORD_EPOCH_OFFSET + 16; // u32, boot_id prefix of the owner's kernel
/** Commit intent (lifecycle.ts): id of the level being merged (0 = none) and its parent's size before. */
export const COORD_INTENT_LEVEL_OFFSET = COORD_EPOCH_OFFSET + 20; // u32
export const COORD_INTENT_PARENT_SIZE_OFFSET = COORD_EPOCH_OFFSET + 32; // u64

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

let cachedBootId: number | undefined;
/** The first 32 bits of this kernel's boot_id: tells "owner on this kernel" from "owner elsewhere". */
export function localBootId(): number {
  if (cachedBootId === undefined) {
    try {
      cachedBootId =
        Number.parseInt(readFileSync("/proc/sys/kernel/random/boot_id", "utf8").slice(0, 8), 16) >>> 0;
    } catch {
      cachedBootId = 0;
    }
  }
  return cachedBootId;
}

/** starttime (field 22 of /proc/PID/stat), which tells a live process from a reused pid; -1 if gone. */
export function processStartTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[19]);
  } catch {
    return -1;
  }
}

/**
 * Compare-and-swap of a u32 on the image. With a shared mapping this is the hardware CAS. A plain
 * file (pread/pwrite) has none, so the read-compare-write runs inside a lock file created with
 * O_EXCL next to the image (no flock: it must also work on filesystems without it); a lock file
 * left by a dead process is removed. Processes using a mapping and a plain file on the same image
 * at the same time are not coordinated with each other (docs/coordination.md).
 */
export function compareExchangeImageU32(
  source: ImageSource,
  offset: number,
  expected: number,
  replacement: number,
): number {
  if (source.compareExchange32) return source.compareExchange32(offset, expected, replacement);
  const lockPath = `${source.name}.coord-lock`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    let fd: number;
    try {
      fd = openSync(lockPath, "wx");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new DaxfsError(
          "EIO",
          `${lockPath}: cannot create lock file (${(error as NodeJS.ErrnoException).code})`,
        );
      }
      breakStaleLockFile(lockPath);
      if (Date.now() > deadline)
        throw new DaxfsError("EBUSY", `${lockPath}: held too long by another process`);
      sleepMs(1);
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
      const found = readU32(source, offset);
      if (found === expected >>> 0) {
        writeU32(source, offset, replacement);
        source.flush();
      }
      return found;
    } finally {
      closeSync(fd);
      unlinkSync(lockPath);
    }
  }
}

function breakStaleLockFile(lockPath: string): void {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(lockPath, "utf8"), 10);
  } catch {
    return; // released meanwhile
  }
  // An empty file is a creator between open and write: give it time rather than break it.
  if (Number.isInteger(pid) && pid > 0 && processStartTime(pid) < 0) {
    try {
      unlinkSync(lockPath);
    } catch {}
  }
}

let cachedStart: { pid: number; start: number } | undefined;
/** This process's starttime, read once (it never changes; a fork gets a new pid). */
export function ownStartTime(): number {
  if (cachedStart?.pid !== process.pid)
    cachedStart = { pid: process.pid, start: Math.max(0, processStartTime(process.pid)) };
  return cachedStart.start;
}

const heldDepth = new WeakMap<ImageSource, number>();

export interface CoordinationLockOptions {
  /** A held lock whose owner cannot be checked (another kernel, or no owner recorded) is broken
   *  after its epoch stays unchanged this long. */
  staleAfterMs?: number;
  /** Give up (EBUSY) after waiting this long. */
  timeoutMs?: number;
  /** Runs after each outermost acquisition, lock held: repairs what a dead holder left half-done. */
  onAcquire?: () => void;
}

/** The cross-process, cross-kernel commit lock of one image. Re-entrant within a process. */
export class CoordinationLock {
  private readonly staleAfterMs: number;
  private readonly timeoutMs: number;
  private readonly onAcquire: (() => void) | undefined;

  constructor(
    readonly source: ImageSource,
    options: CoordinationLockOptions = {},
  ) {
    this.staleAfterMs = options.staleAfterMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.onAcquire = options.onAcquire;
  }

  withLock<T>(body: () => T): T {
    this.acquire();
    try {
      return body();
    } finally {
      this.release();
    }
  }

  acquire(): void {
    const depth = heldDepth.get(this.source) ?? 0;
    if (depth > 0) {
      heldDepth.set(this.source, depth + 1);
      return;
    }
    const started = Date.now();
    let observedEpoch = -1;
    let observedSince = started;
    for (let spins = 0; ; spins++) {
      if (compareExchangeImageU32(this.source, COORD_LOCK_OFFSET, 0, 1) === 0) {
        this.bumpEpoch();
        this.recordOwner();
        break;
      }
      const epoch = readU32(this.source, COORD_EPOCH_OFFSET);
      if (epoch !== observedEpoch) {
        observedEpoch = epoch;
        observedSince = Date.now();
      }
      if (this.holderIsDead(Date.now() - observedSince) && this.takeOver(epoch)) break;
      if (Date.now() - started > this.timeoutMs) {
        throw new DaxfsError(
          "EBUSY",
          `${this.source.name}: coordination lock held by another mount for ${this.timeoutMs} ms`,
        );
      }
      sleepMs(spins < 100 ? 0 : 1);
    }
    heldDepth.set(this.source, 1);
    if (this.onAcquire) {
      try {
        this.onAcquire();
      } catch (error) {
        this.release();
        throw error;
      }
    }
  }

  release(): void {
    const depth = heldDepth.get(this.source) ?? 0;
    if (depth === 0)
      throw new DaxfsError("EINVAL", `${this.source.name}: coordination lock released but not held`);
    if (depth > 1) {
      heldDepth.set(this.source, depth - 1);
      return;
    }
    heldDepth.delete(this.source);
    writeU32(this.source, COORD_OWNER_PID_OFFSET, 0);
    this.source.flush();
    compareExchangeImageU32(this.source, COORD_LOCK_OFFSET, 1, 0);
  }

  /** True when this process holds the lock (for assertions in callers that require it). */
  get held(): boolean {
    return (heldDepth.get(this.source) ?? 0) > 0;
  }

  private holderIsDead(unchangedMs: number): boolean {
    const pid = readU32(this.source, COORD_OWNER_PID_OFFSET);
    const boot = readU32(this.source, COORD_OWNER_BOOT_OFFSET);
    if (pid !== 0 && boot === localBootId() && boot !== 0) {
      const start = readU64(this.source, COORD_OWNER_START_OFFSET, "coord owner starttime");
      return processStartTime(pid) !== start;
    }
    return unchangedMs >= this.staleAfterMs;
  }

  /** Claims a dead holder's lock: whoever moves the epoch first owns it; the word stays 1. */
  private takeOver(epoch: number): boolean {
    if (compareExchangeImageU32(this.source, COORD_EPOCH_OFFSET, epoch, (epoch + 1) >>> 0) !== epoch)
      return false;
    // The holder may have released between our check and the claim: then take the lock normally.
    if (compareExchangeImageU32(this.source, COORD_LOCK_OFFSET, 1, 1) !== 1) {
      if (compareExchangeImageU32(this.source, COORD_LOCK_OFFSET, 0, 1) !== 0) return false;
    }
    this.recordOwner();
    return true;
  }

  private bumpEpoch(): void {
    for (;;) {
      const epoch = readU32(this.source, COORD_EPOCH_OFFSET);
      if (compareExchangeImageU32(this.source, COORD_EPOCH_OFFSET, epoch, (epoch + 1) >>> 0) === epoch)
        return;
    }
  }

  private recordOwner(): void {
    writeU64(this.source, COORD_OWNER_START_OFFSET, ownStartTime());
    writeU32(this.source, COORD_OWNER_BOOT_OFFSET, localBootId());
    writeU32(this.source, COORD_OWNER_PID_OFFSET, process.pid);
    this.source.flush();
  }
}
