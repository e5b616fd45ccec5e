// A live, read-side view of one branch (OVERVIEW 3-4, SPEC 3.5-3.8, NOTES.md "Semantics"): POSIX
// answers inside the branch, computed from its chain of logs over the base. Before every operation
// the view re-reads its chain's branch records (a few hundred bytes): an invalidated branch fails
// with ESTALE, and entries appended to any level since (by a writer, a commit into main, another
// process) are indexed, so a child sees what its parent appended after the child was opened.
import { BranchState, DAXFS_NAME_MAX, DAXFS_ROOT_INO, FileType } from "@daxfs/format";
import type { BaseImage, DirEntry } from "./base/base-image.js";
import { readU64Bits, SUPER } from "./branch/records.js";
import type { BranchRecord } from "./branch-record.js";
import { type DeltaEntry, decodeDeltaRange, type LogRegion } from "./delta/entry.js";
import { CorruptImageError, DaxfsError } from "./errors.js";
import { fileTypeOf } from "./file-type.js";
import type { ImageSource } from "./image-source.js";
import { compareNames, nameByteLength } from "./names.js";
import { type PathTree, type WalkOptions, walkPath } from "./path-walk.js";
import { ChainIndex, LevelIndex } from "./replay/chain-index.js";

export type { DirEntry } from "./base/base-image.js";

export interface Stat {
  ino: number;
  /** Full st_mode. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  /** 512-byte units, whole 4096-byte blocks. */
  blocks: number;
  /** Times in ns since the epoch (docs/semantics.md "Times"; 0 where nothing recorded one). */
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
}

/**
 * What a view reads of its image. DaxfsImage is the one implementation; it creates the views, so
 * this module names only the members it uses rather than importing it.
 */
export interface ViewedImage {
  readonly source: ImageSource;
  readonly base: BaseImage | null;
  readonly branching: boolean;
  findBranch(name: string): BranchRecord | undefined;
  branchChain(record: BranchRecord): BranchRecord[];
  logRegion(record: BranchRecord): LogRegion;
  readBranchRecord(slot: number): BranchRecord | null;
}

/** One branch of the chain as indexed. */
interface IndexedLevel {
  /** The record as first seen; later reads must match its id, state and generation. */
  record: BranchRecord;
  /** Log-relative offset up to which entries are indexed. */
  indexedEnd: number;
}

/**
 * The ENOENT for a branch asked of a static image (no branch table, so no branch at all, not even
 * main): one wording for every tool (BranchView, daxfs-inspect log and info -b).
 */
export function noBranchInStaticImage(imageName: string, branchName: string): DaxfsError {
  return new DaxfsError("ENOENT", `${imageName}: a static image has no branch ${JSON.stringify(branchName)}`);
}

export class BranchView {
  private readonly index: ChainIndex;
  /** Chain levels, [0] = the viewed branch ... main; empty for a base-only view. */
  private levels: IndexedLevel[] = [];
  private nextBranchIdSeen = -1n;

  constructor(
    readonly image: ViewedImage,
    readonly branchName: string,
  ) {
    this.index = new ChainIndex(image.source, image.base);
    if (!image.branching) {
      if (branchName !== "main") throw noBranchInStaticImage(image.source.name, branchName);
      return;
    }
    this.attach(branchName === "main");
  }

  /** The viewed branch's record as of the last operation; null for a static image or before main exists. */
  get branch(): BranchRecord | null {
    return this.levels[0]?.record ?? null;
  }

  /** The chain's records, [viewed branch, parent, ..., main], as of the last operation. */
  get chain(): readonly BranchRecord[] {
    return this.levels.map((level) => level.record);
  }

  /** Finds the branch and indexes its chain; a base-only view of main while no main record exists. */
  private attach(allowMissing: boolean): void {
    this.nextBranchIdSeen = this.readNextBranchId();
    const record = this.image.findBranch(this.branchName);
    if (!record) {
      if (allowMissing) return;
      throw new DaxfsError(
        "ENOENT",
        // The words of daxfs-inspect's log and info -b for the same condition.
        `${this.image.source.name}: branch '${this.branchName}' not found`,
      );
    }
    if (record.state !== BranchState.ACTIVE) {
      throw new DaxfsError("ESTALE", `branch ${JSON.stringify(this.branchName)} was invalidated by a commit`);
    }
    const chain = this.image.branchChain(record);
    this.levels = chain.map((r) => ({ record: r, indexedEnd: 0 }));
    this.index.levels = chain.map(() => new LevelIndex());
    this.syncLevels(chain.length - 1);
  }

  private readNextBranchId(): bigint {
    return readU64Bits(this.image.source, SUPER.nextBranchId);
  }

  /**
   * Indexes what each level's log gained since last time, main first, so every level is applied
   * over up-to-date levels below it; levels `resetFrom` down to 0 are first forgotten and re-read whole.
   */
  private syncLevels(resetFrom: number): void {
    for (let level = this.levels.length - 1; level >= 0; level--) {
      const state = this.levels[level] as IndexedLevel;
      if (level <= resetFrom) {
        this.index.levels[level] = new LevelIndex();
        state.indexedEnd = 0;
      }
      if (state.record.logSize > state.indexedEnd) this.indexUpTo(level, state.record.logSize);
    }
  }

  private indexUpTo(level: number, logSize: number): void {
    const state = this.levels[level] as IndexedLevel;
    const region = this.image.logRegion(state.record);
    const { entries, end } = decodeDeltaRange(
      this.image.source,
      state.record.logOffset,
      state.indexedEnd,
      logSize,
      region,
    );
    for (const entry of entries) this.index.apply(level, entry);
    state.indexedEnd = end;
  }

  /**
   * Brings the index up to date with the image and checks the chain is still valid: ESTALE if the
   * viewed branch (or an ancestor) was committed, aborted or invalidated since the view was made.
   */
  refresh(): void {
    if (this.levels.length === 0) {
      if (
        this.image.branching &&
        this.branchName === "main" &&
        this.readNextBranchId() !== this.nextBranchIdSeen
      )
        this.attach(true);
      return;
    }
    let rebuildFrom = -1;
    const latest: BranchRecord[] = [];
    for (const [level, state] of this.levels.entries()) {
      const now = this.image.readBranchRecord(state.record.slot);
      const was = state.record;
      if (!now || now.id !== was.id || now.state !== was.state || now.generation !== was.generation) {
        const which = level === 0 ? "branch" : `ancestor ${JSON.stringify(was.name)} of branch`;
        throw new DaxfsError(
          "ESTALE",
          `${which} ${JSON.stringify(this.branchName)} is no longer valid (committed, aborted or invalidated)`,
        );
      }
      latest.push(now);
      // A log that moved (NOTES.md "Space") or shrank is re-read whole, with every level above it.
      if (now.logOffset !== was.logOffset || now.logSize < state.indexedEnd)
        rebuildFrom = Math.max(rebuildFrom, level);
    }
    for (const [level, state] of this.levels.entries()) state.record = latest[level] as BranchRecord;
    this.syncLevels(rebuildFrom);
  }

  /**
   * For a writer: index one entry it has just published in the log of chain level `level`
   * (0 = the viewed branch). Entries already indexed are ignored; entries published before it and
   * not yet indexed are read from the log first.
   */
  applyEntry(level: number, entry: DeltaEntry): void {
    const state = this.levels[level];
    if (!state)
      throw new DaxfsError(
        "EINVAL",
        `chain level ${level} does not exist (the chain has ${this.levels.length})`,
      );
    const relative = entry.offset - state.record.logOffset;
    if (relative + entry.totalSize <= state.indexedEnd) return;
    if (relative > state.indexedEnd) this.indexUpTo(level, relative);
    if (relative !== state.indexedEnd) {
      throw new CorruptImageError(
        `entry at ${entry.offset} does not start on an entry boundary of the log`,
        entry.offset,
      );
    }
    this.index.apply(level, entry);
    state.indexedEnd = relative + entry.totalSize;
  }

  get rootIno(): number {
    return this.image.base?.rootIno ?? DAXFS_ROOT_INO;
  }

  lookup(parentIno: number, name: string): number {
    this.refresh();
    return this.lookupFresh(parentIno, name);
  }

  private lookupFresh(parentIno: number, name: string): number {
    if (nameByteLength(name) > DAXFS_NAME_MAX)
      throw new DaxfsError(
        "ENAMETOOLONG",
        `name ${JSON.stringify(name.slice(0, 40))}... is longer than ${DAXFS_NAME_MAX} bytes`,
      );
    this.requireDirectory(parentIno);
    const ino = name === "" || name.includes("/") ? undefined : this.index.lookup(parentIno, name);
    if (ino === undefined)
      throw new DaxfsError("ENOENT", `no entry ${JSON.stringify(name)} in directory ${parentIno}`);
    return ino;
  }

  /**
   * The inode at `path` ("/a/b") by the one path walk (path-walk.ts): "." and ".." honoured,
   * symlinks before the last component followed, the last one only with `followFinal`; errors
   * name the path.
   */
  resolve(path: string, options: WalkOptions = {}): number {
    this.refresh();
    // The tree as the walk sees it: the index as just refreshed.
    const tree: PathTree = {
      rootIno: this.rootIno,
      child: (dir, name) => this.index.lookup(dir, name),
      typeOf: (ino) => this.index.typeOf(ino),
      readlink: (ino) => this.index.symlinkTarget(ino),
    };
    const ino = walkPath(tree, path, options);
    this.statFresh(ino);
    return ino;
  }

  stat(ino: number): Stat {
    this.refresh();
    return this.statFresh(ino);
  }

  private statFresh(ino: number): Stat {
    const attributes = this.index.attributes(ino);
    if (!attributes) throw new DaxfsError("ENOENT", `inode ${ino} does not exist`);
    const size = this.index.size(ino);
    return {
      ino,
      ...attributes,
      size,
      nlink: this.index.nlink(ino),
      blocks: Math.ceil(size / 4096) * 8,
      ...this.index.times(ino),
    };
  }

  private requireDirectory(ino: number): void {
    const type = this.index.typeOf(ino);
    if (type === undefined) throw new DaxfsError("ENOENT", `inode ${ino} does not exist`);
    if (type !== FileType.DIR) throw new DaxfsError("ENOTDIR", `inode ${ino} is not a directory`);
  }

  /** The live names of directory `ino`, each once, without "." and "..". */
  readdir(ino: number): DirEntry[] {
    this.refresh();
    return this.readdirFresh(ino);
  }

  private readdirFresh(ino: number): DirEntry[] {
    this.requireDirectory(ino);
    const entries: DirEntry[] = [];
    for (const name of this.index.candidateNames(ino)) {
      const child = this.index.lookup(ino, name);
      if (child === undefined) continue;
      // A child no level touched keeps the mode its base dirent records.
      const baseEntry = this.index.untouched(child) ? this.index.baseDirent(ino, name) : undefined;
      const mode = baseEntry?.ino === child ? baseEntry.mode : this.index.attributes(child)?.mode;
      if (mode === undefined)
        throw new CorruptImageError(
          `directory ${ino}: entry ${JSON.stringify(name)} names missing inode ${child}`,
        );
      entries.push({ name, ino: child, mode });
    }
    return entries;
  }

  readlink(ino: number): string {
    this.refresh();
    const type = this.index.typeOf(ino);
    if (type === undefined) throw new DaxfsError("ENOENT", `inode ${ino} does not exist`);
    if (type !== FileType.SYMLINK) throw new DaxfsError("EINVAL", `inode ${ino} is not a symlink`);
    return this.index.symlinkTarget(ino);
  }

  /** Up to `length` bytes of regular file `ino` from `offset`; fewer at its end, holes read as zeros. */
  read(ino: number, offset: number, length: number): Uint8Array {
    this.refresh();
    const type = this.index.typeOf(ino);
    if (type === undefined) throw new DaxfsError("ENOENT", `inode ${ino} does not exist`);
    if (type === FileType.DIR) throw new DaxfsError("EISDIR", `inode ${ino} is a directory`);
    if (type !== FileType.REGULAR) throw new DaxfsError("EINVAL", `inode ${ino} is not a regular file`);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new DaxfsError("EINVAL", `invalid read range ${offset}+${length}`);
    }
    const end = Math.min(this.index.size(ino), offset + length);
    if (end <= offset) return new Uint8Array(0);
    return this.index.read(ino, offset, end - offset);
  }

  /**
   * Every live path, depth first, parents before children, children in byte order (root is "/";
   * or from directory `start`, named `start.path`). Iterative with a visited set, so a corrupt
   * image with a directory cycle cannot recurse or loop.
   */
  *walk(start?: { path: string; ino: number }): Iterable<{ path: string; ino: number; stat: Stat }> {
    this.refresh();
    const visited = new Set<number>();
    const pending: { path: string; ino: number }[] = [start ?? { path: "/", ino: this.rootIno }];
    while (pending.length > 0) {
      const { path, ino } = pending.pop() as { path: string; ino: number };
      const stat = this.statFresh(ino);
      const isDirectory = fileTypeOf(stat.mode) === FileType.DIR;
      if (isDirectory) {
        if (visited.has(ino))
          throw new CorruptImageError(`directory ${ino} is reachable twice (again at ${path})`);
        visited.add(ino);
      }
      yield { path, ino, stat };
      if (!isDirectory) continue;
      const children = this.readdirFresh(ino).sort((a, b) => compareNames(b.name, a.name));
      for (const child of children)
        pending.push({ path: `${path.endsWith("/") ? path : `${path}/`}${child.name}`, ino: child.ino });
    }
  }
}
