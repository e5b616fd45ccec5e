// Emits a planned image (plan.ts) into sinks in one ascending pass; every struct goes through the
// generated codecs of @daxfs/format, so no offset is restated here.
import {
  BaseFlags,
  BranchState,
  DAXFS_BASE_MAGIC,
  DAXFS_BLOCK_SIZE,
  DAXFS_MAX_BRANCHES,
  DAXFS_PCACHE_MAGIC,
  DAXFS_PCACHE_VERSION,
  DAXFS_ROOT_INO,
  DAXFS_SUPER_MAGIC,
  DAXFS_VERSION,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDirent,
  DaxfsPcacheHeader,
  DaxfsPcacheSlot,
  DaxfsSuper,
  PcacheState,
  SuperFeature,
} from "@daxfs/format";
import { copyFileContent } from "./content.js";
import type { HostCalls } from "./host-calls.js";
import type { ImagePlan, PlannedDirent, PlannedInode } from "./plan.js";
import type { ImageSink } from "./sink.js";

export interface EmitOptions {
  /** Split mode: where regular-file data goes (the backing file). */
  backing?: ImageSink;
  /** How host files are read (default: Node's fs; host-calls.ts). */
  hostCalls?: HostCalls;
  /** Called after each regular file is copied, with the bytes copied so far. */
  onFileCopied?: (inode: PlannedInode, bytesCopied: number) => void;
}

/** The main branch record our builder writes (SPEC 3.4.1 values, written at build time). */
function mainBranchRecord(plan: ImagePlan): DaxfsBranch {
  const record = DaxfsBranch.zero();
  const name = new Uint8Array(record.name.length);
  name.set(new TextEncoder().encode("main"));
  const log = plan.mainLog as NonNullable<ImagePlan["mainLog"]>;
  return {
    ...record,
    branchId: 1n,
    parentId: 0n,
    deltaLogOffset: BigInt(log.offset),
    deltaLogSize: 0n,
    deltaLogCapacity: BigInt(log.capacity),
    state: BranchState.ACTIVE,
    // Nothing is mounted yet; the field is informational (SPEC 3.4.4).
    refcount: 0,
    nextLocalIno: BigInt(plan.inodes.length + 1),
    name,
  };
}

export function superblockFor(plan: ImagePlan): DaxfsSuper {
  const sb = DaxfsSuper.zero();
  sb.magic = DAXFS_SUPER_MAGIC;
  sb.version = DAXFS_VERSION;
  sb.blockSize = DAXFS_BLOCK_SIZE;
  sb.totalSize = BigInt(plan.totalSize);
  sb.baseOffset = BigInt(plan.baseOffset);
  sb.baseSize = BigInt(plan.baseSize);
  sb.nextInodeId = BigInt(plan.inodes.length + 1);
  // Announced only when some inode has a time: a tree without times builds plain v5 bytes.
  if (plan.inodes.some((inode) => inode.mtime !== 0n)) sb.flags |= SuperFeature.BASE_MTIME;
  if (plan.mainLog) {
    sb.branchTableOffset = BigInt(plan.branchTableOffset);
    sb.branchTableEntries = DAXFS_MAX_BRANCHES;
    // The state a first mount of main would leave (SPEC 2.11), so a read-only mount writes nothing.
    sb.activeBranches = 1;
    sb.nextBranchId = 2n;
    sb.deltaRegionOffset = BigInt(plan.deltaRegionOffset);
    sb.deltaRegionSize = BigInt(plan.deltaRegionSize);
    sb.deltaAllocOffset = BigInt(plan.mainLog.offset + plan.mainLog.capacity);
    sb.coord.commitSequence = 1n;
  }
  if (plan.pcache) {
    sb.pcacheOffset = BigInt(plan.pcache.offset);
    sb.pcacheSize = BigInt(plan.pcache.size);
    sb.pcacheSlotCount = plan.pcache.slotCount;
    sb.pcacheHashShift = plan.pcache.hashShift;
  }
  return sb;
}

function emitMetadataHead(plan: ImagePlan, sink: ImageSink): void {
  DaxfsSuper.encode(sink.slice(0, DaxfsSuper.size), 0, superblockFor(plan));
  if (plan.mainLog)
    DaxfsBranch.encode(sink.slice(plan.branchTableOffset, DaxfsBranch.size), 0, mainBranchRecord(plan));

  const base = DaxfsBaseSuper.zero();
  base.magic = DAXFS_BASE_MAGIC;
  base.version = DAXFS_VERSION;
  base.flags = plan.mode === "split" ? BaseFlags.EXTERNAL_DATA : 0;
  base.blockSize = DAXFS_BLOCK_SIZE;
  base.totalSize = BigInt(plan.baseSize);
  base.inodeOffset = BigInt(DAXFS_BLOCK_SIZE);
  base.inodeCount = plan.inodes.length;
  base.rootInode = DAXFS_ROOT_INO;
  base.dataOffset = BigInt(plan.dataAreaOffset);
  DaxfsBaseSuper.encode(sink.slice(plan.baseOffset, DaxfsBaseSuper.size), 0, base);

  emitInodeTable(plan, sink);
}

/** A u64 field from an exact JS number (sizes and offsets, below 2^53), without a BigInt per value. */
function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x1_0000_0000, true);
  view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
}

const INODE = DaxfsBaseInode.offsets;
const DIRENT = DaxfsDirent.offsets;

/**
 * Fixed-size records (inode slots, dirents) written straight into the sink's views at the generated
 * codec's field offsets, as the validator reads them: one view per window of records instead of an
 * encoded struct, a subarray and BigInts per record, which dominated the layout of trees of many
 * small files. `write` fills record `item` at `at` of the zeroed view.
 */
function emitRecords<T>(
  sink: ImageSink,
  start: number,
  recordSize: number,
  items: readonly T[],
  write: (view: DataView, bytes: Uint8Array, at: number, item: T) => void,
): void {
  const perView = Math.max(1, Math.floor(sink.maxSlice / recordSize));
  for (let first = 0; first < items.length; first += perView) {
    const count = Math.min(perView, items.length - first);
    const bytes = sink.slice(start + first * recordSize, count * recordSize);
    // A file sink reuses its window: reserved bytes and padding must be written as zeros too.
    bytes.fill(0);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < count; i++) write(view, bytes, i * recordSize, items[first + i] as T);
  }
}

/** The inode table (SPEC 1.6.2): slot i holds inode i + 1. */
function emitInodeTable(plan: ImagePlan, sink: ImageSink): void {
  const start = plan.baseOffset + DAXFS_BLOCK_SIZE;
  emitRecords(sink, start, DaxfsBaseInode.size, plan.inodes, (view, _bytes, at, inode) => {
    view.setUint32(at + INODE.ino, inode.ino, true);
    view.setUint32(at + INODE.mode, inode.mode, true);
    view.setUint32(at + INODE.uid, inode.uid, true);
    view.setUint32(at + INODE.gid, inode.gid, true);
    setU64(view, at + INODE.size, inode.size);
    setU64(view, at + INODE.dataOffset, inode.dataOffset);
    view.setUint32(at + INODE.nlink, inode.nlink, true);
    if (inode.mtime !== 0n) view.setBigUint64(at + INODE.mtime, inode.mtime, true);
  });
}

/** A directory's dirent array (SPEC 1.6.3), sorted by name bytes (plan.ts). */
function emitDirectory(plan: ImagePlan, inode: PlannedInode, sink: ImageSink): void {
  const start = plan.baseOffset + inode.dataOffset;
  emitRecords(sink, start, DaxfsDirent.size, inode.entries ?? [], (view, bytes, at, entry: PlannedDirent) => {
    view.setUint32(at + DIRENT.ino, entry.ino, true);
    view.setUint32(at + DIRENT.mode, entry.mode, true);
    view.setUint16(at + DIRENT.nameLen, entry.name.length, true);
    bytes.set(entry.name, at + DIRENT.name);
  });
}

function emitSymlink(plan: ImagePlan, inode: PlannedInode, sink: ImageSink): void {
  const target = inode.target as Uint8Array;
  const view = sink.slice(plan.baseOffset + inode.dataOffset, target.length + 1);
  view.set(target);
  view[target.length] = 0;
}

/** Page-cache region (SPEC 1.7, 2.9): header, slot records, and slot p pre-warmed with page p. */
function emitPageCache(plan: ImagePlan, sink: ImageSink, calls: HostCalls | undefined): void {
  const pcache = plan.pcache;
  if (!pcache) return;
  const header = DaxfsPcacheHeader.zero();
  header.magic = DAXFS_PCACHE_MAGIC;
  header.version = DAXFS_PCACHE_VERSION;
  header.slotCount = pcache.slotCount;
  header.hashShift = pcache.hashShift;
  header.slotMetaOffset = BigInt(pcache.slotMetaOffset);
  header.slotDataOffset = BigInt(pcache.slotDataOffset);
  DaxfsPcacheHeader.encode(sink.slice(pcache.offset, DaxfsPcacheHeader.size), 0, header);
  for (let page = 0; page < pcache.prewarmedPages; page++) {
    const slot = { stateTag: (BigInt(page) << 2n) | BigInt(PcacheState.VALID), refBit: 1, reserved: 0 };
    DaxfsPcacheSlot.encode(
      sink.slice(pcache.offset + pcache.slotMetaOffset + page * DaxfsPcacheSlot.size, DaxfsPcacheSlot.size),
      0,
      slot,
    );
  }
  // Backing pages 0..prewarmedPages-1 are the first files' data, laid out from offset 0.
  const prewarmEnd = pcache.prewarmedPages * DAXFS_BLOCK_SIZE;
  const slotData = pcache.offset + pcache.slotDataOffset;
  for (const inode of plan.inodes) {
    if (inode.node.kind !== "file" || inode.size === 0) continue;
    if (inode.dataOffset >= prewarmEnd) break;
    const length = Math.min(inode.size, prewarmEnd - inode.dataOffset);
    copyFileContent(inode.node, sink, slotData + inode.dataOffset, inode.path, length, calls);
  }
}

/** Writes the whole image (and, in split mode, the backing file's data) into the sinks. */
export function emitImage(plan: ImagePlan, sink: ImageSink, options: EmitOptions = {}): void {
  if (plan.mode === "split" && !options.backing) throw new RangeError("split mode needs a backing sink");
  emitMetadataHead(plan, sink);
  let bytesCopied = 0;
  for (const inode of plan.inodes) {
    const node = inode.node;
    if (node.kind === "dir") {
      if (inode.entries && inode.entries.length > 0) emitDirectory(plan, inode, sink);
    } else if (node.kind === "symlink") {
      emitSymlink(plan, inode, sink);
    } else {
      const calls = options.hostCalls;
      if (plan.mode === "split")
        copyFileContent(node, options.backing as ImageSink, inode.dataOffset, inode.path, node.size, calls);
      else copyFileContent(node, sink, plan.baseOffset + inode.dataOffset, inode.path, node.size, calls);
      bytesCopied += node.size;
      options.onFileCopied?.(inode, bytesCopied);
    }
  }
  if (plan.mode === "split") (options.backing as ImageSink).flush();
  emitPageCache(plan, sink, options.hostCalls);
  sink.flush();
}
