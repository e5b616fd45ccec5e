// Branch table checks (SPEC.md 1.4, OVERVIEW.md 3). Slots, log extents and parent chains are
// decoded by the readers' own decoder (branch-record.ts); this pass adds unique ids below
// next_branch_id, NUL-terminated names unique among live branches, the main record, inode
// counters, log extents inside the allocated part of the delta region, live parents of live
// branches, and logs that do not overlap among live branches.
import { BranchState, DaxfsBranch, type DaxfsSuper } from "@daxfs/format";
import {
  type BranchRecord,
  branchStructure,
  checkLogExtent,
  decodeBranchName,
  decodeBranchRecord,
  resolveBranchChain,
} from "../branch-record.js";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "../problems.js";
import type { ImageLayout, Region } from "./regions.js";

/** A branch record that passed the table checks. */
export interface CheckedBranch extends BranchRecord {
  /** The log extent is inside the delta region and may be decoded. */
  logUsable: boolean;
  /** Ids from this branch up to main, this branch first; empty when the chain is broken. */
  chain: number[];
}

const MAIN = "main";

export function checkBranchTable(
  source: ImageSource,
  layout: ImageLayout,
  table: Region & { entries: number },
  log: ProblemLog,
  inodeCount: number | null,
): CheckedBranch[] {
  const sb: DaxfsSuper = layout.superblock;
  const bytes = source.read(table.offset, table.size);
  const records: CheckedBranch[] = [];
  const byId = new Map<number, CheckedBranch>();
  for (let slot = 0; slot < table.entries; slot++) {
    const recordAt = table.offset + slot * DaxfsBranch.size;
    const record = decodeBranchRecord(bytes, slot * DaxfsBranch.size, slot, recordAt, log);
    if (!record) continue;
    const where = branchStructure(slot);
    const at = (field: keyof typeof DaxfsBranch.offsets) => recordAt + DaxfsBranch.offsets[field];
    if (record.id === 0 || BigInt(record.id) >= sb.nextBranchId) {
      log.corrupt(
        at("branchId"),
        where,
        "branch_id",
        `1..${sb.nextBranchId - 1n} (below superblock next_branch_id)`,
        String(record.id),
        "branch id out of range",
      );
      continue;
    }
    if (byId.has(record.id)) {
      log.corrupt(
        at("branchId"),
        where,
        "branch_id",
        "an id used by one record",
        `${record.id}, also in slot ${byId.get(record.id)!.slot}`,
        "duplicate branch id",
      );
      continue;
    }
    const { name } = record;
    if (!decodeBranchName(DaxfsBranch.decode(bytes, slot * DaxfsBranch.size).name).terminated) {
      log.corrupt(
        at("name"),
        where,
        "name",
        "at most 31 bytes and a NUL",
        "32 bytes without a NUL",
        "branch name is not NUL-terminated",
      );
      continue;
    }
    if (record.state === BranchState.ACTIVE && name.length === 0) {
      log.corrupt(at("name"), where, "name", "a non-empty name", '""', "active branch without a name");
    }
    // Main is id 1, named "main", parent 0, and stays ACTIVE (OVERVIEW.md 3): every view resolves through it.
    if (record.id === 1 || name === MAIN) {
      const actual = `id ${record.id}, name "${name}", parent ${record.parentId}, ${BranchState[record.state]}`;
      if (record.id !== 1 || name !== MAIN || record.parentId !== 0 || record.state !== BranchState.ACTIVE) {
        log.corrupt(
          at("branchId"),
          where,
          "branch_id",
          'main: id 1, name "main", parent 0, ACTIVE',
          actual,
          "bad main branch record",
        );
        continue;
      }
    } else if (record.parentId === 0) {
      log.corrupt(
        at("parentId"),
        where,
        "parent_id",
        "a parent branch id (only main has 0)",
        "0",
        "branch without a parent",
      );
    }
    if (
      inodeCount !== null &&
      (record.nextLocalIno < inodeCount + 1 || BigInt(record.nextLocalIno) > sb.nextInodeId)
    ) {
      log.corrupt(
        at("nextLocalIno"),
        where,
        "next_local_ino",
        `${inodeCount + 1}..${sb.nextInodeId} (superblock next_inode_id)`,
        String(record.nextLocalIno),
        "branch inode counter out of range",
      );
    }
    // Logs live in the allocated part of the delta region (below delta_alloc_offset).
    const delta = layout.delta;
    const allocated = delta ? { offset: delta.offset, size: delta.allocOffset - delta.offset } : null;
    const logUsable = checkLogExtent(record, recordAt, allocated, "allocated delta region", log);
    const checked: CheckedBranch = { ...record, logUsable, chain: [] };
    records.push(checked);
    byId.set(checked.id, checked);
  }

  checkNames(records, table, log);
  resolveChains(records, byId, table, log);
  checkLogOverlaps(records, table, log);
  return records;
}

function slotAt(table: Region, slot: number, field: keyof typeof DaxfsBranch.offsets): number {
  return table.offset + slot * DaxfsBranch.size + DaxfsBranch.offsets[field];
}

/** Lookup by name must be unambiguous among live branches (SPEC.md 1.4). */
function checkNames(records: CheckedBranch[], table: Region, log: ProblemLog): void {
  const seen = new Map<string, number>();
  for (const record of records) {
    if (record.state !== BranchState.ACTIVE || record.name.length === 0) continue;
    const other = seen.get(record.name);
    if (other !== undefined) {
      log.corrupt(
        slotAt(table, record.slot, "name"),
        `branch ${record.slot}`,
        "name",
        "a name unique among active branches",
        `"${record.name}", also slot ${other}`,
        "duplicate branch name",
      );
    } else {
      seen.set(record.name, record.slot);
    }
  }
}

/** Every parent exists, every chain ends at a root within `records.length` steps, live branches have live parents. */
function resolveChains(
  records: CheckedBranch[],
  byId: Map<number, CheckedBranch>,
  table: Region,
  log: ProblemLog,
): void {
  const recordAt = (slot: number) => table.offset + slot * DaxfsBranch.size;
  for (const record of records) {
    const chain = resolveBranchChain(record, byId, recordAt, log);
    if (!chain) continue;
    const parent = record.parentId === 0 ? undefined : byId.get(record.parentId);
    if (record.state === BranchState.ACTIVE && parent && parent.state !== BranchState.ACTIVE) {
      // OVERVIEW.md 3: a commit needs no active children and aborts siblings; an abort takes the chain.
      log.corrupt(
        slotAt(table, record.slot, "state"),
        branchStructure(record.slot),
        "state",
        "an active branch to have an active parent",
        `parent ${record.parentId} is ${BranchState[parent.state]}`,
        "live branch on a dead parent",
      );
      continue;
    }
    record.chain = chain.map((r) => r.id);
  }
}

/** Live logs (ACTIVE branches) may not share bytes; dead ones may have had their space reused (NOTES.md "Space"). */
function checkLogOverlaps(records: CheckedBranch[], table: Region, log: ProblemLog): void {
  const live = records
    .filter((r) => r.state === BranchState.ACTIVE && r.logUsable && r.logCapacity > 0)
    .sort((a, b) => a.logOffset - b.logOffset);
  let previous: CheckedBranch | undefined;
  for (const record of live) {
    if (previous && record.logOffset < previous.logOffset + previous.logCapacity) {
      log.corrupt(
        slotAt(table, record.slot, "deltaLogOffset"),
        `branch ${record.slot}`,
        "delta_log_offset",
        `>= ${hex(previous.logOffset + previous.logCapacity)} (end of branch ${previous.id}'s log)`,
        hex(record.logOffset),
        "branch logs overlap",
      );
      record.logUsable = false;
    }
    if (!previous || record.logOffset + record.logCapacity > previous.logOffset + previous.logCapacity)
      previous = record;
  }
}
