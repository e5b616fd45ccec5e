// The filesystem a daxfs-fuse mount serves, path-based like libfuse's high-level API, with no FUSE
// in it: every method either returns its answer or throws a DaxfsError whose errno goes back to the
// caller. Reads come from core's BranchView; writes go through core's BranchWriter, which appends
// one entry in the kernel's format, then the entry is indexed into the view (SPEC 3.8; NOTES.md
// "Semantics": POSIX inside the branch, DAXFS rules across branches).

import {
  abortBranch,
  type BranchContext,
  type BranchRecord,
  type BranchView,
  BranchWriter,
  branchContext,
  commitBranch,
  createBranch,
  DaxfsError,
  DaxfsImage,
  type DirEntry,
  decodeDeltaRange,
  deltaSpaceLeft,
  dropBranch,
  ensureMain,
  fileTypeOf,
  findBranch,
  type ImageSource,
  MAIN_BRANCH,
  type NewDeltaEntry,
  S_IFDIR,
  S_IFREG,
  type Stat,
} from "@daxfs/core";
import { BranchState, DAXFS_NAME_MAX, DeltaType, FileType, SetattrValid } from "@daxfs/format";

const O_ACCMODE = 3;
const SYMLINK_TARGET_MAX = 4095;
const encoder = new TextEncoder();

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

export interface BranchFsInfo {
  image: string;
  branch: string;
  parent: string | null;
  writable: boolean;
  pid: number;
  /** The ancestry as mount options show it (SPEC 3.12): "/main/dev/feature". */
  branchPath: string;
}

function isDir(mode: number): boolean {
  return fileTypeOf(mode) === S_IFDIR;
}

function splitPath(path: string): { parent: string; name: string } {
  const cut = path.lastIndexOf("/");
  const name = path.slice(cut + 1);
  if (encoder.encode(name).length > DAXFS_NAME_MAX)
    throw new DaxfsError("ENAMETOOLONG", `${path}: name longer than ${DAXFS_NAME_MAX} bytes`);
  return { parent: cut <= 0 ? "/" : path.slice(0, cut), name };
}

export class BranchFs {
  private ctx: BranchContext | null;
  private writer: BranchWriter | null;
  /** Slots of the served branch's chain, the branch first, main last. */
  private chain: BranchRecord[];
  private view!: BranchView;
  private readonly openFiles = new Map<number, number>();
  private nextHandle = 1;
  private branchName: string;
  private parentName: string | null;
  private finished = false;

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
    this.openView();
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
    return {
      image: this.source.name,
      branch: this.branchName,
      parent: this.parentName,
      writable: this.writable,
      pid: process.pid,
      branchPath: `/${(this.chain.length > 0 ? this.chain.map((level) => level.name) : [MAIN_BRANCH]).reverse().join("/")}`,
    };
  }

  // ---- freshness and validity (SPEC 3.10) ----

  private openView(): void {
    this.view = DaxfsImage.open(this.source).view(this.branchName);
  }

  /**
   * Before every operation. The view re-reads its chain's records itself: ESTALE once the branch
   * (or an ancestor) was committed, aborted or invalidated; entries others appended are indexed.
   */
  private fresh(): BranchView {
    this.view.refresh();
    return this.view;
  }

  private writableView(): { view: BranchView; writer: BranchWriter } {
    const view = this.fresh();
    if (!this.writer)
      throw new DaxfsError("EROFS", `${this.source.name}: branch "${this.branchName}" is read-only`);
    return { view, writer: this.writer };
  }

  /** Appends one entry, then indexes it (SPEC 1.5: published first, indexed second). */
  private append(writer: BranchWriter, entry: NewDeltaEntry): void {
    const appended = writer.append(entry);
    const [decoded] = decodeDeltaRange(this.source, appended.offset, 0, appended.totalSize).entries;
    if (!decoded)
      throw new DaxfsError(
        "EIO",
        `${this.source.name}: entry just written at ${appended.offset} does not decode`,
      );
    // A log move (docs/space.md) is noticed by refresh, which re-reads the log whole.
    this.view.refresh();
    this.view.applyEntry(0, decoded);
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

  // ---- writes (SPEC 3.8.2-3.8.9) ----

  write(handle: number, position: number, data: Uint8Array): number {
    const { writer } = this.writableView();
    if (data.length === 0) return 0;
    this.append(writer, { type: DeltaType.WRITE, ino: this.inoOf(handle), fileOffset: position, data });
    return data.length;
  }

  private truncateIno(view: BranchView, writer: BranchWriter, ino: number, size: number, path: string): void {
    const stat = view.stat(ino);
    if (isDir(stat.mode)) throw new DaxfsError("EISDIR", `${path}: is a directory`);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new DaxfsError("EINVAL", `${path}: invalid size ${size}`);
    if (stat.size === size) return;
    this.append(writer, { type: DeltaType.TRUNCATE, ino, newSize: size });
  }

  truncate(path: string, size: number): void {
    const { view, writer } = this.writableView();
    this.truncateIno(view, writer, view.resolve(path), size, path);
  }

  ftruncate(handle: number, size: number): void {
    const { view, writer } = this.writableView();
    this.truncateIno(view, writer, this.inoOf(handle), size, `handle ${handle}`);
  }

  /** Resolves the parent of a new name and checks the name is free (EEXIST) and legal. */
  private newName(view: BranchView, path: string): { parentIno: number; name: string } {
    const { parent, name } = splitPath(path);
    const parentIno = view.resolve(parent);
    if (!isDir(view.stat(parentIno).mode)) throw new DaxfsError("ENOTDIR", `${parent}: not a directory`);
    if (this.lookup(view, parentIno, name) !== undefined)
      throw new DaxfsError("EEXIST", `${path}: already exists`);
    return { parentIno, name };
  }

  private lookup(view: BranchView, parentIno: number, name: string): number | undefined {
    try {
      return view.lookup(parentIno, name);
    } catch (error) {
      if (error instanceof DaxfsError && error.code === "ENOENT") return undefined;
      throw error;
    }
  }

  create(path: string, mode: number): number {
    const { view, writer } = this.writableView();
    const { parentIno, name } = this.newName(view, path);
    const ino = writer.allocateIno();
    this.append(writer, {
      type: DeltaType.CREATE,
      ino,
      parentIno,
      newIno: ino,
      mode: FileType.REGULAR | (mode & 0o7777),
      ...this.owner,
      name,
    });
    const handle = this.nextHandle++;
    this.openFiles.set(handle, ino);
    return handle;
  }

  mknod(path: string, mode: number): void {
    // Only regular files can be made; devices, FIFOs and sockets cannot (NOTES.md "Semantics").
    if (fileTypeOf(mode) !== S_IFREG && fileTypeOf(mode) !== 0)
      throw new DaxfsError("EPERM", `${path}: special files are not supported`);
    this.release(this.create(path, mode));
  }

  mkdir(path: string, mode: number): void {
    const { view, writer } = this.writableView();
    const { parentIno, name } = this.newName(view, path);
    const ino = writer.allocateIno();
    this.append(writer, {
      type: DeltaType.MKDIR,
      ino,
      parentIno,
      newIno: ino,
      mode: FileType.DIR | (mode & 0o7777),
      ...this.owner,
      name,
    });
  }

  symlink(target: string, path: string): void {
    const { view, writer } = this.writableView();
    if (encoder.encode(target).length > SYMLINK_TARGET_MAX)
      throw new DaxfsError("ENAMETOOLONG", `${path}: symlink target too long`);
    if (target.length === 0) throw new DaxfsError("ENOENT", `${path}: empty symlink target`);
    const { parentIno, name } = this.newName(view, path);
    const ino = writer.allocateIno();
    this.append(writer, {
      type: DeltaType.SYMLINK,
      ino,
      parentIno,
      newIno: ino,
      ...this.owner,
      name,
      target,
    });
  }

  private existing(
    view: BranchView,
    path: string,
  ): { parentIno: number; name: string; ino: number; mode: number } {
    const { parent, name } = splitPath(path);
    const parentIno = view.resolve(parent);
    const ino = view.lookup(parentIno, name);
    return { parentIno, name, ino, mode: view.stat(ino).mode };
  }

  private isEmptyDir(view: BranchView, ino: number): boolean {
    return view.readdir(ino).every((entry) => entry.name === "." || entry.name === "..");
  }

  unlink(path: string): void {
    const { view, writer } = this.writableView();
    const victim = this.existing(view, path);
    if (isDir(victim.mode)) throw new DaxfsError("EISDIR", `${path}: is a directory`);
    this.append(writer, {
      type: DeltaType.DELETE,
      ino: victim.ino,
      parentIno: victim.parentIno,
      name: victim.name,
    });
  }

  rmdir(path: string): void {
    const { view, writer } = this.writableView();
    if (path === "/") throw new DaxfsError("EBUSY", "/: cannot remove the root");
    const victim = this.existing(view, path);
    if (!isDir(victim.mode)) throw new DaxfsError("ENOTDIR", `${path}: not a directory`);
    if (!this.isEmptyDir(view, victim.ino)) throw new DaxfsError("ENOTEMPTY", `${path}: directory not empty`);
    this.append(writer, {
      type: DeltaType.DELETE,
      ino: victim.ino,
      parentIno: victim.parentIno,
      name: victim.name,
    });
  }

  /**
   * rename(2) with POSIX replacement rules (SPEC 3.8.4). One RENAME entry replaces an existing
   * target by itself (OVERVIEW 4), so the move is atomic even across a crash.
   */
  rename(from: string, to: string, flags = 0): void {
    const { view, writer } = this.writableView();
    const source = this.existing(view, from);
    const { parent: toParent, name: toName } = splitPath(to);
    const toParentIno = view.resolve(toParent);
    if (!isDir(view.stat(toParentIno).mode)) throw new DaxfsError("ENOTDIR", `${toParent}: not a directory`);
    if (isDir(source.mode) && (to === from || to.startsWith(`${from}/`)))
      throw new DaxfsError("EINVAL", `${to}: inside ${from}`);
    const targetIno = this.lookup(view, toParentIno, toName);
    if (targetIno !== undefined) {
      if (flags & 1) throw new DaxfsError("EEXIST", `${to}: already exists`);
      if (targetIno === source.ino) return; // both names are one file: rename does nothing
      const targetMode = view.stat(targetIno).mode;
      if (isDir(source.mode) && !isDir(targetMode)) throw new DaxfsError("ENOTDIR", `${to}: not a directory`);
      if (!isDir(source.mode) && isDir(targetMode)) throw new DaxfsError("EISDIR", `${to}: is a directory`);
      if (isDir(targetMode) && !this.isEmptyDir(view, targetIno))
        throw new DaxfsError("ENOTEMPTY", `${to}: directory not empty`);
    } else if (flags & ~1) {
      throw new DaxfsError("EINVAL", `rename flags ${flags} not supported`);
    }
    this.append(writer, {
      type: DeltaType.RENAME,
      ino: source.ino,
      oldParentIno: source.parentIno,
      newParentIno: toParentIno,
      renamedIno: source.ino,
      oldName: source.name,
      newName: toName,
    });
  }

  chmod(path: string, mode: number): void {
    const { view, writer } = this.writableView();
    const ino = view.resolve(path);
    const type = fileTypeOf(view.stat(ino).mode);
    this.append(writer, {
      type: DeltaType.SETATTR,
      ino,
      mode: type | (mode & 0o7777),
      uid: 0,
      gid: 0,
      valid: SetattrValid.MODE,
      size: 0,
    });
  }

  chown(path: string, uid: number, gid: number): void {
    const { view, writer } = this.writableView();
    const ino = view.resolve(path);
    // (uid_t)-1 / (gid_t)-1 leave that id unchanged (chown(2)).
    const keep = (id: number) => id === -1 || id >>> 0 === 0xffff_ffff;
    const valid = (keep(uid) ? 0 : SetattrValid.UID) | (keep(gid) ? 0 : SetattrValid.GID);
    if (valid === 0) return;
    this.append(writer, {
      type: DeltaType.SETATTR,
      ino,
      mode: 0,
      uid: keep(uid) ? 0 : uid >>> 0,
      gid: keep(gid) ? 0 : gid >>> 0,
      valid,
      size: 0,
    });
  }

  /** v5 stores no times (NOTES.md item 7): accepted, and nothing is recorded. */
  utimens(path: string): void {
    const view = this.fresh();
    view.resolve(path);
    if (!this.writer) throw new DaxfsError("EROFS", `${path}: branch "${this.branchName}" is read-only`);
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

  link(): never {
    throw new DaxfsError("EPERM", "hard links cannot be created in a branch");
  }

  statfs(): { blocks: number; bfree: number; files: number; ffree: number } {
    // SPEC 3.12: free blocks are the delta region's unallocated bytes; none on a read-only mount.
    return {
      blocks: Math.floor(this.source.size / 4096),
      bfree: this.ctx && this.writer ? Math.floor(deltaSpaceLeft(this.source, this.ctx.geometry) / 4096) : 0,
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
    commitBranch(ctx, this.chain[0]?.id as number);
    this.switchToMain();
  }

  /** Aborts the chain up to main; the mount then shows main, read-only. */
  abort(): void {
    const ctx = this.requireWritable("abort");
    abortBranch(ctx, this.chain[0]?.id as number);
    this.switchToMain();
  }

  private switchToMain(): void {
    this.finished = true;
    this.writer = null;
    this.chain = this.chain.slice(-1);
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
  }
}
