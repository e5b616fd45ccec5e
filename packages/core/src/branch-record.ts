// Branch records (docs/format.md "daxfs_branch"; docs/semantics.md "Branches"): the one decoder of
// a branch-table slot, of a record's log extent and of its parent chain. DaxfsImage (readers and
// the branch write side) and the validator both go through it; problems go to a ProblemSink, so a
// reader throws on the first and the validator collects them (validate/branches.ts adds the rules
// only it checks: id ranges, unique ids and names, the main record, live parents, log overlaps).
import { BranchState, DAXFS_BRANCH_NAME_MAX, DaxfsBranch } from "@daxfs/format";
import type { Region } from "./geometry.js";
import { hex, type ProblemSink } from "./problems.js";

/** One non-FREE slot of the branch table, with u64 fields as exact numbers. */
export interface BranchRecord {
  slot: number;
  id: number;
  parentId: number;
  /** Empty once committed or aborted explicitly (SPEC 1.4). */
  name: string;
  state: BranchState;
  /** Absolute offset of the log. */
  logOffset: number;
  logSize: number;
  logCapacity: number;
  refcount: number;
  nextLocalIno: number;
  generation: number;
}

const utf8 = new TextDecoder("utf-8");

/** A branch name: the bytes up to the first NUL; `terminated` when a NUL ends it within the field. */
export function decodeBranchName(field: Uint8Array): { name: string; terminated: boolean } {
  // Most slots of a long-lived table are dead records with cleared names.
  if (field[0] === 0) return { name: "", terminated: true };
  const nul = field.indexOf(0);
  return {
    name: utf8.decode(field.subarray(0, nul < 0 ? field.length : nul)),
    terminated: nul >= 0 && nul <= DAXFS_BRANCH_NAME_MAX,
  };
}

/** The structure name problems about slot `slot` are reported under. */
export function branchStructure(slot: number): string {
  return `branch ${slot}`;
}

/**
 * Decodes the slot at `byteOffset` of `table` (absolute offset `at`): null for a FREE slot, and
 * null after reporting an unknown state or a u64 no reader can address.
 */
export function decodeBranchRecord(
  table: Uint8Array,
  byteOffset: number,
  slot: number,
  at: number,
  sink: ProblemSink,
): BranchRecord | null {
  const raw = DaxfsBranch.decode(table, byteOffset);
  if (raw.state === BranchState.FREE) return null;
  const structure = branchStructure(slot);
  if (raw.state > BranchState.ABORTED) {
    sink.add({
      offset: at + DaxfsBranch.offsets.state,
      structure,
      field: "state",
      expected: "0 FREE, 1 ACTIVE, 2 COMMITTED or 3 ABORTED",
      actual: String(raw.state),
      message: `branch slot ${slot}: unknown state ${raw.state}`,
      kind: "corrupt",
    });
    return null;
  }
  let addressable = true;
  const exact = (field: keyof typeof DaxfsBranch.offsets, value: bigint): number => {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
    if (addressable) {
      const cName = DaxfsBranch.fields.find((f) => f.name === field)?.cName ?? field;
      sink.add({
        offset: at + DaxfsBranch.offsets[field],
        structure,
        field: cName,
        expected: `<= ${Number.MAX_SAFE_INTEGER}`,
        actual: String(value),
        message: `branch slot ${slot}: ${cName} ${value} is too large`,
        kind: "corrupt",
      });
    }
    addressable = false;
    return 0;
  };
  const record: BranchRecord = {
    slot,
    id: exact("branchId", raw.branchId),
    parentId: exact("parentId", raw.parentId),
    name: decodeBranchName(raw.name).name,
    state: raw.state as BranchState,
    logOffset: exact("deltaLogOffset", raw.deltaLogOffset),
    logSize: exact("deltaLogSize", raw.deltaLogSize),
    logCapacity: exact("deltaLogCapacity", raw.deltaLogCapacity),
    refcount: raw.refcount,
    nextLocalIno: exact("nextLocalIno", raw.nextLocalIno),
    generation: raw.generation,
  };
  return addressable ? record : null;
}

function describe(record: BranchRecord): string {
  return `branch ${JSON.stringify(record.name)} (id ${record.id})`;
}

/**
 * A record's log extent: size within capacity, [offset, +capacity) inside `region` (the delta
 * region for readers; its allocated part for the validator; null when there is none, and the
 * log is unusable). `recordAt` is the slot's offset.
 */
export function checkLogExtent(
  record: BranchRecord,
  recordAt: number,
  region: Region | null,
  regionName: string,
  sink: ProblemSink,
): boolean {
  const structure = branchStructure(record.slot);
  if (record.logSize > record.logCapacity) {
    sink.add({
      offset: recordAt + DaxfsBranch.offsets.deltaLogSize,
      structure,
      field: "delta_log_size",
      expected: `<= ${record.logCapacity} (delta_log_capacity)`,
      actual: String(record.logSize),
      message: `${describe(record)}: log holds ${record.logSize} bytes, more than its capacity ${record.logCapacity}`,
      kind: "corrupt",
    });
    return false;
  }
  if (!region) return false;
  const end = region.offset + region.size;
  if (record.logOffset < region.offset || record.logOffset + record.logCapacity > end) {
    sink.add({
      offset: recordAt + DaxfsBranch.offsets.deltaLogOffset,
      structure,
      field: "delta_log_offset",
      expected: `[offset, +capacity) inside the ${regionName} [${hex(region.offset)}, ${hex(end)})`,
      actual: `[${hex(record.logOffset)}, +${record.logCapacity})`,
      message: `${describe(record)}: log [${record.logOffset}, +${record.logCapacity}) does not fit the ${regionName} [${region.offset}, ${end})`,
      kind: "corrupt",
    });
    return false;
  }
  return true;
}

/**
 * The chain from `record` up to a root: [record, parent, ..., main]. Null after reporting a parent
 * missing from `byId` or a cycle; followed with a step bound, never by recursion.
 */
export function resolveBranchChain(
  record: BranchRecord,
  byId: ReadonlyMap<number, BranchRecord>,
  recordAt: (slot: number) => number,
  sink: ProblemSink,
): BranchRecord[] | null {
  const chain = [record];
  let cursor = record;
  while (cursor.parentId !== 0) {
    const parent = byId.get(cursor.parentId);
    if (!parent) {
      sink.add({
        offset: recordAt(cursor.slot) + DaxfsBranch.offsets.parentId,
        structure: branchStructure(cursor.slot),
        field: "parent_id",
        expected: "the id of a branch in the table",
        actual: String(cursor.parentId),
        message: `${describe(cursor)}: parent id ${cursor.parentId} is not in the branch table`,
        kind: "corrupt",
      });
      return null;
    }
    if (chain.length > byId.size || chain.includes(parent)) {
      sink.add({
        offset: recordAt(record.slot) + DaxfsBranch.offsets.parentId,
        structure: branchStructure(record.slot),
        field: "parent_id",
        expected: "a chain of parents ending at main",
        actual: `a cycle through branch ${parent.id}`,
        message: `${describe(record)}: its parent chain has a cycle`,
        kind: "corrupt",
      });
      return null;
    }
    chain.push(parent);
    cursor = parent;
  }
  return chain;
}
