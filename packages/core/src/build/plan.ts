// Layout of a new image (SPEC 2.2-2.9 with NOTES.md 1-6): inode numbers, data offsets and region
// offsets, computed before a single byte is written so that every writer (memory, file, mapped
// dma-buf) emits the same bytes in one ascending pass.
import {
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BLOCK_SIZE,
  DAXFS_BRANCH_TABLE_OFFSET,
  DAXFS_BRANCHING_BASE_OFFSET,
  DAXFS_DEFAULT_DELTA_SIZE,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DAXFS_MAX_BRANCHES,
  DAXFS_NAME_MAX,
  DAXFS_PUBLIC_LOG_CAPACITY,
  DAXFS_STATIC_BASE_OFFSET,
  DaxfsBranch,
  DaxfsPcacheSlot,
} from "@daxfs/format";
import type { BaseInodeInfo } from "../base/base-image.js";
import { DaxfsError } from "../errors.js";
import { NO_OWNER } from "../file-type.js";
import { encodeName, hasEscapedBytes, nameProblem, nameTextProblem, showName } from "../names.js";
import { type BuildDir, type BuildNode, type FileContent, isHostContent, storedMode } from "./tree.js";

export interface BuildOptions {
  /** Branch table + delta region + the main branch record (SPEC 2.7; our mkdaxfs writes main). */
  branching?: boolean;
  /** Delta region bytes (default 64 MiB); must hold main's 1 MiB log. */
  deltaSize?: number;
  /** Upper bound for the image (-s); a bigger layout fails with ENOSPC. */
  size?: number;
  /** Split mode (SPEC 2.9): file data in a backing file, a page cache in the image. Implies branching. */
  split?: { pcacheSlots?: number };
  /**
   * Refuse (EILSEQ) names and symlink targets whose bytes are not valid UTF-8 instead of storing
   * their bytes as they are (names.ts). mkdaxfs sets it unless --byte-names (docs/mkdaxfs.md).
   */
  utf8Names?: boolean;
}

export type ImageMode = "static" | "branching" | "split";

export interface PlannedDirent {
  name: Uint8Array;
  ino: number;
  mode: number;
}

/** An inode slot as it will be written (the fields a reader gets back), plus what the writers need. */
export interface PlannedInode extends BaseInodeInfo {
  node: BuildNode;
  /** First path naming it ("/" for root), for messages. */
  path: string;
  /** Directory entries, sorted by name bytes. */
  entries?: PlannedDirent[];
  /** Symlink target bytes (without the NUL). */
  target?: Uint8Array;
}

export interface Region {
  name: string;
  offset: number;
  size: number;
}

export interface PcachePlan {
  offset: number;
  size: number;
  slotCount: number;
  hashShift: number;
  slotMetaOffset: number;
  slotDataOffset: number;
  /** Backing pages copied into slots at build time (slot p holds page p, SPEC 2.9 pre-warm). */
  prewarmedPages: number;
}

export interface ImagePlan {
  mode: ImageMode;
  /** In inode order: inodes[i].ino === i + 1. */
  inodes: PlannedInode[];
  /** Directory entries in the tree including the root (the public "Found N files"). */
  nameCount: number;
  totalSize: number;
  baseOffset: number;
  baseSize: number;
  /** Base-relative start of the data area. */
  dataAreaOffset: number;
  branchTableOffset: number;
  deltaRegionOffset: number;
  deltaRegionSize: number;
  /** The main branch record written at build time (branching and split images). */
  mainLog: { offset: number; capacity: number } | null;
  pcache: PcachePlan | null;
  /** Bytes of the backing file in split mode, else 0. */
  backingSize: number;
  regions: Region[];
}

export const align = (value: number, to = DAXFS_BLOCK_SIZE): number => Math.ceil(value / to) * to;

const PCACHE_MIN_SLOTS = 16;

/** A directory entry name's bytes (names.ts), checked by the one name rule (nameProblem). */
export function encodeEntryName(name: string, parentPath: string): Uint8Array {
  const where = () => showName(joinPath(parentPath, name));
  // A string that is no decodeName result would stand for bytes another name also stands for.
  const textProblem = nameTextProblem(name);
  if (textProblem) throw new DaxfsError("EINVAL", `${where()}: name ${textProblem}`);
  const bytes = encodeName(name);
  const problem = nameProblem(bytes);
  if (problem === undefined) return bytes;
  if (bytes.length > DAXFS_NAME_MAX) {
    throw new DaxfsError(
      "ENAMETOOLONG",
      `${where()}: name is ${bytes.length} bytes, the limit is ${DAXFS_NAME_MAX}`,
    );
  }
  throw new DaxfsError("EINVAL", `${where()}: invalid name ${JSON.stringify(name)} (it ${problem})`);
}

export function joinPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

function checkId(value: number, what: string, path: string): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new DaxfsError("EINVAL", `${path}: ${what} ${value} is not a u32`);
}

/** (uid_t)-1 is no owner (NOTES.md "Validity"): the validator and the kernel refuse such an inode. */
function checkOwner(value: number, what: "uid" | "gid", path: string): void {
  checkId(value, what, path);
  if (value === NO_OWNER)
    throw new DaxfsError("EINVAL", `${path}: ${what} ${NO_OWNER} ((${what}_t)-1) is not a valid owner`);
}

/** A name waiting to be numbered: its dirent (filled in when the node is) and its parent. */
interface PendingName {
  node: BuildNode;
  path: string;
  parent: PlannedInode | null;
  dirent: PlannedDirent | null;
}

/** Numbers the tree (sorted pre-order, root 1) and collects names, link counts and entries. */
function numberTree(root: BuildDir, utf8Names: boolean): { inodes: PlannedInode[]; nameCount: number } {
  const inoOf = new Map<BuildNode, PlannedInode>();
  const inodes: PlannedInode[] = [];
  let nameCount = 0;
  // Iterative so that a deep tree cannot exhaust the JS stack; popping in reverse-sorted push
  // order visits exactly the recursive pre-order. Each name's dirent is filled when its node is
  // numbered (or found numbered: a hard link), so no second pass looks nodes up again.
  const stack: PendingName[] = [{ node: root, path: "/", parent: null, dirent: null }];
  while (stack.length > 0) {
    const { node, path, parent, dirent } = stack.pop() as PendingName;
    nameCount++;
    let planned = inoOf.get(node);
    if (planned) {
      if (node.kind === "dir")
        throw new DaxfsError("EINVAL", `${path}: directory ${planned.path} appears under a second name`);
      planned.nlink++;
    } else {
      planned = numberNode(node, path, inodes.length + 1, utf8Names);
      inodes.push(planned);
      inoOf.set(node, planned);
    }
    if (dirent) {
      dirent.ino = planned.ino;
      dirent.mode = planned.mode;
      if (node.kind === "dir") (parent as PlannedInode).nlink++;
    }
    if (node.kind !== "dir" || planned.entries) continue;
    const children: Array<{ name: Uint8Array; text: string; node: BuildNode }> = [];
    for (const [text, child] of node.children) {
      if (utf8Names) refuseEscapedBytes(text, path, "name");
      children.push({ name: asciiEntryName(text) ?? encodeEntryName(text, path), text, node: child });
    }
    children.sort(compareNameBytes);
    const entries: PlannedDirent[] = [];
    for (const child of children) entries.push({ name: child.name, ino: 0, mode: 0 });
    planned.entries = entries;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i] as (typeof children)[number];
      stack.push({
        node: child.node,
        path: joinPath(path, child.text),
        parent: planned,
        dirent: entries[i] as PlannedDirent,
      });
    }
  }
  return { inodes, nameCount };
}

/** The inode slot of a node seen for the first time, its fields checked. */
function numberNode(node: BuildNode, path: string, ino: number, utf8Names: boolean): PlannedInode {
  checkOwner(node.uid, "uid", path);
  checkOwner(node.gid, "gid", path);
  checkId(node.mode, "mode", path);
  if (ino > 0xffffffff) throw new DaxfsError("ENOSPC", `${path}: more than 2^32-1 inodes`);
  if (node.kind === "file") checkFile(node.size, node.content, path);
  let target: Uint8Array | undefined;
  if (node.kind === "symlink") {
    if (utf8Names) refuseEscapedBytes(node.target, path, "symlink target");
    target = encodeTarget(node.target, path);
  }
  // Every field present from the start: one object shape for all inodes keeps the layout and
  // encode loops monomorphic.
  return {
    ino,
    node,
    path,
    mode: storedMode(node),
    uid: node.uid,
    gid: node.gid,
    size: 0,
    dataOffset: 0,
    nlink: node.kind === "dir" ? 2 : 1,
    mtime: node.mtime ?? 0n,
    entries: undefined,
    target,
  };
}

/**
 * The bytes of a plain ASCII name that is valid as it is (the common case), checked in one pass; null
 * for anything else, which then takes encodeEntryName's full checks and messages.
 */
function asciiEntryName(name: string): Uint8Array | null {
  const length = name.length;
  if (length === 0 || length > DAXFS_NAME_MAX || name === "." || name === "..") return null;
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x80 || unit === 0x2f || unit === 0) return null;
    bytes[i] = unit;
  }
  return bytes;
}

/**
 * With `utf8Names`: refuses `text` (a name in the directory `parent`, or a symlink target of the
 * inode at `parent`) if it stands for bytes that are not valid UTF-8. The path is built only then.
 */
function refuseEscapedBytes(text: string, parent: string, what: "name" | "symlink target"): void {
  if (!hasEscapedBytes(text)) return;
  const path = what === "name" ? joinPath(parent, text) : parent;
  throw new DaxfsError("EILSEQ", `${showName(path)}: ${what} is not valid UTF-8`);
}

/** memcmp order of entry names (SPEC 2.4), as Buffer.compare gives it, without its per-call checks. */
function compareNameBytes(a: { name: Uint8Array }, b: { name: Uint8Array }): number {
  const x = a.name;
  const y = b.name;
  const length = Math.min(x.length, y.length);
  for (let i = 0; i < length; i++) {
    const difference = (x[i] as number) - (y[i] as number);
    if (difference !== 0) return difference;
  }
  return x.length - y.length;
}

function checkFile(size: number, content: FileContent, path: string): void {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new DaxfsError("EINVAL", `${path}: invalid file size ${size}`);
  if (content instanceof Uint8Array && content.length !== size) {
    throw new DaxfsError("EINVAL", `${path}: content is ${content.length} bytes but size says ${size}`);
  }
  if (!(content instanceof Uint8Array) && typeof content !== "function" && !isHostContent(content)) {
    throw new DaxfsError("EINVAL", `${path}: no content source`);
  }
}

/** Symlink targets are 1..4095 bytes without NUL (PATH_MAX with the stored terminator). */
function encodeTarget(target: string, path: string): Uint8Array {
  const textProblem = nameTextProblem(target);
  if (textProblem) throw new DaxfsError("EINVAL", `${showName(path)}: symlink target ${textProblem}`);
  const bytes = encodeName(target);
  if (bytes.length === 0 || bytes.length >= 4096 || bytes.includes(0)) {
    throw new DaxfsError("EINVAL", `${showName(path)}: invalid symlink target (${bytes.length} bytes)`);
  }
  return bytes;
}

/** Slot count for split mode (SPEC 2.9): -C if given (a power of two), else from the backing pages. */
export function pcacheSlotCount(requested: number | undefined, backingSize: number): number {
  if (requested !== undefined && requested !== 0) {
    if (
      !Number.isInteger(requested) ||
      requested < 1 ||
      (requested & (requested - 1)) !== 0 ||
      requested > 2 ** 30
    ) {
      throw new DaxfsError("EINVAL", "--pcache-slots must be a power of 2");
    }
    return requested;
  }
  const pages = Math.ceil(backingSize / DAXFS_BLOCK_SIZE);
  let slots = 1;
  while (slots * 2 <= pages) slots *= 2;
  return Math.max(slots, PCACHE_MIN_SLOTS);
}

/** Lays out `root` as an image; throws DaxfsError naming the path for every invalid input. */
export function planImage(root: BuildDir, options: BuildOptions = {}): ImagePlan {
  if (root.kind !== "dir") throw new DaxfsError("ENOTDIR", "the root of an image must be a directory");
  const mode: ImageMode = options.split ? "split" : options.branching ? "branching" : "static";
  const { inodes, nameCount } = numberTree(root, options.utf8Names === true);

  // SPEC 2.6 / NOTES.md 5: data area after the inode table; every item block-aligned; directory
  // arrays sized by the 272-byte stride (NOTES.md 1), not the public builder's 271.
  const dataAreaOffset = align(DAXFS_BLOCK_SIZE + inodes.length * DAXFS_BASE_INODE_SIZE);
  let cursor = dataAreaOffset;
  let backingCursor = 0;
  for (const inode of inodes) {
    const node = inode.node;
    if (node.kind === "file") {
      inode.size = node.size;
      if (mode === "split") {
        inode.dataOffset = backingCursor;
        backingCursor += align(node.size);
      } else {
        inode.dataOffset = cursor;
        cursor += align(node.size);
      }
    } else if (node.kind === "symlink") {
      const target = inode.target as Uint8Array;
      inode.size = target.length;
      inode.dataOffset = cursor;
      cursor += align(target.length + 1);
    } else {
      const count = inode.entries?.length ?? 0;
      inode.size = count * DAXFS_DIRENT_SIZE;
      if (count > 0) {
        inode.dataOffset = cursor;
        cursor += align(count * DAXFS_DIRENT_STRIDE);
      }
    }
  }
  const baseSize = cursor;

  const regions: Region[] = [{ name: "superblock", offset: 0, size: DAXFS_BLOCK_SIZE }];
  let baseOffset = DAXFS_STATIC_BASE_OFFSET;
  let branchTableOffset = 0;
  let deltaRegionOffset = 0;
  let deltaRegionSize = 0;
  let mainLog: ImagePlan["mainLog"] = null;
  let pcache: PcachePlan | null = null;
  let totalSize: number;
  if (mode === "static") {
    totalSize = baseOffset + baseSize;
    regions.push({ name: "base image", offset: baseOffset, size: baseSize });
  } else {
    baseOffset = DAXFS_BRANCHING_BASE_OFFSET;
    branchTableOffset = DAXFS_BRANCH_TABLE_OFFSET;
    regions.push({
      name: "branch table",
      offset: branchTableOffset,
      size: DAXFS_MAX_BRANCHES * DaxfsBranch.size,
    });
    regions.push({ name: "base image", offset: baseOffset, size: baseSize });
    let next = align(baseOffset + baseSize);
    if (mode === "split") {
      const slotCount = pcacheSlotCount(options.split?.pcacheSlots, backingCursor);
      const slotMetaOffset = DAXFS_BLOCK_SIZE;
      const slotDataOffset = DAXFS_BLOCK_SIZE + align(slotCount * DaxfsPcacheSlot.size);
      const size = slotDataOffset + slotCount * DAXFS_BLOCK_SIZE;
      const pages = Math.ceil(backingCursor / DAXFS_BLOCK_SIZE);
      pcache = {
        offset: next,
        size,
        slotCount,
        hashShift: Math.log2(slotCount),
        slotMetaOffset,
        slotDataOffset,
        prewarmedPages: Math.min(pages, slotCount),
      };
      regions.push({ name: "page cache", offset: next, size });
      next = align(next + size);
    }
    deltaRegionOffset = next;
    deltaRegionSize = options.deltaSize ?? DAXFS_DEFAULT_DELTA_SIZE;
    if (!Number.isSafeInteger(deltaRegionSize) || deltaRegionSize < DAXFS_PUBLIC_LOG_CAPACITY) {
      throw new DaxfsError(
        "EINVAL",
        `delta region size ${deltaRegionSize} cannot hold the main branch's ${DAXFS_PUBLIC_LOG_CAPACITY}-byte log`,
      );
    }
    mainLog = { offset: deltaRegionOffset, capacity: DAXFS_PUBLIC_LOG_CAPACITY };
    regions.push({ name: "delta region", offset: deltaRegionOffset, size: deltaRegionSize });
    totalSize = deltaRegionOffset + deltaRegionSize;
  }
  if (options.size !== undefined && totalSize > options.size) {
    throw new DaxfsError("ENOSPC", `image size ${totalSize} exceeds requested size ${options.size}`);
  }
  return {
    mode,
    inodes,
    nameCount,
    totalSize,
    baseOffset,
    baseSize,
    dataAreaOffset,
    branchTableOffset,
    deltaRegionOffset,
    deltaRegionSize,
    mainLog,
    pcache,
    backingSize: backingCursor,
    regions,
  };
}
