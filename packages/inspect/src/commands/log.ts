// `log BRANCH` (every entry of one branch's own log, decoded) and `diff BRANCH` (what the branch
// changes against its parent: names added, removed and changed, found by walking both views).

import {
  type BranchRecord,
  type BranchView,
  DaxfsError,
  type DaxfsImage,
  type DeltaEntry,
  deltaTypeName,
  noBranchInStaticImage,
  type Stat,
  showName,
} from "@daxfs/core";
import { BranchState, DeltaType } from "@daxfs/format";
import { emit, hex, type Output, timeText } from "../render.js";

/** A branch by name, or by id as "id:N" (committed and aborted branches may have lost their names). */
function findNamed(image: DaxfsImage, name: string) {
  if (!image.branching) throw noBranchInStaticImage(image.source.name, name);
  const byId = /^id:(\d+)$/.exec(name);
  const record = byId ? image.findBranchById(Number(byId[1])) : image.findBranch(name);
  if (!record) throw new DaxfsError("ENOENT", `branch '${name}' not found`);
  return record;
}

/**
 * One log entry as a line. One convention for numbers (docs/cli.md "Numbers"): where something
 * lies in the image (the entry, its data) is hex with 0x, as in info's region map; sizes, counts
 * and positions inside a file (a write's file offset) are decimal, as ls and stat show them.
 */
export function describeEntry(entry: DeltaEntry): string {
  const head = `${hex(entry.offset).padStart(10)}  ${deltaTypeName(entry.type).padEnd(8)} ino ${entry.ino}`;
  switch (entry.type) {
    case DeltaType.WRITE:
      return `${head}  ${entry.length} bytes at file offset ${entry.fileOffset}, data at ${hex(entry.dataOffset)}`;
    case DeltaType.CREATE:
    case DeltaType.MKDIR:
      return `${head}  "${showName(entry.name)}" in dir ${entry.parentIno}, mode 0${entry.mode.toString(8)}, uid ${entry.uid}, gid ${entry.gid}`;
    case DeltaType.DELETE:
      return `${head}  "${showName(entry.name)}" from dir ${entry.parentIno}`;
    case DeltaType.TRUNCATE:
      return `${head}  size ${entry.newSize}`;
    case DeltaType.RENAME:
      return `${head}  dir ${entry.oldParentIno} "${showName(entry.oldName)}" -> dir ${entry.newParentIno} "${showName(entry.newName)}"`;
    case DeltaType.SETATTR: {
      const parts: string[] = [];
      if (entry.valid & 1) parts.push(`mode 0${entry.mode.toString(8)}`);
      if (entry.valid & 2) parts.push(`uid ${entry.uid}`);
      if (entry.valid & 4) parts.push(`gid ${entry.gid}`);
      if (entry.valid & 8) parts.push(`size ${entry.size}`);
      return `${head}  ${parts.join(", ") || "(nothing)"}`;
    }
    case DeltaType.SYMLINK:
      return `${head}  "${showName(entry.name)}" in dir ${entry.parentIno} -> "${showName(entry.target)}"`;
    case DeltaType.LINK:
      return `${head}  new name "${showName(entry.name)}" in dir ${entry.parentIno}`;
    case DeltaType.UTIMES: {
      const parts: string[] = [];
      if (entry.valid & 1) parts.push(`atime ${timeText(entry.atime)}`);
      if (entry.valid & 2) parts.push(`mtime ${timeText(entry.mtime)}`);
      return `${head}  ${parts.join(", ") || "(nothing)"}`;
    }
  }
}

export function logCommand(image: DaxfsImage, name: string, out: Output): void {
  const record = findNamed(image, name);
  const entries = image.readBranchLog(record);
  emit(out, { branch: record, entries }, () => [
    `Branch ${name} (id ${record.id}): ${entries.length} entries, ${record.logSize} of ${record.logCapacity} bytes at ${hex(record.logOffset)}`,
    `${"OFFSET".padStart(10)}  TYPE     DETAILS`,
    ...entries.map(describeEntry),
  ]);
}

interface PathInfo {
  ino: number;
  stat: Stat;
}

function snapshot(view: BranchView): Map<string, PathInfo> {
  const paths = new Map<string, PathInfo>();
  for (const { path, ino, stat } of view.walk()) paths.set(path, { ino, stat });
  return paths;
}

export interface DiffChange {
  change: "added" | "removed" | "modified" | "renamed";
  path: string;
  /** A rename's old path. */
  from?: string;
  details?: string;
}

export interface BranchDiff {
  branch: BranchRecord;
  against: BranchRecord;
  /** Sorted by path. */
  changes: DiffChange[];
}

/** The name a record is shown under: committed and aborted branches may have lost theirs. */
export const branchLabel = (record: BranchRecord) => (record.name === "" ? `id:${record.id}` : record.name);

/**
 * What branch `name` changes against `againstName` (default: its parent), by walking both live
 * views; same-size regular files count as modified when either branch's own log wrote to them,
 * and a path that moved keeping its inode is one rename.
 */
export function diffBranches(image: DaxfsImage, name: string, againstName?: string): BranchDiff {
  const record = findNamed(image, name);
  if (record.state !== BranchState.ACTIVE) throw new DaxfsError("ESTALE", `branch '${name}' is not active`);
  let against: BranchRecord | undefined;
  if (againstName !== undefined) against = findNamed(image, againstName);
  else {
    if (record.parentId === 0)
      throw new DaxfsError("EINVAL", `branch '${name}' has no parent to compare with`);
    against = image.findBranchById(record.parentId);
    if (!against) throw new DaxfsError("ENOENT", `branch '${name}': parent id ${record.parentId} not found`);
  }
  if (against.state !== BranchState.ACTIVE)
    throw new DaxfsError("ESTALE", `branch '${branchLabel(against)}' is not active`);
  // Inodes whose contents or attributes the branches' own logs touch.
  const touched = new Set<number>();
  for (const own of againstName === undefined ? [record] : [record, against])
    for (const entry of image.readBranchLog(own)) {
      if (
        entry.type === DeltaType.WRITE ||
        entry.type === DeltaType.TRUNCATE ||
        entry.type === DeltaType.SETATTR
      )
        touched.add(entry.ino);
    }
  const mine = snapshot(image.view(record.name));
  const theirs = snapshot(image.view(against.name));
  const changes: DiffChange[] = [];
  for (const [path, info] of mine) {
    const before = theirs.get(path);
    if (!before) {
      changes.push({ change: "added", path });
      continue;
    }
    const what: string[] = [];
    if (before.ino !== info.ino) what.push(`inode ${before.ino} -> ${info.ino}`);
    if (before.stat.mode !== info.stat.mode)
      what.push(`mode 0${before.stat.mode.toString(8)} -> 0${info.stat.mode.toString(8)}`);
    if (before.stat.uid !== info.stat.uid || before.stat.gid !== info.stat.gid)
      what.push(`owner ${before.stat.uid}:${before.stat.gid} -> ${info.stat.uid}:${info.stat.gid}`);
    if (before.stat.size !== info.stat.size) what.push(`size ${before.stat.size} -> ${info.stat.size}`);
    else if ((touched.has(info.ino) || touched.has(before.ino)) && (info.stat.mode & 0o170000) === 0o100000)
      what.push("contents");
    if (what.length > 0) changes.push({ change: "modified", path, details: what.join(", ") });
  }
  for (const path of theirs.keys()) if (!mine.has(path)) changes.push({ change: "removed", path });
  pairRenames(changes, mine, theirs);
  changes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { branch: record, against, changes };
}

/**
 * A removed path and an added path naming the same inode are one rename (RENAME keeps the inode,
 * SPEC 3.6): the pair becomes one "renamed" change at the new path. A new name for an inode that
 * also kept its old one is a hard link and stays "added".
 */
function pairRenames(
  changes: DiffChange[],
  mine: Map<string, PathInfo>,
  theirs: Map<string, PathInfo>,
): void {
  const removedByIno = new Map<number, number>();
  changes.forEach((c, index) => {
    if (c.change === "removed") removedByIno.set((theirs.get(c.path) as PathInfo).ino, index);
  });
  const dropped = new Set<number>();
  for (const c of changes) {
    if (c.change !== "added") continue;
    const index = removedByIno.get((mine.get(c.path) as PathInfo).ino);
    if (index === undefined) continue;
    removedByIno.delete((mine.get(c.path) as PathInfo).ino);
    dropped.add(index);
    c.change = "renamed";
    c.from = (changes[index] as DiffChange).path;
    c.details = `from ${showName(c.from)}`;
  }
  const kept = changes.filter((_, index) => !dropped.has(index));
  changes.splice(0, changes.length, ...kept);
}

export function diffCommand(image: DaxfsImage, name: string, out: Output): void {
  const { against, changes } = diffBranches(image, name);
  const mark = { added: "+", removed: "-", modified: "M", renamed: "R" };
  emit(out, { branch: name, parent: against.name, changes }, () => [
    `Changes in ${name} against ${against.name === "" ? `id ${against.id}` : against.name}: ${changes.length}`,
    ...changes.map((c) => `${mark[c.change]} ${showName(c.path)}${c.details ? `  (${c.details})` : ""}`),
  ]);
}
