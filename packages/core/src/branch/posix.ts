// POSIX inside one writable branch (docs/semantics.md "Writes"; SPEC 3.8.2-3.8.9): the rules a
// writer must follow to turn a system call into log entries, stated once for every front end
// (daxfs-fuse, the model in tests, a future tool). Each call checks the call against the live
// view (names, types, empty directories, rename replacement), appends one entry through the
// BranchWriter, then indexes it into the view, so the next call sees it. Paths are absolute
// within the branch ("/a/b"); symlinks are not followed.
import { DAXFS_NAME_MAX, DeltaType, FileType, SetattrValid, UtimesValid } from "@daxfs/format";
import { decodeDeltaRange, type NewDeltaEntry, SYMLINK_TARGET_MAX } from "../delta/entry.js";
import { DaxfsError } from "../errors.js";
import { fileTypeOf, NO_OWNER, PERMISSION_BITS, S_IFDIR, S_IFREG } from "../file-type.js";
import { nameByteLength } from "../names.js";
import type { BranchView } from "../view.js";
import type { BranchWriter } from "./writer.js";

/** The owner new inodes get. */
export interface Owner {
  uid: number;
  gid: number;
}

const S_ISGID = 0o2000;

/** renameat2(2) RENAME_NOREPLACE: fail with EEXIST rather than replace the target. */
export const RENAME_NOREPLACE = 1;

function isDir(mode: number): boolean {
  return fileTypeOf(mode) === S_IFDIR;
}

/** The parent path and last name of `path`; ENAMETOOLONG past DAXFS_NAME_MAX bytes. */
export function splitPath(path: string): { parent: string; name: string } {
  const cut = path.lastIndexOf("/");
  const name = path.slice(cut + 1);
  if (nameByteLength(name) > DAXFS_NAME_MAX)
    throw new DaxfsError("ENAMETOOLONG", `${path}: name longer than ${DAXFS_NAME_MAX} bytes`);
  return { parent: cut <= 0 ? "/" : path.slice(0, cut), name };
}

export class BranchFiles {
  constructor(
    private readonly view: BranchView,
    private readonly writer: BranchWriter,
  ) {}

  /** Appends one entry, then indexes it (SPEC 1.5: published first, indexed second). */
  private append(entry: NewDeltaEntry): void {
    const source = this.view.image.source;
    const appended = this.writer.append(entry);
    const [decoded] = decodeDeltaRange(source, appended.offset, 0, appended.totalSize).entries;
    if (!decoded)
      throw new DaxfsError("EIO", `${source.name}: entry just written at ${appended.offset} does not decode`);
    // A log move (docs/space.md) is noticed by refresh, which re-reads the log whole.
    this.view.refresh();
    this.view.applyEntry(0, decoded);
  }

  private lookup(parentIno: number, name: string): number | undefined {
    try {
      return this.view.lookup(parentIno, name);
    } catch (error) {
      if (error instanceof DaxfsError && error.code === "ENOENT") return undefined;
      throw error;
    }
  }

  /** Resolves the parent of a new name and checks the name is free (EEXIST) and legal. */
  private newName(path: string): { parentIno: number; name: string } {
    const { parent, name } = splitPath(path);
    const parentIno = this.view.resolve(parent);
    if (!isDir(this.view.stat(parentIno).mode)) throw new DaxfsError("ENOTDIR", `${parent}: not a directory`);
    if (this.lookup(parentIno, name) !== undefined) throw new DaxfsError("EEXIST", `${path}: already exists`);
    return { parentIno, name };
  }

  private existing(path: string): { parentIno: number; name: string; ino: number; mode: number } {
    const { parent, name } = splitPath(path);
    const parentIno = this.view.resolve(parent);
    const ino = this.view.lookup(parentIno, name);
    return { parentIno, name, ino, mode: this.view.stat(ino).mode };
  }

  private isEmptyDir(ino: number): boolean {
    return this.view.readdir(ino).every((entry) => entry.name === "." || entry.name === "..");
  }

  /** pwrite(2) of `data` at `position` of regular file `ino`; returns the bytes written. */
  write(ino: number, position: number, data: Uint8Array): number {
    if (data.length === 0) return 0;
    this.append({ type: DeltaType.WRITE, ino, fileOffset: position, data });
    return data.length;
  }

  /** truncate(2) of inode `ino` (`what` names it in errors); nothing is logged when the size is unchanged. */
  truncate(ino: number, size: number, what: string): void {
    const stat = this.view.stat(ino);
    if (isDir(stat.mode)) throw new DaxfsError("EISDIR", `${what}: is a directory`);
    if (!Number.isSafeInteger(size) || size < 0)
      throw new DaxfsError("EINVAL", `${what}: invalid size ${size}`);
    if (stat.size === size) return;
    this.append({ type: DeltaType.TRUNCATE, ino, newSize: size });
  }

  /** creat(2)/mknod(2) of a regular file; returns its inode. Special files are EPERM (docs/semantics.md). */
  create(path: string, mode: number, owner: Owner): number {
    if (fileTypeOf(mode) !== S_IFREG && fileTypeOf(mode) !== 0)
      throw new DaxfsError("EPERM", `${path}: special files are not supported`);
    return this.makeNode(path, DeltaType.CREATE, FileType.REGULAR | (mode & PERMISSION_BITS), owner);
  }

  mkdir(path: string, mode: number, owner: Owner): number {
    return this.makeNode(path, DeltaType.MKDIR, FileType.DIR | (mode & PERMISSION_BITS), owner);
  }

  /** One CREATE or MKDIR entry for a new name `path`; returns the new inode. */
  private makeNode(
    path: string,
    type: DeltaType.CREATE | DeltaType.MKDIR,
    mode: number,
    owner: Owner,
  ): number {
    const { parentIno, name } = this.newName(path);
    const ino = this.writer.allocateIno();
    const inherited = this.inheritedOwner(parentIno, owner);
    // A directory made in a set-group-ID directory is set-group-ID too (inode_init_owner).
    const dirSgid = type === DeltaType.MKDIR && this.setgidDir(parentIno) ? S_ISGID : 0;
    this.append({ type, ino, parentIno, newIno: ino, mode: mode | dirSgid, ...inherited, name });
    return ino;
  }

  private setgidDir(ino: number): boolean {
    return (this.view.stat(ino).mode & S_ISGID) !== 0;
  }

  /** A new name in a set-group-ID directory takes the directory's group (BSD rule, inode_init_owner). */
  private inheritedOwner(parentIno: number, owner: Owner): Owner {
    return this.setgidDir(parentIno) ? { uid: owner.uid, gid: this.view.stat(parentIno).gid } : owner;
  }

  symlink(target: string, path: string, owner: Owner): number {
    if (nameByteLength(target) > SYMLINK_TARGET_MAX)
      throw new DaxfsError("ENAMETOOLONG", `${path}: symlink target too long`);
    if (target.length === 0) throw new DaxfsError("ENOENT", `${path}: empty symlink target`);
    const { parentIno, name } = this.newName(path);
    const ino = this.writer.allocateIno();
    const inherited = this.inheritedOwner(parentIno, owner);
    this.append({ type: DeltaType.SYMLINK, ino, parentIno, newIno: ino, ...inherited, name, target });
    return ino;
  }

  unlink(path: string): void {
    const victim = this.existing(path);
    if (isDir(victim.mode)) throw new DaxfsError("EISDIR", `${path}: is a directory`);
    this.append({ type: DeltaType.DELETE, ino: victim.ino, parentIno: victim.parentIno, name: victim.name });
  }

  rmdir(path: string): void {
    if (path === "/") throw new DaxfsError("EBUSY", "/: cannot remove the root");
    const victim = this.existing(path);
    if (!isDir(victim.mode)) throw new DaxfsError("ENOTDIR", `${path}: not a directory`);
    if (!this.isEmptyDir(victim.ino)) throw new DaxfsError("ENOTEMPTY", `${path}: directory not empty`);
    this.append({ type: DeltaType.DELETE, ino: victim.ino, parentIno: victim.parentIno, name: victim.name });
  }

  /**
   * rename(2) with POSIX replacement rules (SPEC 3.8.4); `flags` may hold RENAME_NOREPLACE. One
   * RENAME entry replaces an existing target by itself (OVERVIEW 4), so the move is atomic even
   * across a crash.
   */
  rename(from: string, to: string, flags = 0): void {
    const source = this.existing(from);
    const { parent: toParent, name: toName } = splitPath(to);
    const toParentIno = this.view.resolve(toParent);
    if (!isDir(this.view.stat(toParentIno).mode))
      throw new DaxfsError("ENOTDIR", `${toParent}: not a directory`);
    const targetIno = this.lookup(toParentIno, toName);
    // Linux's do_renameat2 answers NOREPLACE's EEXIST before the lock_rename trap checks below.
    if (targetIno !== undefined && flags & RENAME_NOREPLACE)
      throw new DaxfsError("EEXIST", `${to}: already exists`);
    // A directory onto itself is the no-op below (rename(2) of one inode onto itself), not EINVAL.
    if (isDir(source.mode) && to.startsWith(`${from}/`))
      throw new DaxfsError("EINVAL", `${to}: inside ${from}`);
    // Onto an ancestor of the source: Linux's lock_rename trap answers ENOTEMPTY before any type rule.
    if (from.startsWith(`${to}/`)) throw new DaxfsError("ENOTEMPTY", `${to}: directory not empty`);
    if (targetIno !== undefined) {
      if (targetIno === source.ino) return; // both names are one file: rename does nothing
      const targetMode = this.view.stat(targetIno).mode;
      if (isDir(source.mode) && !isDir(targetMode)) throw new DaxfsError("ENOTDIR", `${to}: not a directory`);
      if (!isDir(source.mode) && isDir(targetMode)) throw new DaxfsError("EISDIR", `${to}: is a directory`);
      if (isDir(targetMode) && !this.isEmptyDir(targetIno))
        throw new DaxfsError("ENOTEMPTY", `${to}: directory not empty`);
    } else if (flags & ~RENAME_NOREPLACE) {
      throw new DaxfsError("EINVAL", `rename flags ${flags} not supported`);
    }
    this.append({
      type: DeltaType.RENAME,
      ino: source.ino,
      oldParentIno: source.parentIno,
      newParentIno: toParentIno,
      renamedIno: source.ino,
      oldName: source.name,
      newName: toName,
    });
  }

  /**
   * link(2) (extension LINK, docs/semantics.md "Extensions"): `path` becomes a second name of the
   * file or symlink at `existing`. Directories cannot be linked (EPERM, as on Linux).
   */
  link(existing: string, path: string): void {
    // Linux's order (do_linkat): the source, then the new name (EEXIST first), then the type.
    const source = this.existing(existing);
    const { parentIno, name } = this.newName(path);
    if (isDir(source.mode))
      throw new DaxfsError("EPERM", `${existing}: hard links to directories are not allowed`);
    this.append({ type: DeltaType.LINK, ino: source.ino, parentIno, name });
  }

  /**
   * utimensat(2) (extension UTIMES): the times given (ns since the epoch) are kept; an undefined
   * one (UTIME_OMIT) is left as it is. The front end resolves UTIME_NOW to the current time.
   */
  utimens(path: string, atime: bigint | undefined, mtime: bigint | undefined): void {
    const ino = this.view.resolve(path);
    const valid =
      (atime === undefined ? 0 : UtimesValid.ATIME) | (mtime === undefined ? 0 : UtimesValid.MTIME);
    if (valid === 0) return;
    for (const time of [atime, mtime])
      if (time !== undefined && (time < 0n || time >= 1n << 63n))
        throw new DaxfsError("EINVAL", `${path}: time ${time} ns is outside 0..2^63-1 (1970..2262)`);
    this.append({ type: DeltaType.UTIMES, ino, atime: atime ?? 0n, mtime: mtime ?? 0n, valid });
  }

  /** chmod(2): the permission bits change, the type bits stay. */
  chmod(path: string, mode: number): void {
    const ino = this.view.resolve(path);
    const type = fileTypeOf(this.view.stat(ino).mode);
    this.append({
      type: DeltaType.SETATTR,
      ino,
      mode: type | (mode & PERMISSION_BITS),
      uid: 0,
      gid: 0,
      valid: SetattrValid.MODE,
      size: 0,
    });
  }

  /** chown(2): an id of -1 ((uid_t)-1, NO_OWNER) leaves that id unchanged. */
  chown(path: string, uid: number, gid: number): void {
    const ino = this.view.resolve(path);
    const keep = (id: number) => id >>> 0 === NO_OWNER;
    const valid = (keep(uid) ? 0 : SetattrValid.UID) | (keep(gid) ? 0 : SetattrValid.GID);
    if (valid === 0) return;
    this.append({
      type: DeltaType.SETATTR,
      ino,
      mode: 0,
      uid: keep(uid) ? 0 : uid >>> 0,
      gid: keep(gid) ? 0 : gid >>> 0,
      valid,
      size: 0,
    });
  }
}
