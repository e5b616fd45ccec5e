// Branch lifecycle on the media (SPEC 3.4, 3.9; NOTES.md "Semantics"): main, create, commit, abort,
// and the drop of an uncommitted branch at unmount. Every change to shared records happens under the
// coordination lock and re-reads the table first, so several processes and kernels can share one
// image. Each step writes single fields in an order that leaves the table valid after a crash.
import { BranchState, DAXFS_BRANCH_NAME_MAX, DAXFS_PUBLIC_LOG_CAPACITY, DaxfsBranch } from "@daxfs/format";
import type { BranchRecord } from "../branch-record.js";
import { DaxfsError } from "../errors.js";
import { DaxfsImage } from "../image.js";
import type { ImageSource } from "../image-source.js";
import {
  COORD_INTENT_LEVEL_OFFSET,
  COORD_INTENT_PARENT_SIZE_OFFSET,
  CoordinationLock,
} from "./coord-lock.js";
import { reclaim } from "./free-extents.js";
import {
  type BranchingGeometry,
  branchingGeometry,
  encodeName,
  RECORD,
  readU32,
  readU64,
  recordOffset,
  SUPER,
  writeU32,
  writeU64,
} from "./records.js";
import {
  alignUp,
  allocateExtent,
  deltaSpaceLeft,
  EXTENT_ALIGN,
  ensureLogCapacity,
  freeSpaceText,
  INITIAL_LOG_CAPACITY,
} from "./space.js";

export const MAIN_BRANCH = "main";
const MAIN_LOG_CAPACITY = DAXFS_PUBLIC_LOG_CAPACITY;

function findSlotById(slots: BranchRecord[], id: number): BranchRecord | undefined {
  return slots.find((s) => s.id === id);
}

/** Everything a lifecycle call needs: the source, its geometry and its lock. */
export interface BranchContext {
  source: ImageSource;
  /** Decodes the records (fresh reads each call). */
  image: DaxfsImage;
  geometry: BranchingGeometry;
  lock: CoordinationLock;
}

export function branchContext(source: ImageSource): BranchContext {
  if (!source.writable) throw new DaxfsError("EROFS", `${source.name}: image opened read-only`);
  const image = DaxfsImage.open(source);
  const ctx: BranchContext = {
    source,
    image,
    geometry: branchingGeometry(image.geometry, source.name),
    lock: new CoordinationLock(source, { onAcquire: () => recoverInterruptedMerge(ctx) }),
  };
  return ctx;
}

const encoder = new TextEncoder();

/** SPEC 3.4.2 name checks, in the spec's order. */
export function checkBranchName(name: string): void {
  const length = encoder.encode(name).length;
  if (length > DAXFS_BRANCH_NAME_MAX)
    throw new DaxfsError("ENAMETOOLONG", `${name}: branch name is longer than 31 bytes`);
  if (length === 0 || name.includes("\0"))
    throw new DaxfsError("EINVAL", "branch name is empty or contains NUL");
  // "NAME: reason", as daxfs-branch words the same checks (docs/cli.md "Messages").
  if (name === MAIN_BRANCH) throw new DaxfsError("EINVAL", "main: branch name is reserved");
}

/**
 * The slot a new record goes into (docs/space.md "Branch slots"): the lowest FREE slot, else the
 * lowest ABORTED or COMMITTED slot whose id no other non-FREE record names as its parent (both
 * validators require every record's parent to exist). A reused slot is first set FREE, so a crash
 * before the new record is complete leaves a FREE slot. Every mount, view and writer of the old
 * branch compares the record's id with its own on each re-read, so it answers ESTALE from then on.
 */
function claimSlot(ctx: BranchContext): number {
  for (let slot = 0; slot < ctx.geometry.tableEntries; slot++) {
    if (readU32(ctx.source, recordOffset(ctx.geometry, slot) + RECORD.state) === BranchState.FREE)
      return slot;
  }
  // A dead record's log goes to the free table first (its slot would forget the extent), and a
  // record a live lease reaches keeps its slot: the lease's chain must stay resolvable.
  const { records, chains: leased } = reclaim(ctx);
  if (!leased)
    throw new DaxfsError(
      "ENOSPC",
      `${ctx.source.name}: no free branch slot (a mount lease names an unknown branch)`,
    );
  const parents = new Set(records.map((r) => r.parentId));
  for (const record of records) {
    const dead = record.state === BranchState.ABORTED || record.state === BranchState.COMMITTED;
    if (!dead || parents.has(record.id) || leased.has(record.id)) continue;
    writeU32(ctx.source, recordOffset(ctx.geometry, record.slot) + RECORD.state, BranchState.FREE);
    ctx.source.flush();
    return record.slot;
  }
  throw new DaxfsError(
    "ENOSPC",
    `${ctx.source.name}: no free branch slot (all ${ctx.geometry.tableEntries} used, none reusable)`,
  );
}

/**
 * Writes a new ACTIVE record into a FREE slot. The state is written last, after a flush: until
 * then the slot still reads as FREE, so a crash mid-way leaves no half-made branch.
 */
function writeNewRecord(
  ctx: BranchContext,
  slot: number,
  fields: {
    id: number;
    parentId: number;
    name: string;
    logOffset: number;
    capacity: number;
    nextLocalIno: number;
  },
): void {
  const at = recordOffset(ctx.geometry, slot);
  const previous = DaxfsBranch.decode(ctx.source.read(at, DaxfsBranch.size));
  const record = new Uint8Array(DaxfsBranch.size);
  DaxfsBranch.encode(record, 0, {
    branchId: BigInt(fields.id),
    parentId: BigInt(fields.parentId),
    deltaLogOffset: BigInt(fields.logOffset),
    deltaLogSize: 0n,
    deltaLogCapacity: BigInt(fields.capacity),
    state: BranchState.FREE,
    refcount: 1,
    nextLocalIno: BigInt(fields.nextLocalIno),
    name: encodeName(fields.name),
    generation: previous.generation,
    reserved: new Uint8Array(36),
  });
  ctx.source.write(at, record);
  ctx.source.flush();
  writeU32(ctx.source, at + RECORD.state, BranchState.ACTIVE);
  ctx.source.flush();
}

function adjustActiveBranches(ctx: BranchContext, delta: number): void {
  const count = readU32(ctx.source, SUPER.activeBranches);
  writeU32(ctx.source, SUPER.activeBranches, Math.max(0, count + delta));
}

/** Returns main's record, creating it (SPEC 3.4.1) if no record named main exists. */
export function ensureMain(ctx: BranchContext): BranchRecord {
  return ctx.lock.withLock(() => {
    const existing = ctx.image.findBranch(MAIN_BRANCH);
    if (existing) return existing;
    const slot = claimSlot(ctx);
    // Main gets the public 1 MiB (when the region has it): a public module sharing the image merges
    // commits into main but cannot grow a log (docs/space.md).
    const capacity =
      deltaSpaceLeft(ctx.source, ctx.geometry) >= MAIN_LOG_CAPACITY
        ? MAIN_LOG_CAPACITY
        : INITIAL_LOG_CAPACITY;
    const logOffset = allocateExtent(ctx, capacity);
    const nextInodeId = readU64(ctx.source, SUPER.nextInodeId, "next_inode_id");
    writeNewRecord(ctx, slot, {
      id: 1,
      parentId: 0,
      name: MAIN_BRANCH,
      logOffset,
      capacity,
      nextLocalIno: nextInodeId,
    });
    if (readU64(ctx.source, SUPER.nextBranchId, "next_branch_id") < 2)
      writeU64(ctx.source, SUPER.nextBranchId, 2);
    adjustActiveBranches(ctx, 1);
    ctx.source.flush();
    return ctx.image.readBranchRecord(slot) as BranchRecord;
  });
}

/** SPEC 3.4.2: a new ACTIVE branch `name` under `parentName`. */
export function createBranch(ctx: BranchContext, name: string, parentName: string): BranchRecord {
  checkBranchName(name);
  ensureMain(ctx);
  return ctx.lock.withLock(() => {
    if (ctx.image.findBranch(name))
      throw new DaxfsError("EEXIST", `${ctx.source.name}: branch "${name}" already exists`);
    const parent = ctx.image.findBranch(parentName);
    if (!parent)
      throw new DaxfsError("ENOENT", `${ctx.source.name}: parent branch "${parentName}" not found`);
    if (parent.state !== BranchState.ACTIVE)
      throw new DaxfsError("ESTALE", `${ctx.source.name}: parent branch "${parentName}" is no longer active`);
    ctx.image.branchChain(parent);
    const slot = claimSlot(ctx);
    // The id is consumed before the log is allocated, as in SPEC 3.4.2.
    const id = readU64(ctx.source, SUPER.nextBranchId, "next_branch_id");
    writeU64(ctx.source, SUPER.nextBranchId, id + 1);
    ctx.source.flush();
    const logOffset = allocateExtent(ctx, INITIAL_LOG_CAPACITY);
    const nextInodeId = readU64(ctx.source, SUPER.nextInodeId, "next_inode_id");
    writeNewRecord(ctx, slot, {
      id,
      parentId: parent.id,
      name,
      logOffset,
      capacity: INITIAL_LOG_CAPACITY,
      nextLocalIno: nextInodeId,
    });
    adjustActiveBranches(ctx, 1);
    const parentAt = recordOffset(ctx.geometry, parent.slot);
    writeU32(ctx.source, parentAt + RECORD.refcount, readU32(ctx.source, parentAt + RECORD.refcount) + 1);
    ctx.source.flush();
    return ctx.image.readBranchRecord(slot) as BranchRecord;
  });
}

/** The ACTIVE (or named-ABORTED) record called `name`; ENOENT if there is none. */
export function findBranch(ctx: BranchContext, name: string): BranchRecord {
  const record = ctx.image.findBranch(name);
  if (!record) throw new DaxfsError("ENOENT", `${ctx.source.name}: branch "${name}" not found`);
  return record;
}

/** Ends a branch: ABORTED or COMMITTED, generation+1 when invalidated, name cleared when asked. */
function endBranch(
  ctx: BranchContext,
  record: BranchRecord,
  state: BranchState,
  options: { clearName: boolean; bumpGeneration: boolean },
): void {
  const at = recordOffset(ctx.geometry, record.slot);
  // State first: from this store on, every mount of the branch answers ESTALE (SPEC 3.10).
  writeU32(ctx.source, at + RECORD.state, state);
  if (options.bumpGeneration) writeU32(ctx.source, at + RECORD.generation, (record.generation + 1) >>> 0);
  if (options.clearName) ctx.source.write(at + RECORD.name, new Uint8Array(32));
  if (record.parentId !== 0) {
    const parent = findSlotById(ctx.image.branches(), record.parentId);
    if (parent) {
      const parentAt = recordOffset(ctx.geometry, parent.slot);
      writeU32(
        ctx.source,
        parentAt + RECORD.refcount,
        Math.max(0, readU32(ctx.source, parentAt + RECORD.refcount) - 1),
      );
    }
  }
  adjustActiveBranches(ctx, -1);
  ctx.source.flush();
}

/**
 * The ENOSPC of a commit whose parent log cannot grow, saying why a commit needs space at all: it
 * copies the child's entries into the parent's log (docs/space.md "Commit needs room"), so a branch
 * that filled most of the region can be aborted but not committed.
 */
function commitSpaceError(
  ctx: BranchContext,
  branch: BranchRecord,
  parent: BranchRecord,
  carried: number,
): DaxfsError {
  const needed = alignUp(parent.logSize + carried, EXTENT_ALIGN);
  return new DaxfsError(
    "ENOSPC",
    `${ctx.source.name}: no room to commit branch "${branch.name}": a commit copies the branch's log ` +
      `(${carried} bytes) into ${parent.name}'s, which must grow to ${needed} bytes; the delta region has ` +
      `${freeSpaceText(ctx.image, needed)}. Abort the branch, or give the image a larger delta region ` +
      "(mkdaxfs -D, or daxfs-compact -D, which drops active branches)",
  );
}

/**
 * SPEC 3.9.1 commit of `branchId` into main. Capacity for every level is secured before anything
 * is changed, so ENOSPC leaves the whole chain and its siblings as they were (the public module
 * can fail half-way; we do not).
 */
export function commitBranch(ctx: BranchContext, branchId: number): void {
  ctx.lock.withLock(() => {
    let slots = ctx.image.branches();
    const branch = findSlotById(slots, branchId);
    if (!branch || branch.state !== BranchState.ACTIVE)
      throw new DaxfsError("ESTALE", `${ctx.source.name}: branch ${branchId} is no longer active`);
    if (branch.parentId === 0) throw new DaxfsError("EINVAL", `${ctx.source.name}: main cannot be committed`);
    if (slots.some((s) => s.parentId === branchId && s.state === BranchState.ACTIVE)) {
      throw new DaxfsError("EBUSY", `${ctx.source.name}: branch "${branch.name}" has active children`);
    }
    const chain = ctx.image.branchChain(branch);
    for (const level of chain.slice(1)) {
      if (level.state !== BranchState.ACTIVE)
        throw new DaxfsError("ESTALE", `${ctx.source.name}: ancestor branch ${level.id} is no longer active`);
    }
    // Pass 1: make room. Each parent receives its own entries plus everything merged from below.
    let carried = 0;
    for (let i = 0; i + 1 < chain.length; i++) {
      carried += (chain[i] as BranchRecord).logSize;
      const parent = findSlotById(ctx.image.branches(), (chain[i + 1] as BranchRecord).id) as BranchRecord;
      try {
        ensureLogCapacity(ctx, parent, parent.logSize + carried, "merge");
      } catch (error) {
        if (!(error instanceof DaxfsError) || error.code !== "ENOSPC") throw error;
        throw commitSpaceError(ctx, branch, parent, carried);
      }
    }
    // Pass 2: invalidate siblings, merge, mark committed, one level at a time.
    for (let i = 0; i + 1 < chain.length; i++) {
      slots = ctx.image.branches();
      const level = findSlotById(slots, (chain[i] as BranchRecord).id) as BranchRecord;
      const parent = findSlotById(slots, (chain[i + 1] as BranchRecord).id) as BranchRecord;
      for (const sibling of slots) {
        if (
          sibling.parentId === parent.id &&
          sibling.id !== level.id &&
          sibling.state === BranchState.ACTIVE
        ) {
          endBranch(ctx, sibling, BranchState.ABORTED, { clearName: false, bumpGeneration: true });
        }
      }
      if (level.logSize > 0) {
        // Intent first (recoverInterruptedMerge), then copy, flush, and publish the parent's new
        // size: the entries appear whole or not at all.
        writeU64(ctx.source, COORD_INTENT_PARENT_SIZE_OFFSET, parent.logSize);
        writeU32(ctx.source, COORD_INTENT_LEVEL_OFFSET, level.id);
        ctx.source.flush();
        ctx.source.write(
          parent.logOffset + parent.logSize,
          ctx.source.read(level.logOffset, level.logSize).slice(),
        );
        ctx.source.flush();
        writeU64(
          ctx.source,
          recordOffset(ctx.geometry, parent.slot) + RECORD.deltaLogSize,
          parent.logSize + level.logSize,
        );
        ctx.source.flush();
      }
      endBranch(ctx, level, BranchState.COMMITTED, { clearName: true, bumpGeneration: false });
      writeU32(ctx.source, COORD_INTENT_LEVEL_OFFSET, 0);
      ctx.source.flush();
    }
    const sequence = readU64(ctx.source, SUPER.coord, "commit_sequence");
    writeU64(ctx.source, SUPER.coord, sequence + 1);
    writeU64(ctx.source, SUPER.coord + 8, branchId);
    ctx.source.flush();
  });
}

/**
 * Runs with the lock just taken. A holder that died between publishing a merge into the parent's
 * log and marking the merged level COMMITTED would leave those entries in both logs (replayed twice
 * in the level's view). The intent record names the level and the parent's size before the merge;
 * if the level is still ACTIVE and the parent holds exactly that merge, the merge is undone: that
 * level's commit has not happened (levels below it stay committed into it, as when a commit fails
 * half-way in the public module). docs/coordination.md.
 */
export function recoverInterruptedMerge(ctx: BranchContext): void {
  const levelId = readU32(ctx.source, COORD_INTENT_LEVEL_OFFSET);
  if (levelId === 0) return;
  const before = readU64(ctx.source, COORD_INTENT_PARENT_SIZE_OFFSET, "commit intent parent size");
  const slots = ctx.image.branches();
  const level = findSlotById(slots, levelId);
  const parent = level ? findSlotById(slots, level.parentId) : undefined;
  if (level && parent && level.state === BranchState.ACTIVE && parent.logSize === before + level.logSize) {
    writeU64(ctx.source, recordOffset(ctx.geometry, parent.slot) + RECORD.deltaLogSize, before);
    ctx.source.flush();
  }
  writeU32(ctx.source, COORD_INTENT_LEVEL_OFFSET, 0);
  ctx.source.flush();
}

/** SPEC 3.9.2: the chain from `branchId` up to (not including) main becomes ABORTED. */
export function abortBranch(ctx: BranchContext, branchId: number): void {
  ctx.lock.withLock(() => {
    const slots = ctx.image.branches();
    const branch = findSlotById(slots, branchId);
    if (!branch || branch.state !== BranchState.ACTIVE)
      throw new DaxfsError("ESTALE", `${ctx.source.name}: branch ${branchId} is no longer active`);
    if (branch.parentId === 0) throw new DaxfsError("EINVAL", `${ctx.source.name}: main cannot be aborted`);
    if (slots.some((s) => s.parentId === branchId && s.state === BranchState.ACTIVE)) {
      throw new DaxfsError("EBUSY", `${ctx.source.name}: branch "${branch.name}" has active children`);
    }
    for (const level of ctx.image.branchChain(branch)) {
      if (level.parentId === 0) break;
      const current = ctx.image.readBranchRecord(level.slot) as BranchRecord;
      if (current.state === BranchState.ACTIVE)
        endBranch(ctx, current, BranchState.ABORTED, { clearName: true, bumpGeneration: true });
    }
  });
}

/**
 * SPEC 3.9.3 unmount of an uncommitted branch: only this branch is aborted; its parents stay.
 * A branch that is no longer ACTIVE (committed or invalidated meanwhile) is left as it is.
 */
export function dropBranch(ctx: BranchContext, branchId: number): void {
  ctx.lock.withLock(() => {
    const slots = ctx.image.branches();
    const branch = findSlotById(slots, branchId);
    if (!branch || branch.state !== BranchState.ACTIVE || branch.parentId === 0) return;
    // A branch with live children stays, as the public module leaves it (SPEC 3.9.3, EBUSY ignored).
    if (slots.some((s) => s.parentId === branchId && s.state === BranchState.ACTIVE)) return;
    endBranch(ctx, branch, BranchState.ABORTED, { clearName: true, bumpGeneration: true });
  });
}
