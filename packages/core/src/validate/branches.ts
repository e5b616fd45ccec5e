// Branch table checks (SPEC.md 1.4, OVERVIEW.md 3): states, unique ids, parents that exist and
// end at main without cycles, NUL-terminated names, and log extents inside the allocated part of
// the delta region that do not overlap among live branches. Parent chains are followed with a
// step bound (the number of records), never by recursion.
import { BranchState, DAXFS_BRANCH_NAME_MAX, DaxfsBranch, DaxfsSuper } from "@daxfs/format";
import type { ImageSource } from "../image-source.js";
import { hex, type ProblemLog } from "./problems.js";
import type { ImageLayout, Region } from "./regions.js";

/** A branch record that passed the table checks. */
export interface CheckedBranch {
  slot: number;
  id: bigint;
  parentId: bigint;
  name: string;
  state: BranchState;
  logOffset: number;
  logSize: number;
  logCapacity: number;
  /** The log extent is inside the delta region and may be decoded. */
  logUsable: boolean;
  /** Ids from this branch up to main, this branch first; empty when the chain is broken. */
  chain: bigint[];
}

const MAIN = "main";

function branchName(raw: Uint8Array): { name: string; terminated: boolean } {
  const nul = raw.indexOf(0);
  const terminated = nul >= 0 && nul <= DAXFS_BRANCH_NAME_MAX;
  return { name: Buffer.from(raw.subarray(0, nul < 0 ? raw.length : nul)).toString("utf8"), terminated };
}

export function checkBranchTable(
  source: ImageSource,
  layout: ImageLayout,
  table: Region & { entries: number },
  log: ProblemLog,
): CheckedBranch[] {
  const sb: DaxfsSuper = layout.superblock;
  const bytes = source.read(table.offset, table.size);
  const records: CheckedBranch[] = [];
  const byId = new Map<bigint, CheckedBranch>();
  let sawMain = false;
  for (let slot = 0; slot < table.entries; slot++) {
    const record = DaxfsBranch.decode(bytes, slot * DaxfsBranch.size);
    if (record.state === BranchState.FREE) continue;
    const where = `branch ${slot}`;
    if (record.branchId === 1n || branchName(record.name).name === MAIN) sawMain = true;
    const at = (field: keyof typeof DaxfsBranch.offsets) =>
      table.offset + slot * DaxfsBranch.size + DaxfsBranch.offsets[field];
    if (record.state > BranchState.ABORTED) {
      log.corrupt(
        at("state"),
        where,
        "state",
        "0 FREE, 1 ACTIVE, 2 COMMITTED or 3 ABORTED",
        String(record.state),
        "unknown branch state",
      );
      continue;
    }
    if (record.branchId === 0n || record.branchId >= sb.nextBranchId) {
      log.corrupt(
        at("branchId"),
        where,
        "branch_id",
        `1..${sb.nextBranchId - 1n} (below superblock next_branch_id)`,
        String(record.branchId),
        "branch id out of range",
      );
      continue;
    }
    if (byId.has(record.branchId)) {
      log.corrupt(
        at("branchId"),
        where,
        "branch_id",
        "an id used by one record",
        `${record.branchId}, also in slot ${byId.get(record.branchId)!.slot}`,
        "duplicate branch id",
      );
      continue;
    }
    const { name, terminated } = branchName(record.name);
    if (!terminated) {
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
    if (record.branchId === 1n || name === MAIN) {
      const actual = `id ${record.branchId}, name "${name}", parent ${record.parentId}, ${BranchState[record.state]}`;
      if (
        record.branchId !== 1n ||
        name !== MAIN ||
        record.parentId !== 0n ||
        record.state !== BranchState.ACTIVE
      ) {
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
    } else if (record.parentId === 0n) {
      log.corrupt(
        at("parentId"),
        where,
        "parent_id",
        "a parent branch id (only main has 0)",
        "0",
        "branch without a parent",
      );
    }
    // Where the branch's counter resumes: writers hand out max(next_local_ino, next_inode_id) and
    // raise next_inode_id past it (SPEC.md 3.8.2), so it never exceeds next_inode_id. It may lie
    // below the base inodes (the public module writes 2 into main's, SPEC.md 3.4.1); the numbers
    // a log actually creates are checked entry by entry (deltas.ts).
    if (record.nextLocalIno > sb.nextInodeId) {
      log.corrupt(
        at("nextLocalIno"),
        where,
        "next_local_ino",
        `<= ${sb.nextInodeId} (superblock next_inode_id)`,
        String(record.nextLocalIno),
        "branch inode counter above next_inode_id",
      );
    }
    let logUsable = false;
    if (record.deltaLogSize > record.deltaLogCapacity) {
      log.corrupt(
        at("deltaLogSize"),
        where,
        "delta_log_size",
        `<= ${record.deltaLogCapacity} (delta_log_capacity)`,
        String(record.deltaLogSize),
        "log fuller than its capacity",
      );
    } else if (layout.delta) {
      const start = BigInt(layout.delta.offset);
      const alloc = BigInt(layout.delta.allocOffset);
      if (record.deltaLogOffset < start || record.deltaLogOffset + record.deltaLogCapacity > alloc) {
        log.corrupt(
          at("deltaLogOffset"),
          where,
          "delta_log_offset",
          `[offset, +capacity) inside the allocated delta region [${hex(start)}, ${hex(alloc)})`,
          `[${hex(record.deltaLogOffset)}, +${record.deltaLogCapacity})`,
          "branch log lies outside the allocated delta region",
        );
      } else {
        logUsable = true;
      }
    }
    const checked: CheckedBranch = {
      slot,
      id: record.branchId,
      parentId: record.parentId,
      name,
      state: record.state,
      logOffset: Number(record.deltaLogOffset),
      logSize: Number(record.deltaLogSize),
      logCapacity: Number(record.deltaLogCapacity),
      logUsable,
      chain: [],
    };
    records.push(checked);
    byId.set(checked.id, checked);
  }

  // Main is the first branch of every image (SPEC.md 3.4.1): once an id was handed out, its record
  // exists. Without this a damaged main record would leave readers the base alone, silently
  // dropping every committed change.
  if (!sawMain && sb.nextBranchId > 1n) {
    log.corrupt(
      DaxfsSuper.offsets.nextBranchId,
      "superblock",
      "next_branch_id",
      "1 while the branch table has no main record",
      String(sb.nextBranchId),
      "branch ids were handed out but main's record is missing",
    );
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
  byId: Map<bigint, CheckedBranch>,
  table: Region,
  log: ProblemLog,
): void {
  for (const record of records) {
    const where = `branch ${record.slot}`;
    const chain: bigint[] = [record.id];
    let cursor = record;
    let broken = false;
    while (cursor.parentId !== 0n) {
      const parent = byId.get(cursor.parentId);
      if (!parent) {
        log.corrupt(
          slotAt(table, cursor.slot, "parentId"),
          `branch ${cursor.slot}`,
          "parent_id",
          "the id of a branch in the table",
          String(cursor.parentId),
          "parent branch does not exist",
        );
        broken = true;
        break;
      }
      if (chain.length > records.length || chain.includes(parent.id)) {
        log.corrupt(
          slotAt(table, record.slot, "parentId"),
          where,
          "parent_id",
          "a chain of parents ending at main",
          `a cycle through branch ${parent.id}`,
          "branch parents form a cycle",
        );
        broken = true;
        break;
      }
      chain.push(parent.id);
      cursor = parent;
    }
    if (broken) continue;
    if (
      record.state === BranchState.ACTIVE &&
      record.parentId !== 0n &&
      byId.get(record.parentId)!.state !== BranchState.ACTIVE
    ) {
      // OVERVIEW.md 3: a commit needs no active children and aborts siblings; an abort takes the chain.
      log.corrupt(
        slotAt(table, record.slot, "state"),
        where,
        "state",
        "an active branch to have an active parent",
        `parent ${record.parentId} is ${BranchState[byId.get(record.parentId)!.state]}`,
        "live branch on a dead parent",
      );
      continue;
    }
    record.chain = chain;
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
