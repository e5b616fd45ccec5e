// Reader leases (docs/space.md "Reuse"): a mount proves it may still read a branch's logs by holding
// a lease on the branch it serves; the lease covers that branch's whole parent chain. Space is only
// reused from branches that no live lease reaches. The table lives in the superblock's reserved
// bytes, which the public module and older tools never read (they see an image without reuse).
import { BranchState } from "@daxfs/format";
import type { BranchRecord } from "../branch-record.js";
import { DaxfsError } from "../errors.js";
import { localBootId, ownStartTime, processStartTime } from "./coord-lock.js";
import type { BranchContext } from "./lifecycle.js";
import { readU32, readU64Bits, writeU32, writeU64 } from "./records.js";

/** "DXRU": set once an image has held a lease or a free extent (informational: nothing needs it). */
export const REUSE_MAGIC = 0x55525844;
export const REUSE_MAGIC_OFFSET = 2048;
/** u32, the serial the next lease gets (and the age stamp of a retired extent). */
export const LEASE_SERIAL_OFFSET = 2052;
export const LEASE_TABLE_OFFSET = 2064;
export const LEASE_ENTRIES = 32;
export const LEASE_SIZE = 32;
/** Field offsets inside one lease. serial 0 = unused entry, and it is written last. */
const LEASE = { serial: 0, pid: 4, branchId: 8, start: 16, boot: 24 } as const;

/** One live entry of the lease table. */
export interface Lease {
  index: number;
  serial: number;
  branchId: number;
  /** 0 for a kernel mount. */
  pid: number;
  /** The holder's starttime; a kernel mount's random cookie (any u64). */
  start: bigint;
  boot: number;
}

function leaseAt(index: number): number {
  return LEASE_TABLE_OFFSET + index * LEASE_SIZE;
}

/** The used entries of the lease table, as stored (dead or alive). */
export function readLeases(ctx: Pick<BranchContext, "source">): Lease[] {
  const leases: Lease[] = [];
  for (let index = 0; index < LEASE_ENTRIES; index++) {
    const at = leaseAt(index);
    const serial = readU32(ctx.source, at + LEASE.serial);
    if (serial === 0) continue;
    leases.push({
      index,
      serial,
      // An id no record can have simply resolves no chain (then nothing is reused).
      branchId: Number(readU64Bits(ctx.source, at + LEASE.branchId)),
      pid: readU32(ctx.source, at + LEASE.pid),
      start: readU64Bits(ctx.source, at + LEASE.start),
      boot: readU32(ctx.source, at + LEASE.boot),
    });
  }
  return leases;
}

/**
 * A lease's holder is known dead only when it is a process of this kernel (same boot id) whose pid
 * is gone or now names another process. A kernel mount (pid 0) or a holder in another kernel is
 * taken as alive: releasing its lease is its unmount's job, and guessing wrong would let reused
 * bytes appear under a live mapping.
 */
export function leaseHolderIsDead(lease: Lease): boolean {
  const boot = localBootId();
  if (lease.pid === 0 || boot === 0 || lease.boot !== boot) return false;
  if (lease.pid === process.pid) return lease.start !== BigInt(ownStartTime());
  return BigInt(processStartTime(lease.pid)) !== lease.start;
}

/** The live leases (caller holds the lock); entries of dead holders are cleared on the way. */
export function liveLeases(ctx: BranchContext): Lease[] {
  const live: Lease[] = [];
  for (const lease of readLeases(ctx)) {
    if (leaseHolderIsDead(lease)) {
      writeU32(ctx.source, leaseAt(lease.index) + LEASE.serial, 0);
      ctx.source.flush();
    } else live.push(lease);
  }
  return live;
}

/**
 * The ids every live lease may read, with the serial of the oldest lease reaching each id; null
 * when some lease names a branch whose chain cannot be resolved (then nothing may be reused).
 */
export function leasedChains(
  ctx: Pick<BranchContext, "image">,
  leases: Lease[],
  records: BranchRecord[] = ctx.image.branches(),
): Map<number, number> | null {
  const byId = new Map(records.map((r) => [r.id, r]));
  const oldest = new Map<number, number>();
  for (const lease of leases) {
    let cursor: BranchRecord | undefined = byId.get(lease.branchId);
    if (!cursor) return null;
    for (let steps = 0; cursor; steps++) {
      if (steps > records.length) return null;
      const seen = oldest.get(cursor.id);
      if (seen === undefined || lease.serial < seen) oldest.set(cursor.id, lease.serial);
      if (cursor.parentId === 0) break;
      cursor = byId.get(cursor.parentId);
      if (!cursor) return null;
    }
  }
  return oldest;
}

/** Marks the image as using reuse (docs/space.md): a hint for daxfs-inspect, nothing depends on it. */
export function markReuse(ctx: Pick<BranchContext, "source">): void {
  if (readU32(ctx.source, REUSE_MAGIC_OFFSET) !== REUSE_MAGIC)
    writeU32(ctx.source, REUSE_MAGIC_OFFSET, REUSE_MAGIC);
}

/** The serial the next lease (or retired extent) is stamped with; advances the counter. */
export function nextSerial(ctx: Pick<BranchContext, "source">): number {
  const serial = Math.max(1, readU32(ctx.source, LEASE_SERIAL_OFFSET));
  writeU32(ctx.source, LEASE_SERIAL_OFFSET, serial + 1 >= 0xffff_ffff ? 1 : serial + 1);
  return serial;
}

/** The serial a lease taken now would get (without taking one). */
export function currentSerial(ctx: Pick<BranchContext, "source">): number {
  return Math.max(1, readU32(ctx.source, LEASE_SERIAL_OFFSET));
}

/**
 * Takes a lease on `branchId` for this process: from now until `releaseLease`, no log of the
 * branch or of its ancestors (nor an extent one of them moved away from) is handed to another
 * branch. The whole chain must be ACTIVE (ESTALE otherwise: a dead level's log may already be
 * reused). EBUSY when all entries are held by live mounts.
 */
export function acquireLease(ctx: BranchContext, branchId: number): Lease {
  return ctx.lock.withLock(() => {
    const record = ctx.image.branches().find((r) => r.id === branchId);
    if (!record)
      throw new DaxfsError("ESTALE", `${ctx.source.name}: branch ${branchId} is no longer in the table`);
    for (const level of ctx.image.branchChain(record)) {
      if (level.state !== BranchState.ACTIVE)
        throw new DaxfsError("ESTALE", `${ctx.source.name}: branch ${level.id} is no longer active`);
    }
    liveLeases(ctx); // clears the entries of dead holders
    let index = 0;
    while (index < LEASE_ENTRIES && readU32(ctx.source, leaseAt(index)) !== 0) index++;
    if (index === LEASE_ENTRIES) {
      throw new DaxfsError(
        "EBUSY",
        `${ctx.source.name}: all ${LEASE_ENTRIES} mount leases are held by live mounts`,
      );
    }
    const at = leaseAt(index);
    const serial = nextSerial(ctx);
    const start = ownStartTime();
    writeU64(ctx.source, at + LEASE.branchId, branchId);
    writeU32(ctx.source, at + LEASE.pid, process.pid);
    writeU64(ctx.source, at + LEASE.start, start);
    writeU32(ctx.source, at + LEASE.boot, localBootId());
    markReuse(ctx);
    ctx.source.flush();
    writeU32(ctx.source, at + LEASE.serial, serial);
    ctx.source.flush();
    return { index, serial, branchId, pid: process.pid, start: BigInt(start), boot: localBootId() };
  });
}

/** Gives a lease back (at unmount). A lease already cleared, or reused by another holder, is left alone. */
export function releaseLease(ctx: BranchContext, lease: Lease): void {
  ctx.lock.withLock(() => {
    const at = leaseAt(lease.index);
    if (readU32(ctx.source, at + LEASE.serial) !== lease.serial) return;
    writeU32(ctx.source, at + LEASE.serial, 0);
    ctx.source.flush();
  });
}
