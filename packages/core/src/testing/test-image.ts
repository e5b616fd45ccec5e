// A tiny image builder for tests, written straight from the layout (SPEC 1.2-1.6, 2.5-2.9) with
// the generated codecs, independent of the real builder's layout code (it shares only the tree
// types, storedMode and align) so each can check the other, and able to make what the real
// builder refuses: zero inode slots, small logs, no main branch, extra branches and live logs.
// Not part of the library's public API: tests import it from @daxfs/core/testing (a source-only
// subpath, src/testing/index.ts). Trees are the builder's own (testing/tree.ts).
import {
  BaseFlags,
  BranchState,
  DAXFS_BASE_MAGIC,
  DAXFS_BLOCK_SIZE,
  DAXFS_BRANCH_TABLE_OFFSET,
  DAXFS_BRANCHING_BASE_OFFSET,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DAXFS_MAX_BRANCHES,
  DAXFS_PCACHE_MAGIC,
  DAXFS_PCACHE_VERSION,
  DAXFS_STATIC_BASE_OFFSET,
  DAXFS_SUPER_MAGIC,
  DAXFS_VERSION,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDirent,
  DaxfsPcacheHeader,
  DaxfsPcacheSlot,
  DaxfsSuper,
  DeltaType,
  PcacheState,
} from "@daxfs/format";
import { align } from "../build/plan.js";
import { type BuildDir, type BuildNode, storedMode } from "../build/tree.js";
import { encodeDeltaEntry, type NewDeltaEntry } from "../delta/entry.js";
import { compareNames, encodeName } from "../names.js";

export interface TestImageOptions {
  /** Branch table and delta region (default true). */
  branching?: boolean;
  /** Delta region bytes (default 4 MiB). */
  deltaSize?: number;
  /** Write main's record at build time (default true when branching). */
  main?: boolean;
  /** Log capacity of main and of branches added later (default 256 KiB). */
  logCapacity?: number;
  /** All-zero inode slots left at the end of the table, as the public mkdaxfs does for hard links. */
  zeroSlots?: number;
  /** Split mode: regular-file data goes to `backing` (SPEC 2.9). */
  split?: boolean;
  /** Split mode: a page-cache region of this many slots, pre-warmed first page wins (SPEC 2.9). */
  pageCacheSlots?: number;
}

export interface TestImage {
  bytes: Uint8Array;
  /** The backing file of a split image. */
  backing?: Uint8Array;
  /** Path ("/", "/a/b") to inode number. */
  inodes: Map<string, number>;
  /** The first inode number free for delta-created objects. */
  nextInodeId: number;
}

const encoder = new TextEncoder();

interface Slot {
  node: BuildNode;
  ino: number;
  names: number;
  dataOffset: number;
  size: number;
  children: [string, BuildNode][];
}

/** A file's bytes; test trees hold them in memory. */
function contentOf(node: BuildNode & { kind: "file" }): Uint8Array {
  if (!(node.content instanceof Uint8Array)) throw new Error("test image: file content must be a Uint8Array");
  return node.content;
}

/** A branch name as the 32-byte NUL-padded field of the branch record (SPEC 1.4). */
export function branchNameField(name: string): Uint8Array {
  const field = new Uint8Array(32);
  field.set(encoder.encode(name));
  return field;
}

export function buildTestImage(root: BuildDir, options: TestImageOptions = {}): TestImage {
  const branching = options.branching ?? true;
  const logCapacity = options.logCapacity ?? 256 * 1024;
  const deltaSize = options.deltaSize ?? 4 * 1024 * 1024;
  const slots = new Map<BuildNode, Slot>();
  const order: Slot[] = [];
  const inodes = new Map<string, number>();
  // Pre-order, names sorted; a node seen again is a hard link.
  const pending: [string, BuildNode][] = [["/", root]];
  while (pending.length > 0) {
    const [path, node] = pending.pop() as [string, BuildNode];
    let slot = slots.get(node);
    if (!slot) {
      const children = node.kind === "dir" ? [...node.children].sort(([a], [b]) => compareNames(a, b)) : [];
      slot = { node, ino: order.length + 1, names: 0, dataOffset: 0, size: 0, children };
      slots.set(node, slot);
      order.push(slot);
      for (const [name, child] of [...children].reverse())
        pending.push([`${path === "/" ? "" : path}/${name}`, child]);
    }
    slot.names++;
    inodes.set(path, slot.ino);
  }
  const inodeCount = order.length + (options.zeroSlots ?? 0);
  const dataStart = align(DAXFS_BLOCK_SIZE + inodeCount * DaxfsBaseInode.size);
  let cursor = dataStart;
  let backingCursor = 0;
  for (const slot of order) {
    const { node } = slot;
    if (node.kind === "file") {
      slot.size = contentOf(node).length;
      if (options.split) {
        slot.dataOffset = backingCursor;
        backingCursor += align(slot.size);
      } else {
        slot.dataOffset = cursor;
        cursor += align(slot.size);
      }
    } else if (node.kind === "symlink") {
      slot.size = encodeName(node.target).length;
      slot.dataOffset = cursor;
      cursor += align(slot.size + 1);
    } else if (slot.children.length > 0) {
      slot.size = slot.children.length * DAXFS_DIRENT_SIZE;
      slot.dataOffset = cursor;
      cursor += align(slot.children.length * DAXFS_DIRENT_STRIDE);
    }
  }
  const baseSize = cursor;
  const baseOffset = branching ? DAXFS_BRANCHING_BASE_OFFSET : DAXFS_STATIC_BASE_OFFSET;
  const cacheSlots = options.split ? (options.pageCacheSlots ?? 0) : 0;
  const pcacheOffset = cacheSlots > 0 ? align(baseOffset + baseSize) : 0;
  const pcacheSize =
    cacheSlots > 0
      ? DAXFS_BLOCK_SIZE + align(cacheSlots * DaxfsPcacheSlot.size) + cacheSlots * DAXFS_BLOCK_SIZE
      : 0;
  const deltaOffset = branching
    ? align(pcacheOffset === 0 ? baseOffset + baseSize : pcacheOffset + pcacheSize)
    : 0;
  const totalSize = branching ? deltaOffset + deltaSize : baseOffset + baseSize;
  const bytes = new Uint8Array(totalSize);
  const backing = options.split ? new Uint8Array(backingCursor) : undefined;

  const writeMain = branching && (options.main ?? true);
  DaxfsSuper.encode(bytes, 0, {
    ...DaxfsSuper.zero(),
    magic: DAXFS_SUPER_MAGIC,
    version: DAXFS_VERSION,
    blockSize: DAXFS_BLOCK_SIZE,
    totalSize: BigInt(totalSize),
    baseOffset: BigInt(baseOffset),
    baseSize: BigInt(baseSize),
    branchTableOffset: BigInt(branching ? DAXFS_BRANCH_TABLE_OFFSET : 0),
    branchTableEntries: branching ? DAXFS_MAX_BRANCHES : 0,
    nextBranchId: BigInt(branching ? 1 : 0),
    nextInodeId: BigInt(inodeCount + 1),
    deltaRegionOffset: BigInt(deltaOffset),
    deltaRegionSize: BigInt(branching ? deltaSize : 0),
    deltaAllocOffset: BigInt(deltaOffset),
    pcacheOffset: BigInt(pcacheOffset),
    pcacheSize: BigInt(pcacheSize),
    pcacheSlotCount: cacheSlots,
    pcacheHashShift: Math.log2(cacheSlots || 1),
  });
  DaxfsBaseSuper.encode(bytes, baseOffset, {
    ...DaxfsBaseSuper.zero(),
    magic: DAXFS_BASE_MAGIC,
    version: DAXFS_VERSION,
    flags: options.split ? BaseFlags.EXTERNAL_DATA : 0,
    blockSize: DAXFS_BLOCK_SIZE,
    totalSize: BigInt(baseSize),
    inodeOffset: BigInt(DAXFS_BLOCK_SIZE),
    inodeCount,
    rootInode: 1,
    dataOffset: BigInt(dataStart),
  });
  for (const slot of order) {
    const { node } = slot;
    const subdirs = slot.children.filter(([, child]) => child.kind === "dir").length;
    DaxfsBaseInode.encode(bytes, baseOffset + DAXFS_BLOCK_SIZE + (slot.ino - 1) * DaxfsBaseInode.size, {
      ...DaxfsBaseInode.zero(),
      ino: slot.ino,
      mode: storedMode(node),
      uid: node.uid,
      gid: node.gid,
      size: BigInt(slot.size),
      dataOffset: BigInt(slot.dataOffset),
      nlink: node.kind === "dir" ? 2 + subdirs : slot.names,
    });
    if (node.kind === "file")
      (backing ?? bytes).set(contentOf(node), (backing ? 0 : baseOffset) + slot.dataOffset);
    if (node.kind === "symlink") bytes.set(encodeName(node.target), baseOffset + slot.dataOffset);
    slot.children.forEach(([name, child], i) => {
      const nameBytes = new Uint8Array(255);
      nameBytes.set(encodeName(name));
      const childSlot = slots.get(child) as Slot;
      DaxfsDirent.encode(bytes, baseOffset + slot.dataOffset + i * DAXFS_DIRENT_STRIDE, {
        ...DaxfsDirent.zero(),
        ino: childSlot.ino,
        mode: storedMode(child),
        nameLen: encodeName(name).length,
        name: nameBytes,
      });
    });
  }
  if (backing && cacheSlots > 0) writePageCache(bytes, backing, pcacheOffset, cacheSlots);
  const image: TestImage = { bytes, inodes, nextInodeId: inodeCount + 1, ...(backing ? { backing } : {}) };
  if (writeMain) addTestBranch(bytes, { name: "main", capacity: logCapacity });
  return image;
}

function writePageCache(bytes: Uint8Array, backing: Uint8Array, offset: number, slots: number): void {
  const metaOffset = DAXFS_BLOCK_SIZE;
  const dataOffset = DAXFS_BLOCK_SIZE + align(slots * DaxfsPcacheSlot.size);
  DaxfsPcacheHeader.encode(bytes, offset, {
    ...DaxfsPcacheHeader.zero(),
    magic: DAXFS_PCACHE_MAGIC,
    version: DAXFS_PCACHE_VERSION,
    slotCount: slots,
    hashShift: Math.log2(slots),
    slotMetaOffset: BigInt(metaOffset),
    slotDataOffset: BigInt(dataOffset),
  });
  for (let page = 0; page * DAXFS_BLOCK_SIZE < backing.length; page++) {
    const slot = page % slots;
    const metaAt = offset + metaOffset + slot * DaxfsPcacheSlot.size;
    if (DaxfsPcacheSlot.decode(bytes, metaAt).stateTag !== 0n) continue;
    bytes.set(
      backing.subarray(page * DAXFS_BLOCK_SIZE, (page + 1) * DAXFS_BLOCK_SIZE),
      offset + dataOffset + slot * DAXFS_BLOCK_SIZE,
    );
    DaxfsPcacheSlot.encode(bytes, metaAt, {
      stateTag: (BigInt(page) << 2n) | BigInt(PcacheState.VALID),
      refBit: 1,
      reserved: 0,
    });
  }
}

function readSuper(bytes: Uint8Array) {
  return DaxfsSuper.decode(bytes, 0);
}

function findSlot(bytes: Uint8Array, name: string): { slot: number; record: DaxfsBranch } {
  const sb = readSuper(bytes);
  for (let slot = 0; slot < sb.branchTableEntries; slot++) {
    const record = DaxfsBranch.decode(bytes, Number(sb.branchTableOffset) + slot * DaxfsBranch.size);
    const nul = record.name.indexOf(0);
    const recordName = new TextDecoder().decode(record.name.subarray(0, nul < 0 ? 32 : nul));
    if (record.state !== BranchState.FREE && record.state !== BranchState.COMMITTED && recordName === name)
      return { slot, record };
  }
  throw new Error(`test image: no branch ${name}`);
}

function writeSlot(bytes: Uint8Array, slot: number, record: DaxfsBranch): void {
  DaxfsBranch.encode(bytes, Number(readSuper(bytes).branchTableOffset) + slot * DaxfsBranch.size, record);
}

/** Adds an ACTIVE branch (main when `parent` is omitted) with a log from the delta region. */
export function addTestBranch(
  bytes: Uint8Array,
  options: { name: string; parent?: string; capacity?: number },
): { slot: number; id: number } {
  const sb = readSuper(bytes);
  const capacity = options.capacity ?? 256 * 1024;
  let slot = 0;
  while (
    DaxfsBranch.decode(bytes, Number(sb.branchTableOffset) + slot * DaxfsBranch.size).state !==
    BranchState.FREE
  )
    slot++;
  const parentId = options.parent === undefined ? 0n : findSlot(bytes, options.parent).record.branchId;
  const id = sb.nextBranchId === 0n ? 1n : sb.nextBranchId;
  writeSlot(bytes, slot, {
    ...DaxfsBranch.zero(),
    branchId: id,
    parentId,
    deltaLogOffset: sb.deltaAllocOffset,
    deltaLogCapacity: BigInt(capacity),
    state: BranchState.ACTIVE,
    refcount: 1,
    nextLocalIno: sb.nextInodeId,
    name: branchNameField(options.name),
  });
  DaxfsSuper.encode(bytes, 0, {
    ...sb,
    nextBranchId: id + 1n,
    deltaAllocOffset: sb.deltaAllocOffset + BigInt(capacity),
    activeBranches: sb.activeBranches + 1,
  });
  return { slot, id: Number(id) };
}

/** Appends entries to a branch's log and publishes them (advances delta_log_size); returns their offsets. */
export function appendTestEntries(
  bytes: Uint8Array,
  branch: string,
  entries: NewDeltaEntry[],
  options: { alignData?: boolean } = {},
): number[] {
  const { slot, record } = findSlot(bytes, branch);
  const offsets: number[] = [];
  let size = record.deltaLogSize;
  let nextIno = readSuper(bytes).nextInodeId;
  for (const entry of entries) {
    const at = Number(record.deltaLogOffset + size);
    const encoded = encodeDeltaEntry(entry, { absoluteOffset: at, alignData: options.alignData ?? false });
    if (size + BigInt(encoded.length) > record.deltaLogCapacity)
      throw new Error(`test image: log of ${branch} is full`);
    bytes.set(encoded, at);
    offsets.push(at);
    size += BigInt(encoded.length);
    if (
      (entry.type === DeltaType.CREATE ||
        entry.type === DeltaType.MKDIR ||
        entry.type === DeltaType.SYMLINK) &&
      BigInt(entry.newIno) >= nextIno
    ) {
      nextIno = BigInt(entry.newIno) + 1n;
    }
  }
  writeSlot(bytes, slot, { ...record, deltaLogSize: size });
  DaxfsSuper.encode(bytes, 0, { ...readSuper(bytes), nextInodeId: nextIno });
  return offsets;
}

/** Changes a branch's state as a commit or abort would (generation + 1 unless told otherwise). */
export function setTestBranchState(
  bytes: Uint8Array,
  branch: string,
  state: BranchState,
  bumpGeneration = true,
): void {
  const { slot, record } = findSlot(bytes, branch);
  writeSlot(bytes, slot, { ...record, state, generation: record.generation + (bumpGeneration ? 1 : 0) });
}
