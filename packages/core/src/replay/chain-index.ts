// The index of one branch chain (OVERVIEW 4; SPEC 3.7, 3.8 with the DEFECTs fixed as NOTES.md
// "Semantics" asks). Each branch level keeps its own overlay, so that entries appended later to any
// level (by its writer, or merged in by a commit) are indexed by applying them to that level alone.
// Answers are those of replaying main's log, then each descendant's, up to the viewed branch:
// the nearest level that speaks of a name, an attribute or a byte wins.
//
// Replay rules, for every implementation that must reach the same tree (NOTES.md "Semantics"); the
// checks made before an entry applies are delta/rules.ts, which the validator runs too:
// - CREATE/MKDIR/SYMLINK: new_ino must be unknown (not a base slot, not made before in the chain)
//   and the parent a directory, else the log is corrupt. A live name it lands on is unlinked first.
//   Type bits 0 in the mode mean the entry's type; other wrong type bits are corrupt.
// - DELETE: the name is removed; the inode it named *now* loses the link (a file one link, a
//   directory all of its links and one of its parent's); hdr.ino is informational.
// - RENAME: the renamed inode must exist and both parents be directories. The target name, if
//   live and another inode, is unlinked as by DELETE; both names of one inode: nothing happens.
//   If the old name no longer names the inode (its parent changed meanwhile), the old name is still
//   removed and the new name still names the inode.
// - WRITE/TRUNCATE/SETATTR(SIZE): regular files only; bytes follow FileLayer. SETATTR MODE keeps
//   the type bits. WRITE, TRUNCATE and SETATTR of an inode never known in the chain are corrupt.
// - LINK (extension): the linked inode must exist and not be a directory, the parent must be a
//   directory; a live name it lands on is unlinked first; the inode gains one link.
// - nlink = base nlink + changes: +1 per name a file gains, directories 2 + subdirectories.
// - Times (docs/semantics.md "Times"): an entry's timestamp becomes the mtime and ctime of what it
//   changes (a file's data, a directory's names) and the ctime of an inode whose attributes or
//   link count it changes; a new inode gets it as atime, mtime and ctime; UTIMES sets atime/mtime
//   as recorded. Below the first level that speaks of a time, the base inode's mtime answers.
import { DeltaType, FileType, SetattrValid, UtimesValid } from "@daxfs/format";
import type { BaseImage, DirEntry } from "../base/base-image.js";
import { type DeltaEntry, deltaTypeName } from "../delta/entry.js";
import { checkEntryRules, createdFileType } from "../delta/rules.js";
import { CorruptImageError } from "../errors.js";
import { fileTypeOf, PERMISSION_BITS } from "../file-type.js";
import type { ImageSource } from "../image-source.js";
import { nameByteLength } from "../names.js";
import { FileLayer } from "./file-layer.js";

/** Tombstone in a level's name map: the name was removed at that level. */
const REMOVED = 0;

/** One level's changes to one inode. */
interface InodeOverlay {
  /** File type bits, set by the level that created the inode. */
  createdType?: number;
  symlinkTarget?: string;
  permissions?: number;
  uid?: number;
  gid?: number;
  nlinkDelta: number;
  file?: FileLayer;
  atime?: bigint;
  mtime?: bigint;
  ctime?: bigint;
}

/** atime, mtime and ctime in ns since the epoch. */
export interface Times {
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
}

/** One branch's overlay: names and inodes its log changed. */
export class LevelIndex {
  /** directory inode -> name -> inode number, or REMOVED. */
  readonly names = new Map<number, Map<string, number>>();
  readonly inodes = new Map<number, InodeOverlay>();

  inode(ino: number): InodeOverlay {
    let overlay = this.inodes.get(ino);
    if (!overlay) {
      overlay = { nlinkDelta: 0 };
      this.inodes.set(ino, overlay);
    }
    return overlay;
  }

  setName(dir: number, name: string, ino: number): void {
    let entries = this.names.get(dir);
    if (!entries) {
      entries = new Map();
      this.names.set(dir, entries);
    }
    entries.set(name, ino);
  }
}

export interface Attributes {
  mode: number;
  uid: number;
  gid: number;
}

/**
 * Queries take `from`: the level the question is asked at (0 = the viewed branch); levels above it
 * are not consulted, which is how an entry of a lower level is applied as of its own place.
 */
export class ChainIndex {
  /** levels[0] is the viewed branch, the last one main. */
  levels: LevelIndex[] = [];

  constructor(
    readonly source: ImageSource,
    readonly base: BaseImage | null,
  ) {}

  private *overlays(ino: number, from: number): Generator<InodeOverlay> {
    for (let level = from; level < this.levels.length; level++) {
      const overlay = (this.levels[level] as LevelIndex).inodes.get(ino);
      if (overlay) yield overlay;
    }
  }

  /** The file type bits of `ino`, or undefined if no level created it and the base has no such inode. */
  typeOf(ino: number, from = 0): number | undefined {
    for (const overlay of this.overlays(ino, from))
      if (overlay.createdType !== undefined) return overlay.createdType;
    const base = this.base?.readInode(ino);
    return base ? fileTypeOf(base.mode) : undefined;
  }

  /** The inode `name` in directory `dir` names, if any (SPEC 3.8.1, renames honoured). */
  lookup(dir: number, name: string, from = 0): number | undefined {
    for (let level = from; level < this.levels.length; level++) {
      const ino = (this.levels[level] as LevelIndex).names.get(dir)?.get(name);
      if (ino !== undefined) return ino === REMOVED ? undefined : ino;
    }
    return this.baseDirent(dir, name)?.ino;
  }

  /** The base directory entry `name` of `dir`, if `dir` is a base directory that has one. */
  baseDirent(dir: number, name: string): DirEntry | undefined {
    if (!this.base || this.typeOf(dir, this.levels.length) !== FileType.DIR) return undefined;
    return this.base.lookup(dir, name);
  }

  /** Every name that might be live in `dir`: base entries first, then names the levels touched. */
  candidateNames(dir: number): Set<string> {
    const names = new Set<string>();
    if (this.base && this.typeOf(dir, this.levels.length) === FileType.DIR) {
      for (const entry of this.base.readDirents(dir)) names.add(entry.name);
    }
    for (let level = this.levels.length - 1; level >= 0; level--) {
      for (const name of (this.levels[level] as LevelIndex).names.get(dir)?.keys() ?? []) names.add(name);
    }
    return names;
  }

  /** True if no level changed `ino`'s attributes (the base dirent's mode is then current). */
  untouched(ino: number): boolean {
    return this.overlays(ino, 0).next().done === true;
  }

  attributes(ino: number, from = 0): Attributes | undefined {
    const type = this.typeOf(ino, from);
    if (type === undefined) return undefined;
    let permissions: number | undefined;
    let uid: number | undefined;
    let gid: number | undefined;
    for (const overlay of this.overlays(ino, from)) {
      permissions ??= overlay.permissions;
      uid ??= overlay.uid;
      gid ??= overlay.gid;
      if (overlay.createdType !== undefined) break;
    }
    const base = this.base?.readInode(ino);
    return {
      mode: type | ((permissions ?? base?.mode ?? 0) & PERMISSION_BITS),
      uid: uid ?? base?.uid ?? 0,
      gid: gid ?? base?.gid ?? 0,
    };
  }

  /** Times of `ino`: the newest level that set each, else the base inode's mtime (0 without it). */
  times(ino: number, from = 0): Times {
    let atime: bigint | undefined;
    let mtime: bigint | undefined;
    let ctime: bigint | undefined;
    let created = false;
    for (const overlay of this.overlays(ino, from)) {
      atime ??= overlay.atime;
      mtime ??= overlay.mtime;
      ctime ??= overlay.ctime;
      if (overlay.createdType !== undefined) {
        created = true;
        break;
      }
    }
    const base = created ? 0n : (this.base?.readInode(ino)?.mtime ?? 0n);
    return { atime: atime ?? base, mtime: mtime ?? base, ctime: ctime ?? base };
  }

  /** Link count: the base count plus every level's changes (SPEC 3.7.1), never below 0. */
  nlink(ino: number, from = 0): number {
    let count = this.base?.readInode(ino)?.nlink ?? 0;
    for (const overlay of this.overlays(ino, from)) count += overlay.nlinkDelta;
    return Math.max(0, count);
  }

  /** Size: the base size (0 for inodes made in the chain), then each level from main up (SPEC 3.7). */
  size(ino: number, from = 0): number {
    let size = this.base?.readInode(ino)?.size ?? 0;
    for (let level = this.levels.length - 1; level >= from; level--) {
      const overlay = (this.levels[level] as LevelIndex).inodes.get(ino);
      if (!overlay) continue;
      if (overlay.createdType !== undefined)
        size = overlay.symlinkTarget === undefined ? 0 : nameByteLength(overlay.symlinkTarget);
      if (overlay.file) size = overlay.file.sizeOver(size);
    }
    return size;
  }

  symlinkTarget(ino: number, from = 0): string {
    for (const overlay of this.overlays(ino, from))
      if (overlay.symlinkTarget !== undefined) return overlay.symlinkTarget;
    return (this.base as BaseImage).readSymlink(ino);
  }

  /** Bytes [offset, offset + length) of regular file `ino`, which the caller clamped to its size. */
  read(ino: number, offset: number, length: number, from = 0): Uint8Array {
    const out = new Uint8Array(length);
    this.fill(ino, from, offset, offset + length, out, offset);
    return out;
  }

  /** Fills out[start - outStart, end - outStart) from `level` down; bytes nobody wrote stay zero. */
  private fill(
    ino: number,
    level: number,
    start: number,
    end: number,
    out: Uint8Array,
    outStart: number,
  ): void {
    if (start >= end) return;
    if (level >= this.levels.length) {
      const base = this.base?.readInode(ino);
      if (base && fileTypeOf(base.mode) === FileType.REGULAR && start < base.size) {
        out.set(
          (this.base as BaseImage).readFile(ino, start, Math.min(end, base.size) - start),
          start - outStart,
        );
      }
      return;
    }
    const overlay = (this.levels[level] as LevelIndex).inodes.get(ino);
    // Nothing below the level that created the inode speaks of it.
    const bottom = overlay?.createdType !== undefined;
    const file = overlay?.file;
    if (!file) {
      if (!bottom) this.fill(ino, level + 1, start, end, out, outStart);
      return;
    }
    const below = (from: number, to: number) => {
      if (!bottom) this.fill(ino, level + 1, from, Math.min(to, file.lowerLimit), out, outStart);
    };
    let pos = start;
    for (let i = file.firstEndingAfter(start); i < file.segments.length && pos < end; i++) {
      const segment = file.segments[i] as (typeof file.segments)[number];
      if (segment.start >= end) break;
      if (segment.start > pos) below(pos, segment.start);
      const from = Math.max(pos, segment.start);
      const to = Math.min(end, segment.end);
      out.set(this.source.read(segment.dataOffset + (from - segment.start), to - from), from - outStart);
      pos = to;
    }
    below(pos, end);
  }

  /** Applies one entry of level `level`'s log, as of that level (OVERVIEW 4 table). */
  apply(level: number, entry: DeltaEntry): void {
    const index = this.levels[level] as LevelIndex;
    checkEntryRules(
      entry,
      { typeOf: (ino) => this.typeOf(ino, level), baseInodes: this.base?.inodeCount ?? 0 },
      (problem) => {
        throw new CorruptImageError(
          `delta ${deltaTypeName(entry.type)} entry: ${problem.message}`,
          entry.offset,
        );
      },
    );
    const time = entry.timestamp;
    /** The entry changed `ino`'s contents (data or names): mtime and ctime. */
    const modified = (ino: number) => {
      const overlay = index.inode(ino);
      overlay.mtime = time;
      overlay.ctime = time;
    };
    /** The entry changed `ino`'s attributes or links: ctime. */
    const changed = (ino: number) => {
      index.inode(ino).ctime = time;
    };
    const fileLayer = (ino: number) => {
      const overlay = index.inode(ino);
      overlay.file ??= new FileLayer();
      return overlay.file;
    };

    switch (entry.type) {
      case DeltaType.WRITE:
        fileLayer(entry.ino).write(entry.fileOffset, entry.length, entry.dataOffset);
        modified(entry.ino);
        return;
      case DeltaType.TRUNCATE:
        fileLayer(entry.ino).truncate(entry.newSize);
        modified(entry.ino);
        return;
      case DeltaType.UTIMES: {
        const overlay = index.inode(entry.ino);
        if (entry.valid & UtimesValid.ATIME) overlay.atime = entry.atime;
        if (entry.valid & UtimesValid.MTIME) overlay.mtime = entry.mtime;
        overlay.ctime = time;
        return;
      }
      case DeltaType.LINK:
        this.removeName(level, entry.parentIno, entry.name, time);
        index.inode(entry.ino).nlinkDelta += 1;
        changed(entry.ino);
        index.setName(entry.parentIno, entry.name, entry.ino);
        modified(entry.parentIno);
        return;
      case DeltaType.SETATTR: {
        if (entry.valid & SetattrValid.SIZE) {
          fileLayer(entry.ino).truncate(entry.size);
          modified(entry.ino);
        }
        changed(entry.ino);
        const overlay = index.inode(entry.ino);
        if (entry.valid & SetattrValid.MODE) overlay.permissions = entry.mode & PERMISSION_BITS;
        if (entry.valid & SetattrValid.UID) overlay.uid = entry.uid;
        if (entry.valid & SetattrValid.GID) overlay.gid = entry.gid;
        return;
      }
      case DeltaType.CREATE:
      case DeltaType.MKDIR:
      case DeltaType.SYMLINK: {
        const wanted = createdFileType(entry) as number;
        const mode = entry.type === DeltaType.SYMLINK ? wanted | 0o777 : entry.mode;
        this.removeName(level, entry.parentIno, entry.name, time);
        const overlay = index.inode(entry.newIno);
        overlay.createdType = wanted;
        overlay.atime = time;
        overlay.mtime = time;
        overlay.ctime = time;
        overlay.permissions = mode & PERMISSION_BITS;
        overlay.uid = entry.uid;
        overlay.gid = entry.gid;
        overlay.nlinkDelta += wanted === FileType.DIR ? 2 : 1;
        if (entry.type === DeltaType.SYMLINK) overlay.symlinkTarget = entry.target;
        if (wanted === FileType.DIR) index.inode(entry.parentIno).nlinkDelta += 1;
        index.setName(entry.parentIno, entry.name, entry.newIno);
        modified(entry.parentIno);
        return;
      }
      case DeltaType.DELETE:
        // The name goes whatever it named now; the link accounting follows the inode that lost it.
        this.removeName(level, entry.parentIno, entry.name, time);
        modified(entry.parentIno);
        return;
      case DeltaType.RENAME:
        this.rename(level, entry);
        modified(entry.oldParentIno);
        modified(entry.newParentIno);
        changed(entry.renamedIno);
        return;
    }
  }

  /** Removes `name` from `dir` at `level`, unlinking the inode it named (SPEC 3.8.3). */
  private removeName(level: number, dir: number, name: string, time: bigint): void {
    const victim = this.lookup(dir, name, level);
    if (victim === undefined) return;
    this.unlinkInode(level, victim, dir, time);
    (this.levels[level] as LevelIndex).setName(dir, name, REMOVED);
  }

  private unlinkInode(level: number, ino: number, dir: number, time: bigint): void {
    const index = this.levels[level] as LevelIndex;
    index.inode(ino).ctime = time;
    if (this.typeOf(ino, level) === FileType.DIR) {
      index.inode(ino).nlinkDelta -= this.nlink(ino, level);
      index.inode(dir).nlinkDelta -= 1;
    } else {
      index.inode(ino).nlinkDelta -= 1;
    }
  }

  private rename(level: number, entry: Extract<DeltaEntry, { type: DeltaType.RENAME }>): void {
    const { oldParentIno: oldDir, newParentIno: newDir, oldName, newName, renamedIno: moved } = entry;
    const type = this.typeOf(moved, level) as number;
    if (oldDir === newDir && oldName === newName) return;
    const source = this.lookup(oldDir, oldName, level);
    const target = this.lookup(newDir, newName, level);
    if (source === moved && target === moved) return; // two names of one inode: POSIX rename does nothing
    const index = this.levels[level] as LevelIndex;
    if (source === moved) {
      index.setName(oldDir, oldName, REMOVED);
      if (target !== undefined) this.unlinkInode(level, target, newDir, entry.timestamp);
      index.setName(newDir, newName, moved);
      if (type === FileType.DIR && oldDir !== newDir) {
        index.inode(oldDir).nlinkDelta -= 1;
        index.inode(newDir).nlinkDelta += 1;
      }
      return;
    }
    // The old name no longer names the renamed inode (its parent changed it meanwhile): the old
    // name still goes and the new name still names the inode, newest entry winning.
    this.removeName(level, oldDir, oldName, entry.timestamp);
    if (target === moved) return;
    if (target !== undefined) this.unlinkInode(level, target, newDir, entry.timestamp);
    index.setName(newDir, newName, moved);
    if (type === FileType.DIR) index.inode(newDir).nlinkDelta += 1;
    else index.inode(moved).nlinkDelta += 1;
  }
}
