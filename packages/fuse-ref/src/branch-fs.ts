// The filesystem a daxfs-fuse mount serves, path-based like libfuse's high-level API, with no FUSE
// in it: every method either returns its answer or throws a DaxfsError whose errno goes back to the
// caller. A thin layer over core, as erofsfuse is over erofs-utils' lib: reads come from core's
// BranchView, writes from core's BranchFiles (the POSIX rules, one entry per call through the
// BranchWriter), branch lifecycle from core's lifecycle calls. What is left here is what FUSE
// adds: open-file handles, read-only mounts, statfs, the control channel's commit/abort.

import {
  abortBranch,
  acquireLease,
  type BranchContext,
  BranchFiles,
  type BranchRecord,
  type BranchView,
  BranchWriter,
  branchContext,
  commitBranch,
  createBranch,
  DaxfsError,
  DaxfsImage,
  type DirEntry,
  deltaUsage,
  dropBranch,
  ensureMain,
  fileTypeOf,
  findBranch,
  type ImageSource,
  type Lease,
  MAIN_BRANCH,
  releaseLease,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  type Stat,
} from "@daxfs/core";
import { BranchState } from "@daxfs/format";

const O_ACCMODE = 3;

export interface BranchFsOptions {
  /** Branch to serve; default main (read-only). */
  branch?: string;
  /** Create `branch` as a new child of this branch; without it an existing branch is re-attached. */
  parent?: string;
  /** Makes published entries durable (msync of a mapping); fsync calls it. */
  sync?: () => void;
  /** Owner of new files (FUSE's high-level API does not tell us the caller). */
  uid?: number;
  gid?: number;
}

/** One directory of BranchFs.listTree, with what the binding's cache keeps per entry. */
export interface DirectoryForCache {
  path: string;
  entries: DirEntry[];
  self: Stat;
  stats: Stat[];
  /** A symlink's target; null for other types. */
  targets: (string | null)[];
  /** Where a regular file's bytes lie whole in the image mapping; -1 when they do not. */
  offsets: number[];
}

export interface BranchFsInfo {
  image: string;
  branch: string;
  parent: string | null;
  writable: boolean;
  pid: number;
  /** The ancestry as mount options show it (SPEC 3.12): "/main/dev/feature". */
  branchPath: string;
  /** Set when the served branch was invalidated (SPEC 3.10): why, in one phrase. */
  stale?: string;
}

function isDir(mode: number): boolean {
  return fileTypeOf(mode) === S_IFDIR;
}

export class BranchFs {
  private ctx: BranchContext | null;
  private writer: BranchWriter | null;
  /** Slots of the served branch's chain, the branch first, main last. */
  private chain: BranchRecord[];
  private view!: BranchView;
  /** The POSIX write side over `view`; null where nothing can be written. */
  private files: BranchFiles | null = null;
  private readonly openFiles = new Map<number, number>();
  private nextHandle = 1;
  private branchName: string;
  private parentName: string | null;
  private finished = false;
  /** Keeps the served chain's logs from being reused while this mount may read them (docs/space.md). */
  private lease: { ctx: BranchContext; lease: Lease } | null = null;

  private constructor(
    readonly source: ImageSource,
    /** The served branch; null for main of a static image, or before any main record exists. */
    record: BranchRecord | null,
    private readonly owner: { uid: number; gid: number },
    private readonly sync: () => void,
  ) {
    this.branchName = record?.name ?? MAIN_BRANCH;
    this.chain = record ? DaxfsImage.open(source).branchChain(record) : [];
    this.parentName = this.chain[1]?.name ?? null;
    this.ctx = record && record.parentId !== 0 ? branchContext(source) : null;
    this.writer = record && this.ctx ? BranchWriter.forRecord(this.ctx, record) : null;
    // Before the first read of any log. A read-only image file cannot hold a lease: such a main
    // mount relies on re-reading the record around each read (docs/space.md "Readers").
    if (record && source.writable) this.takeLease(record.id);
    this.openView();
  }

  private takeLease(branchId: number): void {
    const ctx = this.ctx ?? branchContext(this.source);
    const previous = this.lease;
    this.lease = { ctx, lease: acquireLease(ctx, branchId) };
    if (previous) releaseLease(previous.ctx, previous.lease);
  }

  /**
   * Main, read-only (nothing is written, not even a main record: the view of a branching image
   * without one is the base); or `options.branch`, created under `options.parent` when given,
   * else re-attached, writable.
   */
  static open(source: ImageSource, options: BranchFsOptions = {}): BranchFs {
    const owner = {
      uid: options.uid ?? process.getuid?.() ?? 0,
      gid: options.gid ?? process.getgid?.() ?? 0,
    };
    const name = options.branch ?? MAIN_BRANCH;
    const sync = options.sync ?? (() => source.flush());
    if (name === MAIN_BRANCH && options.parent === undefined) {
      const image = DaxfsImage.open(source);
      return new BranchFs(
        source,
        image.branching ? (image.findBranch(MAIN_BRANCH) ?? null) : null,
        owner,
        sync,
      );
    }
    const ctx = branchContext(source);
    ensureMain(ctx);
    let record: BranchRecord;
    if (options.parent !== undefined) record = createBranch(ctx, name, options.parent);
    else {
      record = findBranch(ctx, name);
      if (record.state !== BranchState.ACTIVE)
        throw new DaxfsError("ESTALE", `${source.name}: branch "${name}" is no longer active`);
    }
    return new BranchFs(source, record, owner, sync);
  }

  get writable(): boolean {
    return this.writer !== null;
  }

  info(): BranchFsInfo {
    const stale = this.staleReason();
    return {
      image: this.source.name,
      branch: this.branchName,
      parent: this.parentName,
      writable: this.writable,
      pid: process.pid,
      branchPath: `/${(this.chain.length > 0 ? this.chain.map((level) => level.name) : [MAIN_BRANCH]).reverse().join("/")}`,
      ...(stale !== null ? { stale } : {}),
    };
  }

  /**
   * Why the served branch can no longer be written or committed, or null: its record or one of
   * its ancestors' was committed, aborted or invalidated by a sibling's commit (SPEC 3.10).
   */
  staleReason(): string | null {
    if (!this.ctx || !this.writer || this.finished) return null;
    for (const level of this.chain) {
      const now = this.ctx.image.readBranchRecord(level.slot);
      if (now && now.id === level.id && now.state === BranchState.ACTIVE) continue;
      const what = level === this.chain[0] ? `branch "${this.branchName}"` : `its parent "${level.name}"`;
      const state = now && now.id === level.id ? BranchState[now.state] : "gone";
      return `${what} was invalidated (${state}: a sibling's commit or an abort)`;
    }
    return null;
  }

  // ---- freshness and validity (SPEC 3.10) ----

  private openView(): void {
    this.view = DaxfsImage.open(this.source).view(this.branchName);
    this.files = this.writer ? new BranchFiles(this.view, this.writer) : null;
  }

  /**
   * Before every operation. The view re-reads its chain's records itself: ESTALE once the branch
   * (or an ancestor) was committed, aborted or invalidated; entries others appended are indexed.
   */
  private fresh(): BranchView {
    this.view.refresh();
    return this.view;
  }

  private writableFiles(): BranchFiles {
    this.fresh();
    if (!this.files)
      throw new DaxfsError("EROFS", `${this.source.name}: branch "${this.branchName}" is read-only`);
    return this.files;
  }

  // ---- reads ----

  getattr(path: string): Stat {
    const view = this.fresh();
    return view.stat(view.resolve(path));
  }

  fgetattr(handle: number): Stat {
    return this.fresh().stat(this.inoOf(handle));
  }

  readdir(path: string): DirEntry[] {
    const view = this.fresh();
    const ino = view.resolve(path);
    if (!isDir(view.stat(ino).mode)) throw new DaxfsError("ENOTDIR", `${path}: not a directory`);
    return view.readdir(ino);
  }

  /**
   * readdir with what a mount that never writes hands to the binding's cache (docs/fuse.md
   * "Caching"): `path`'s listing, then those of the directories below it, breadth first, until
   * `budget` entries are listed (at least `path`'s), all from one view of the tree. Each listing
   * has each entry's stat, a symlink's target, and where a regular file's bytes lie whole in
   * `mapped` (the image mapping), else -1. Bytes lie whole there only while no log of the chain
   * holds an entry (nothing changed a base file) and the base is not split (its data would be in
   * the backing file).
   */
  listTree(path: string, mapped: Uint8Array | null, budget: number): DirectoryForCache[] {
    const view = this.fresh();
    const base = mapped && view.chain.every((record) => record.logSize === 0) ? view.image.base : null;
    const listings: DirectoryForCache[] = [];
    const queue = [{ path, ino: view.resolve(path) }];
    let left = budget;
    for (let next = 0; next < queue.length && (next === 0 || left > 0); next++) {
      const dir = queue[next] as { path: string; ino: number };
      const self = view.stat(dir.ino);
      if (!isDir(self.mode)) throw new DaxfsError("ENOTDIR", `${dir.path}: not a directory`);
      const entries = view.readdir(dir.ino);
      const stats = entries.map((entry) => view.stat(entry.ino));
      const targets = entries.map((entry, i) =>
        fileTypeOf((stats[i] as Stat).mode) === S_IFLNK ? view.readlink(entry.ino) : null,
      );
      const offsets = entries.map((entry, i) => {
        const stat = stats[i] as Stat;
        if (!base || !mapped || fileTypeOf(stat.mode) !== S_IFREG) return -1;
        if (stat.size === 0) return 0;
        const bytes = base.readFile(entry.ino, 0, 1);
        return bytes.buffer === mapped.buffer ? bytes.byteOffset - mapped.byteOffset : -1;
      });
      listings.push({ path: dir.path, entries, self, stats, targets, offsets });
      left -= entries.length;
      entries.forEach((entry, i) => {
        if (isDir((stats[i] as Stat).mode))
          queue.push({
            path: dir.path === "/" ? `/${entry.name}` : `${dir.path}/${entry.name}`,
            ino: entry.ino,
          });
      });
    }
    return listings;
  }

  readlink(path: string): string {
    const view = this.fresh();
    return view.readlink(view.resolve(path));
  }

  open(path: string, flags: number): number {
    const view = this.fresh();
    const ino = view.resolve(path);
    if ((flags & O_ACCMODE) !== 0) {
      if (!this.writer) throw new DaxfsError("EROFS", `${path}: branch "${this.branchName}" is read-only`);
      if (isDir(view.stat(ino).mode)) throw new DaxfsError("EISDIR", `${path}: is a directory`);
    }
    const handle = this.nextHandle++;
    this.openFiles.set(handle, ino);
    return handle;
  }

  /**
   * What the served tree is at: it changes with every entry appended to the chain (a commit into
   * main moves main's log end). A mount that lets the kernel cache names and attributes
   * compares it to learn when to invalidate them (docs/fuse.md "Caching").
   */
  treeVersion(): string {
    this.fresh();
    return this.view.chain.map((r) => `${r.id}:${r.logOffset}:${r.logSize}`).join("/") || "base";
  }

  /** The names in the root directory (for cache invalidation), as they are now. */
  rootNames(): string[] {
    return this.readdir("/").map((entry) => entry.name);
  }

  /**
   * open(2) on a mount that never writes: the FUSE file handle is the inode number itself, so no
   * table entry is kept and FUSE needs no release call (one request less per file).
   */
  openInode(path: string, flags: number): number {
    if ((flags & O_ACCMODE) !== 0)
      throw new DaxfsError("EROFS", `${path}: branch "${this.branchName}" is read-only`);
    const view = this.fresh();
    return view.resolve(path);
  }

  readInode(ino: number, position: number, length: number): Uint8Array {
    return this.fresh().read(ino, position, length);
  }

  statInode(ino: number): Stat {
    return this.fresh().stat(ino);
  }

  release(handle: number): void {
    this.openFiles.delete(handle);
  }

  private inoOf(handle: number): number {
    const ino = this.openFiles.get(handle);
    if (ino === undefined) throw new DaxfsError("EBADF", `file handle ${handle} is not open`);
    return ino;
  }

  read(handle: number, position: number, length: number): Uint8Array {
    return this.fresh().read(this.inoOf(handle), position, length);
  }

  // ---- writes (SPEC 3.8.2-3.8.9, core's BranchFiles) ----

  write(handle: number, position: number, data: Uint8Array): number {
    return this.writableFiles().write(this.inoOf(handle), position, data);
  }

  truncate(path: string, size: number): void {
    const files = this.writableFiles();
    files.truncate(this.view.resolve(path), size, path);
  }

  ftruncate(handle: number, size: number): void {
    this.writableFiles().truncate(this.inoOf(handle), size, `handle ${handle}`);
  }

  create(path: string, mode: number): number {
    const ino = this.writableFiles().create(path, mode, this.owner);
    const handle = this.nextHandle++;
    this.openFiles.set(handle, ino);
    return handle;
  }

  mknod(path: string, mode: number): void {
    this.writableFiles().create(path, mode, this.owner);
  }

  mkdir(path: string, mode: number): void {
    this.writableFiles().mkdir(path, mode, this.owner);
  }

  symlink(target: string, path: string): void {
    this.writableFiles().symlink(target, path, this.owner);
  }

  unlink(path: string): void {
    this.writableFiles().unlink(path);
  }

  rmdir(path: string): void {
    this.writableFiles().rmdir(path);
  }

  rename(from: string, to: string, flags = 0): void {
    this.writableFiles().rename(from, to, flags);
  }

  chmod(path: string, mode: number): void {
    this.writableFiles().chmod(path, mode);
  }

  chown(path: string, uid: number, gid: number): void {
    this.writableFiles().chown(path, uid, gid);
  }

  /** utimensat(2), times in ns since the epoch (undefined: UTIME_OMIT); kept by a UTIMES entry. */
  utimens(path: string, atime: bigint | undefined, mtime: bigint | undefined): void {
    this.writableFiles().utimens(path, atime, mtime);
  }

  /** Entries are published when written; fsync makes them durable on a file-backed image. */
  fsync(): void {
    this.fresh();
    this.sync();
  }

  /** access(2): existence, and EROFS for W_OK where nothing can be written. */
  access(path: string, mode: number): void {
    this.getattr(path);
    if (mode & 2 && !this.writer)
      throw new DaxfsError("EROFS", `${path}: branch "${this.branchName}" is read-only`);
  }

  /** link(2): a LINK entry (extension, docs/semantics.md "Extensions"). */
  link(existing: string, path: string): void {
    this.writableFiles().link(existing, path);
  }

  statfs(): { blocks: number; bfree: number; files: number; ffree: number } {
    // SPEC 3.12: free blocks are the delta region's free bytes (unallocated, or reusable:
    // docs/space.md "Reuse"); none on a read-only mount.
    const usage = this.ctx && this.writer ? deltaUsage(this.ctx.image) : null;
    return {
      blocks: Math.floor(this.source.size / 4096),
      bfree: usage ? Math.floor((usage.size - usage.used) / 4096) : 0,
      files: 0,
      ffree: 0xffff_ffff,
    };
  }

  // ---- lifecycle through the control channel (SPEC 3.9) ----

  private requireWritable(what: string): BranchContext {
    if (!this.ctx || !this.writer)
      throw new DaxfsError(
        "EOPNOTSUPP",
        `${this.source.name}: ${what} needs a writable branch mount, not main`,
      );
    return this.ctx;
  }

  /** Commits the served branch into main; the mount then shows main, read-only. */
  commit(): void {
    const ctx = this.requireWritable("commit");
    const stale = this.staleReason();
    if (stale !== null)
      throw new DaxfsError("ESTALE", `${stale}: its changes cannot be committed; abort it or unmount it`);
    commitBranch(ctx, this.chain[0]?.id as number);
    this.switchToMain();
  }

  /** Aborts the chain up to main; the mount then shows main, read-only. */
  abort(): void {
    const ctx = this.requireWritable("abort");
    // An invalidated branch is already ABORTED (or its chain is gone): nothing is left to end, and
    // the mount goes back to main as after any abort.
    const served = this.chain[0] as BranchRecord;
    const now = ctx.image.readBranchRecord(served.slot);
    if (now && now.id === served.id && now.state === BranchState.ACTIVE) abortBranch(ctx, served.id);
    this.switchToMain();
  }

  private switchToMain(): void {
    this.finished = true;
    this.writer = null;
    this.chain = this.chain.slice(-1);
    if (this.lease) this.takeLease(this.chain[0]?.id as number);
    this.parentName = null;
    this.branchName = MAIN_BRANCH;
    // Open files keep their inode numbers: after a commit they name the same files in main.
    this.openView();
  }

  /** Unmount: an uncommitted writable branch is dropped (only this level, SPEC 3.9.3). */
  close(): void {
    if (this.ctx && this.writer && !this.finished) dropBranch(this.ctx, this.chain[0]?.id as number);
    this.finished = true;
    this.writer = null;
    if (this.lease) releaseLease(this.lease.ctx, this.lease.lease);
    this.lease = null;
  }
}
