// What the panes show, derived from the session and the state: pure functions of both, called
// through useMemo so each is recomputed only when its inputs (or the live revision) change.
import { type DeltaEntry, S_IFDIR, S_IFLNK, S_IFMT, type Stat, showName } from "@daxfs/core";
import { DeltaType } from "@daxfs/format";
import { type DiffChange, modeString } from "@daxfs/inspect";
import type { Session } from "./session.js";

export interface FileRow {
  path: string;
  name: string;
  ino: number;
  mode: number;
  depth: number;
  expanded: boolean;
  /** A name the branch deleted: shown from this branch (its parent), where it still exists. */
  removedFrom?: string;
}

/** Names the branch's own log deleted, by directory inode, and the parent that still has them. */
export interface RemovedNames {
  parent: string;
  byDirectory: ReadonlyMap<number, ReadonlySet<string>>;
}

/** The DELETE entries of a branch's own log, by directory: the file pane shows them as `-` rows. */
export function removedNames(entries: readonly DeltaEntry[], parent: string): RemovedNames {
  const byDirectory = new Map<number, Set<string>>();
  for (const entry of entries) {
    if (entry.type !== DeltaType.DELETE) continue;
    const names = byDirectory.get(entry.parentIno) ?? new Set<string>();
    names.add(entry.name);
    byDirectory.set(entry.parentIno, names);
  }
  return { parent, byDirectory };
}

/**
 * Rows for the names deleted from directory `dir` that its parent branch still has (a name the
 * branch created and deleted again never was the parent's) and the branch has not made again.
 */
function removedRows(
  session: Session,
  removed: RemovedNames | undefined,
  dir: { path: string; ino: number; depth: number },
  present: ReadonlySet<string>,
): FileRow[] {
  const rows: FileRow[] = [];
  for (const name of removed?.byDirectory.get(dir.ino) ?? []) {
    if (present.has(name) || !removed) continue;
    try {
      const view = session.view(removed.parent);
      const ino = view.lookup(dir.ino, name);
      const { mode } = view.stat(ino);
      rows.push({
        path: childPath(dir.path, name),
        name,
        ino,
        mode,
        depth: dir.depth,
        expanded: false,
        removedFrom: removed.parent,
      });
    } catch {
      // Not in the parent (created and deleted here, or the directory is new): nothing to show.
    }
  }
  return rows;
}

export const isDir = (mode: number) => (mode & S_IFMT) === S_IFDIR;
export const isSymlink = (mode: number) => (mode & S_IFMT) === S_IFLNK;

const childPath = (dir: string, name: string) => `${dir === "/" ? "" : dir}/${name}`;

/**
 * The file pane's rows: the root's entries and, below each expanded directory, its entries; only
 * expanded directories are read. With a search, the matches over the whole view, flat.
 */
export function fileRows(
  session: Session,
  branch: string,
  expanded: ReadonlySet<string>,
  search: string,
  removed?: RemovedNames,
): FileRow[] {
  if (search !== "") {
    return session.search(branch, search).map(({ path, ino }) => ({
      path,
      name: path,
      ino,
      mode: session.stat(branch, ino).mode,
      depth: 0,
      expanded: false,
    }));
  }
  const rows: FileRow[] = [];
  const view = session.view(branch);
  const pending: { path: string; ino: number; depth: number }[] = [
    { path: "/", ino: view.rootIno, depth: 0 },
  ];
  while (pending.length > 0) {
    const dir = pending.pop() as { path: string; ino: number; depth: number };
    const entries = session.readdir(branch, dir.ino);
    const live: FileRow[] = entries.map((e) => {
      const path = childPath(dir.path, e.name);
      return { path, name: e.name, ino: e.ino, mode: e.mode, depth: dir.depth, expanded: expanded.has(path) };
    });
    const gone = removedRows(session, removed, dir, new Set(entries.map((e) => e.name)));
    const inserted =
      gone.length === 0
        ? live
        : [...live, ...gone].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    // Children go right after their directory's row (or at the top for the root).
    const at = dir.path === "/" ? 0 : rows.findIndex((r) => r.path === dir.path) + 1;
    rows.splice(at, 0, ...inserted);
    for (const row of inserted)
      if (row.expanded && isDir(row.mode) && row.removedFrom === undefined)
        pending.push({ path: row.path, ino: row.ino, depth: dir.depth + 1 });
  }
  return rows;
}

const MARKS: Record<DiffChange["change"], string> = { added: "+", removed: "-", modified: "M", renamed: "R" };

/** A row's text in `width` columns: change mark, tree indent and name, then size or link target. */
export function fileText(
  row: FileRow,
  stat: Stat | undefined,
  mark: DiffChange["change"] | undefined,
  width: number,
  target?: string,
): string {
  const open = isDir(row.mode) ? (row.expanded ? "v " : "> ") : "  ";
  // Names are bytes: shown escaped as daxfs-inspect shows them (core names.ts showName).
  const name = `${"  ".repeat(row.depth)}${open}${showName(row.name)}${isDir(row.mode) ? "/" : ""}`;
  const tail =
    target !== undefined ? `-> ${showName(target)}` : stat && !isDir(row.mode) ? String(stat.size) : "";
  const room = Math.max(8, width - 4 - tail.length);
  return `${mark ? MARKS[mark] : " "} ${name.length > room ? `${name.slice(0, room - 1)}~` : name.padEnd(room)} ${tail}`;
}

/** `ls -l`'s fields of one inode, for the preview's first line. */
export function statLine(stat: Stat): string {
  const links = `${stat.nlink} link${stat.nlink === 1 ? "" : "s"}`;
  return `inode ${stat.ino} ${modeString(stat.mode)} ${stat.uid}:${stat.gid} ${stat.size} B, ${links}`;
}

/**
 * What a branch's own log did to each inode, for the file pane's marks: created (CREATE, MKDIR,
 * SYMLINK) is "added", moved (RENAME) "renamed", written or changed (WRITE, TRUNCATE, SETATTR,
 * and the extensions LINK and UTIMES) "modified" unless added here. A pass over the log instead of diffBranches' walk of two whole
 * trees, so selecting a branch of a large image stays quick; the diff screen does the walk.
 */
export function ownChanges(entries: readonly DeltaEntry[]): Map<number, DiffChange["change"]> {
  const marks = new Map<number, DiffChange["change"]>();
  for (const entry of entries) {
    const was = marks.get(entry.ino);
    switch (entry.type) {
      case DeltaType.CREATE:
      case DeltaType.MKDIR:
      case DeltaType.SYMLINK:
        marks.set(entry.ino, "added");
        break;
      case DeltaType.RENAME:
        if (was !== "added") marks.set(entry.ino, "renamed");
        break;
      case DeltaType.WRITE:
      case DeltaType.TRUNCATE:
      case DeltaType.SETATTR:
      case DeltaType.LINK:
      case DeltaType.UTIMES:
        if (was === undefined) marks.set(entry.ino, "modified");
        break;
    }
  }
  return marks;
}

/** What a validator problem's structure names, for the validation screen's jumps. */
export type ProblemTarget =
  | { kind: "branch"; slot: number }
  | { kind: "log"; branch: string; offset?: number }
  | { kind: "inode"; ino: number };

/**
 * "branch N" is a slot; "delta NAME@OFFSET" an entry of NAME's log ("id N" for a branch without
 * a name) and "replay NAME" that log; "inode N" an inode and "dirent N[i]" directory N's array.
 */
export function problemTarget(structure: string): ProblemTarget | undefined {
  let match = /^branch (\d+)$/.exec(structure);
  if (match) return { kind: "branch", slot: Number(match[1]) };
  match = /^delta (.+)@(0x[0-9a-f]+|\d+)/.exec(structure);
  if (match) return { kind: "log", branch: match[1] as string, offset: Number(match[2]) };
  match = /^replay (.+)$/.exec(structure);
  if (match) return { kind: "log", branch: match[1] as string };
  match = /^(?:inode|dirent) (\d+)/.exec(structure);
  if (match) return { kind: "inode", ino: Number(match[1]) };
  return undefined;
}

/** `n` and the noun, singular for one ("1 change", "2 changes", "1 directory"). */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}
