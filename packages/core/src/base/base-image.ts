// The read-only base tree (SPEC 1.6, OVERVIEW 2): base superblock, inode slots, flat dirent arrays,
// symlink targets and file data. Every read goes through `readRegion`, which keeps it inside the
// base region and reports violations as CorruptImageError with the absolute offset.
import {
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BLOCK_SIZE,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  type DaxfsBaseSuper,
  DaxfsDirent,
  FileType,
} from "@daxfs/format";
import { SYMLINK_TARGET_MAX } from "../delta/entry.js";
import { CorruptImageError, DaxfsError } from "../errors.js";
import { fileTypeOf } from "../file-type.js";
import type { ImageSource } from "../image-source.js";
import { decodeName, nameProblem } from "../names.js";
import { throwOnProblem } from "../problems.js";
import { type BaseInodeInfo, checkInodeSlot, readInodeSlot } from "./base-inode.js";
import { type BaseLayout, decodeBaseSuper } from "./base-super.js";
import type { PageCacheReader } from "./page-cache.js";

/** One directory entry as a reader sees it. `mode` is the child's full st_mode. */
export interface DirEntry {
  name: string;
  ino: number;
  mode: number;
}

export type { BaseInodeInfo } from "./base-inode.js";

export class BaseImage {
  readonly superblock: DaxfsBaseSuper;
  readonly inodeCount: number;
  readonly rootIno: number;
  /** Split mode (SPEC 2.9): regular-file data lives in a backing file. */
  readonly externalData: boolean;
  private readonly inodeOffset: number;
  private readonly inodes = new Map<number, BaseInodeInfo | null>();
  private readonly directories = new Map<number, Map<string, DirEntry>>();

  /**
   * Opens the base image occupying `[baseOffset, baseOffset + baseSize)` of `source`. `backing`
   * is the backing file of a split image; without it, regular-file data of a split image is read
   * from `pageCache` where cached, and fails with EIO where not (metadata always reads).
   */
  constructor(
    readonly source: ImageSource,
    readonly baseOffset: number,
    readonly baseSize: number,
    readonly backing?: ImageSource,
    readonly pageCache?: PageCacheReader,
  ) {
    if (
      !Number.isSafeInteger(baseOffset) ||
      !Number.isSafeInteger(baseSize) ||
      baseOffset < 0 ||
      baseOffset + baseSize > source.size
    ) {
      throw new CorruptImageError(
        `base image: region of ${baseSize} bytes runs past the image end ${source.size}`,
        baseOffset,
      );
    }
    const layout = decodeBaseSuper(
      source,
      { offset: baseOffset, size: baseSize },
      throwOnProblem(source.name),
    ) as BaseLayout;
    this.superblock = layout.superblock;
    this.inodeCount = layout.inodeCount;
    this.rootIno = layout.superblock.rootInode;
    this.externalData = layout.externalData;
    this.inodeOffset = layout.inodeOffset;
    const root = this.readInode(this.rootIno);
    if (!root || fileTypeOf(root.mode) !== FileType.DIR) {
      throw new CorruptImageError(
        `base image: root inode ${this.rootIno} is not a directory`,
        this.inodeAbsoluteOffset(this.rootIno),
      );
    }
  }

  /** The one bounds check of every base read: `length` bytes at base-relative `offset`. */
  private readRegion(offset: number, length: number, what: string): Uint8Array {
    if (
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > this.baseSize
    ) {
      throw new CorruptImageError(
        `${what}: ${length} bytes at base offset ${offset} run past the ${this.baseSize}-byte base image`,
        this.baseOffset + (Number.isSafeInteger(offset) ? offset : 0),
      );
    }
    return this.source.read(this.baseOffset + offset, length);
  }

  private inodeAbsoluteOffset(ino: number): number {
    return this.baseOffset + this.inodeOffset + (ino - 1) * DAXFS_BASE_INODE_SIZE;
  }

  /** The inode in slot `ino - 1`, or null for a number outside the table or an unused (zero) slot. */
  readInode(ino: number): BaseInodeInfo | null {
    if (!Number.isInteger(ino) || ino < 1 || ino > this.inodeCount) return null;
    const cached = this.inodes.get(ino);
    if (cached !== undefined) return cached;
    const at = this.inodeAbsoluteOffset(ino);
    const bytes = this.readRegion(at - this.baseOffset, DAXFS_BASE_INODE_SIZE, `base inode ${ino}`);
    const slot = readInodeSlot(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
    const usable = checkInodeSlot(slot, ino, at, throwOnProblem(this.source.name));
    const info: BaseInodeInfo | null = usable ? slot : null;
    this.inodes.set(ino, info);
    return info;
  }

  private requireInode(ino: number, type: number, errno: "ENOTDIR" | "EINVAL", what: string): BaseInodeInfo {
    const info = this.readInode(ino);
    if (!info) throw new DaxfsError("ENOENT", `base inode ${ino} does not exist`);
    if (fileTypeOf(info.mode) !== type) throw new DaxfsError(errno, `base inode ${ino} is not a ${what}`);
    return info;
  }

  /** Entries of directory `ino` (flat array, stride 272, count = size / 271; NOTES.md item 1). */
  readDirents(ino: number): DirEntry[] {
    return [...this.directory(ino).values()];
  }

  /** The entry `name` of directory `ino`, if any. */
  lookup(ino: number, name: string): DirEntry | undefined {
    return this.directory(ino).get(name);
  }

  private directory(ino: number): Map<string, DirEntry> {
    const cached = this.directories.get(ino);
    if (cached) return cached;
    const dir = this.requireInode(ino, FileType.DIR, "ENOTDIR", "directory");
    const at = this.inodeAbsoluteOffset(ino);
    if (dir.size % DAXFS_DIRENT_SIZE !== 0) {
      throw new CorruptImageError(
        `base directory ${ino}: size ${dir.size} is not a multiple of ${DAXFS_DIRENT_SIZE}`,
        at,
      );
    }
    const count = dir.size / DAXFS_DIRENT_SIZE;
    const entries = new Map<string, DirEntry>();
    const array =
      count === 0
        ? new Uint8Array(0)
        : this.readRegion(dir.dataOffset, count * DAXFS_DIRENT_STRIDE, `base directory ${ino}`);
    for (let i = 0; i < count; i++) {
      const direntAt = this.baseOffset + dir.dataOffset + i * DAXFS_DIRENT_STRIDE;
      const dirent = DaxfsDirent.decode(array, i * DAXFS_DIRENT_STRIDE);
      const problem = nameProblem(dirent.name, 0, dirent.nameLen);
      const nameBytes = dirent.name.subarray(0, dirent.nameLen);
      if (problem) throw new CorruptImageError(`base directory ${ino}: entry ${i} name ${problem}`, direntAt);
      if (dirent.ino < 1 || dirent.ino > this.inodeCount) {
        throw new CorruptImageError(
          `base directory ${ino}: entry ${i} names inode ${dirent.ino}, outside 1..${this.inodeCount}`,
          direntAt,
        );
      }
      const name = decodeName(nameBytes);
      if (entries.has(name))
        throw new CorruptImageError(
          `base directory ${ino}: duplicate name ${JSON.stringify(name)}`,
          direntAt,
        );
      entries.set(name, { name, ino: dirent.ino, mode: dirent.mode });
    }
    this.directories.set(ino, entries);
    return entries;
  }

  /** Target of symlink `ino`: `size` bytes at data_offset followed by a NUL (SPEC 1.6.4). */
  readSymlink(ino: number): string {
    const link = this.requireInode(ino, FileType.SYMLINK, "EINVAL", "symlink");
    const at = this.inodeAbsoluteOffset(ino);
    if (link.size < 1 || link.size > SYMLINK_TARGET_MAX) {
      throw new CorruptImageError(
        `base symlink ${ino}: target length ${link.size} is outside 1..${SYMLINK_TARGET_MAX}`,
        at,
      );
    }
    const bytes = this.readRegion(link.dataOffset, link.size + 1, `base symlink ${ino}`);
    if (bytes[link.size] !== 0 || bytes.subarray(0, link.size).includes(0)) {
      throw new CorruptImageError(
        `base symlink ${ino}: target is not NUL-terminated`,
        this.baseOffset + link.dataOffset,
      );
    }
    return decodeName(bytes.subarray(0, link.size));
  }

  /**
   * Up to `length` bytes of regular file `ino` from `offset` (fewer at the end of the file). In a
   * split image the data comes from the backing file.
   */
  readFile(ino: number, offset: number, length: number): Uint8Array {
    const file = this.requireInode(ino, FileType.REGULAR, "EINVAL", "regular file");
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new DaxfsError("EINVAL", `read of base inode ${ino}: invalid range ${offset}+${length}`);
    }
    const end = Math.min(file.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    if (this.externalData) {
      if (!this.backing) return this.readCachedPages(ino, file.dataOffset, offset, end);
      if (file.dataOffset + file.size > this.backing.size) {
        throw new CorruptImageError(
          `base inode ${ino}: ${file.size} bytes at backing offset ${file.dataOffset} run past the backing file ${this.backing.name} (${this.backing.size} bytes)`,
          this.inodeAbsoluteOffset(ino),
        );
      }
      return this.backing.read(file.dataOffset + offset, end - offset);
    }
    if (file.dataOffset + file.size > this.baseSize) {
      throw new CorruptImageError(
        `base inode ${ino}: ${file.size} data bytes at base offset ${file.dataOffset} run past the base image`,
        this.inodeAbsoluteOffset(ino),
      );
    }
    return this.readRegion(file.dataOffset + offset, end - offset, `base inode ${ino} data`);
  }

  /** File bytes [offset, end) of a split image from the page cache (SPEC 1.7), page by page. */
  private readCachedPages(ino: number, dataOffset: number, offset: number, end: number): Uint8Array {
    const out = new Uint8Array(end - offset);
    for (let pos = offset; pos < end; ) {
      const backingOffset = dataOffset + pos;
      const page = Math.floor(backingOffset / DAXFS_BLOCK_SIZE);
      const bytes = this.pageCache?.readPage(page);
      if (!bytes) {
        throw new DaxfsError(
          "EIO",
          `base inode ${ino}: backing page ${page} is not in the page cache and no backing file was given`,
        );
      }
      const within = backingOffset - page * DAXFS_BLOCK_SIZE;
      const count = Math.min(end - pos, DAXFS_BLOCK_SIZE - within);
      out.set(bytes.subarray(within, within + count), pos - offset);
      pos += count;
    }
    return out;
  }
}
