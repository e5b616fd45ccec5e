// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
// DAXFS v5 shared-memory filesystem image: codecs, enums and constants.
// Generated from format/daxfs.ksy by format/src/cli.ts. Do not edit; run `pnpm gen`.

/** One field of a generated struct: where it sits and what it is. */
export interface FieldInfo {
  /** TypeScript property name (camelCase of the C name). */
  readonly name: string;
  /** Field name in daxfs_format.h. */
  readonly cName: string;
  /** Field id in format/daxfs.ksy (the Kaitai parser's name, in camelCase). */
  readonly ksyId: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: "uint" | "bytes" | "strz" | "struct";
}

/** Decode/encode of one fixed-size on-media struct at a byte offset. */
export interface StructCodec<T> {
  readonly cName: string;
  readonly ksyId: string;
  readonly size: number;
  readonly fields: readonly FieldInfo[];
  /** Byte offset of every field, for updating one field in place. */
  readonly offsets: { readonly [K in keyof T]: number };
  /** Reads the struct at `offset`; throws RangeError if it does not fit in `bytes`. */
  decode(bytes: Uint8Array, offset?: number): T;
  /** Writes the struct at `offset`; throws RangeError if it does not fit or an array has the wrong length. */
  encode(bytes: Uint8Array, offset: number, value: T): void;
  /** A value with every field zero. */
  zero(): T;
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkFits(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > bytes.length) {
    throw new RangeError(`${what}: ${size} bytes at offset ${offset} do not fit in ${bytes.length}`);
  }
}

// Buffer#slice returns a view; a decoded struct owns its arrays.
function copyBytes(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, offset, offset + length);
}

function putBytes(bytes: Uint8Array, offset: number, value: Uint8Array, length: number, what: string): void {
  if (value.length !== length) throw new RangeError(`${what}: expected ${length} bytes, got ${value.length}`);
  bytes.set(value, offset);
}

/** Superblock magic, "dax5"; also the statfs f_type. (Not DAXFS_MAGIC, which <uapi/linux/magic.h> defines as another value.) */
export const DAXFS_SUPER_MAGIC = 0x64617835;
/** Format version of the superblock and the base image. */
export const DAXFS_VERSION = 5;
/** Base superblock magic, "dda5". */
export const DAXFS_BASE_MAGIC = 0x64646135;
/** Page-cache header magic, "pcac". */
export const DAXFS_PCACHE_MAGIC = 0x70636163;
/** Page-cache header version. */
export const DAXFS_PCACHE_VERSION = 1;
/** Block and page size; every region and data item starts on it. */
export const DAXFS_BLOCK_SIZE = 4096;
/** Bytes of the superblock struct; the rest of block 0 is zero. */
export const DAXFS_SUPER_SIZE = 4040;
/** Size of one base inode slot. */
export const DAXFS_BASE_INODE_SIZE = 64;
/** Longest file name in bytes. */
export const DAXFS_NAME_MAX = 255;
/** Nominal dirent size; a directory's size is entry_count * 271. */
export const DAXFS_DIRENT_SIZE = 271;
/** Distance between dirents in an array (the padded struct size). */
export const DAXFS_DIRENT_STRIDE = 272;
/** Inode number of the root directory. */
export const DAXFS_ROOT_INO = 1;
/** Branch table slots written by the builder. */
export const DAXFS_MAX_BRANCHES = 256;
/** Longest branch name in bytes (the field holds a NUL too). */
export const DAXFS_BRANCH_NAME_MAX = 31;
/** Absolute offset of the branch table in branching images. */
export const DAXFS_BRANCH_TABLE_OFFSET = 4096;
/** Base image offset with a branch table, ALIGN(4096 + 256 * 128, 4096). */
export const DAXFS_BRANCHING_BASE_OFFSET = 36864;
/** Base image offset of a static (read-only) image. */
export const DAXFS_STATIC_BASE_OFFSET = 4096;
/** Default delta region size of the builder (64 MiB). */
export const DAXFS_DEFAULT_DELTA_SIZE = 67108864;
/** Fixed per-branch log capacity of the public module (1 MiB). */
export const DAXFS_PUBLIC_LOG_CAPACITY = 1048576;
/** Size of the delta entry header. */
export const DAXFS_DELTA_HDR_SIZE = 24;
/** ioctl _IO('D', 1) returning a dma-buf fd of a dma-buf-backed mount. */
export const DAXFS_IOC_GET_DMABUF = 0x4401;

export enum BranchState {
  FREE = 0,
  ACTIVE = 1,
  COMMITTED = 2,
  ABORTED = 3,
}

export enum DeltaType {
  WRITE = 1,
  CREATE = 2,
  DELETE = 3,
  TRUNCATE = 4,
  MKDIR = 5,
  RENAME = 6,
  SETATTR = 7,
  SYMLINK = 8,
  LINK = 9,
  UTIMES = 10,
}

export enum SetattrValid {
  MODE = 1,
  UID = 2,
  GID = 4,
  SIZE = 8,
}

export enum PcacheState {
  FREE = 0,
  PENDING = 1,
  VALID = 2,
}

export enum BaseFlags {
  EXTERNAL_DATA = 1,
}

export enum SuperFeature {
  LINK = 1,
  UTIMES = 2,
  BASE_MTIME = 4,
}

export enum UtimesValid {
  ATIME = 1,
  MTIME = 2,
}

export enum FileType {
  REGULAR = 0x8000,
  DIR = 0x4000,
  SYMLINK = 0xa000,
}

/** Coordination area at superblock offset 96 (not 152, as a stale public comment says). Serialises commits across every kernel and process that shares the memory. */
export interface DaxfsGlobalCoord {
  /** 0 when fresh, 1 after the first branching mount, +1 per commit. */
  commitSequence: bigint;
  /** Branch id of the most recent successful commit. */
  lastCommittedId: bigint;
  /** Spin lock word, 0 free, 1 held; taken by compare-and-swap. */
  coordLock: number;
  /** Zero. */
  padding: number;
  /** Zero in the public format (our lock-owner scheme lives here). */
  reserved: Uint8Array;
}

export const DaxfsGlobalCoord: StructCodec<DaxfsGlobalCoord> = {
  cName: "daxfs_global_coord",
  ksyId: "global_coord",
  size: 64,
  fields: [
    { name: "commitSequence", cName: "commit_sequence", ksyId: "commit_sequence", offset: 0, size: 8, kind: "uint" },
    { name: "lastCommittedId", cName: "last_committed_id", ksyId: "last_committed_id", offset: 8, size: 8, kind: "uint" },
    { name: "coordLock", cName: "coord_lock", ksyId: "coord_lock", offset: 16, size: 4, kind: "uint" },
    { name: "padding", cName: "padding", ksyId: "padding", offset: 20, size: 4, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 24, size: 40, kind: "bytes" },
  ],
  offsets: { commitSequence: 0, lastCommittedId: 8, coordLock: 16, padding: 20, reserved: 24 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 64, "daxfs_global_coord");
    const view = dataView(bytes);
    return {
      commitSequence: view.getBigUint64(offset + 0, true),
      lastCommittedId: view.getBigUint64(offset + 8, true),
      coordLock: view.getUint32(offset + 16, true),
      padding: view.getUint32(offset + 20, true),
      reserved: copyBytes(bytes, offset + 24, 40),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsGlobalCoord) {
    checkFits(bytes, offset, 64, "daxfs_global_coord");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.commitSequence, true);
    view.setBigUint64(offset + 8, value.lastCommittedId, true);
    view.setUint32(offset + 16, value.coordLock, true);
    view.setUint32(offset + 20, value.padding, true);
    putBytes(bytes, offset + 24, value.reserved, 40, "daxfs_global_coord.reserved");
  },
  zero() {
    return { commitSequence: 0n, lastCommittedId: 0n, coordLock: 0, padding: 0, reserved: new Uint8Array(40) };
  },
};

/** Superblock at absolute offset 0. The struct is 4040 bytes; bytes 4040..4095 of block 0 are zero. */
export interface DaxfsSuper {
  /** Must be 0x64617835 ("dax5"). */
  magic: number;
  /** Format version, 5. */
  version: number;
  /** Bit mask of super_feature values: the format extensions the image uses (0 in plain v5; the public module neither sets nor reads it). */
  flags: number;
  /** 4096 (written, never checked by the public module). */
  blockSize: number;
  /** Image size computed by the builder. */
  totalSize: bigint;
  /** Absolute offset of the base image; 0 means no base image. */
  baseOffset: bigint;
  /** Bytes reserved for the base image. */
  baseSize: bigint;
  /** Absolute offset of the branch table; 0 in static images. */
  branchTableOffset: bigint;
  /** Number of 128-byte branch slots (256); 0 marks a static image. */
  branchTableEntries: number;
  /** Informational count of active branches. */
  activeBranches: number;
  /** Next branch id to hand out (builder 1; static 0). */
  nextBranchId: bigint;
  /** Global inode high-water mark (builder inode_count + 1). */
  nextInodeId: bigint;
  /** Absolute offset of the delta region; 0 in static images. */
  deltaRegionOffset: bigint;
  /** Size of the delta region in bytes. */
  deltaRegionSize: bigint;
  /** Absolute offset of the next free byte of the delta region. */
  deltaAllocOffset: bigint;
  /** Coordination area shared by every mount of the image. */
  coord: DaxfsGlobalCoord;
  /** Absolute offset of the page-cache region; 0 means none. */
  pcacheOffset: bigint;
  /** Size of the page-cache region in bytes. */
  pcacheSize: bigint;
  /** Page-cache slot count (a power of two). */
  pcacheSlotCount: number;
  /** log2 of the slot count (informational). */
  pcacheHashShift: number;
  /** Unused, 0 (the live count is in the page-cache header). */
  pcachePending: number;
  /** Zero. */
  pcacheReserved: number;
  /** Zero; the struct ends at byte 4040. */
  reserved: Uint8Array;
}

export const DaxfsSuper: StructCodec<DaxfsSuper> = {
  cName: "daxfs_super",
  ksyId: "superblock",
  size: 4040,
  fields: [
    { name: "magic", cName: "magic", ksyId: "magic", offset: 0, size: 4, kind: "uint" },
    { name: "version", cName: "version", ksyId: "version", offset: 4, size: 4, kind: "uint" },
    { name: "flags", cName: "flags", ksyId: "flags", offset: 8, size: 4, kind: "uint" },
    { name: "blockSize", cName: "block_size", ksyId: "block_size", offset: 12, size: 4, kind: "uint" },
    { name: "totalSize", cName: "total_size", ksyId: "total_size", offset: 16, size: 8, kind: "uint" },
    { name: "baseOffset", cName: "base_offset", ksyId: "ofs_base", offset: 24, size: 8, kind: "uint" },
    { name: "baseSize", cName: "base_size", ksyId: "len_base", offset: 32, size: 8, kind: "uint" },
    { name: "branchTableOffset", cName: "branch_table_offset", ksyId: "ofs_branch_table", offset: 40, size: 8, kind: "uint" },
    { name: "branchTableEntries", cName: "branch_table_entries", ksyId: "num_branch_table_entries", offset: 48, size: 4, kind: "uint" },
    { name: "activeBranches", cName: "active_branches", ksyId: "num_active_branches", offset: 52, size: 4, kind: "uint" },
    { name: "nextBranchId", cName: "next_branch_id", ksyId: "next_branch_id", offset: 56, size: 8, kind: "uint" },
    { name: "nextInodeId", cName: "next_inode_id", ksyId: "next_inode_id", offset: 64, size: 8, kind: "uint" },
    { name: "deltaRegionOffset", cName: "delta_region_offset", ksyId: "ofs_delta_region", offset: 72, size: 8, kind: "uint" },
    { name: "deltaRegionSize", cName: "delta_region_size", ksyId: "len_delta_region", offset: 80, size: 8, kind: "uint" },
    { name: "deltaAllocOffset", cName: "delta_alloc_offset", ksyId: "ofs_delta_alloc", offset: 88, size: 8, kind: "uint" },
    { name: "coord", cName: "coord", ksyId: "coord", offset: 96, size: 64, kind: "struct" },
    { name: "pcacheOffset", cName: "pcache_offset", ksyId: "ofs_pcache", offset: 160, size: 8, kind: "uint" },
    { name: "pcacheSize", cName: "pcache_size", ksyId: "len_pcache", offset: 168, size: 8, kind: "uint" },
    { name: "pcacheSlotCount", cName: "pcache_slot_count", ksyId: "num_pcache_slots", offset: 176, size: 4, kind: "uint" },
    { name: "pcacheHashShift", cName: "pcache_hash_shift", ksyId: "pcache_hash_shift", offset: 180, size: 4, kind: "uint" },
    { name: "pcachePending", cName: "pcache_pending", ksyId: "pcache_pending", offset: 184, size: 4, kind: "uint" },
    { name: "pcacheReserved", cName: "pcache_reserved", ksyId: "pcache_reserved", offset: 188, size: 4, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 192, size: 3848, kind: "bytes" },
  ],
  offsets: { magic: 0, version: 4, flags: 8, blockSize: 12, totalSize: 16, baseOffset: 24, baseSize: 32, branchTableOffset: 40, branchTableEntries: 48, activeBranches: 52, nextBranchId: 56, nextInodeId: 64, deltaRegionOffset: 72, deltaRegionSize: 80, deltaAllocOffset: 88, coord: 96, pcacheOffset: 160, pcacheSize: 168, pcacheSlotCount: 176, pcacheHashShift: 180, pcachePending: 184, pcacheReserved: 188, reserved: 192 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 4040, "daxfs_super");
    const view = dataView(bytes);
    return {
      magic: view.getUint32(offset + 0, true),
      version: view.getUint32(offset + 4, true),
      flags: view.getUint32(offset + 8, true),
      blockSize: view.getUint32(offset + 12, true),
      totalSize: view.getBigUint64(offset + 16, true),
      baseOffset: view.getBigUint64(offset + 24, true),
      baseSize: view.getBigUint64(offset + 32, true),
      branchTableOffset: view.getBigUint64(offset + 40, true),
      branchTableEntries: view.getUint32(offset + 48, true),
      activeBranches: view.getUint32(offset + 52, true),
      nextBranchId: view.getBigUint64(offset + 56, true),
      nextInodeId: view.getBigUint64(offset + 64, true),
      deltaRegionOffset: view.getBigUint64(offset + 72, true),
      deltaRegionSize: view.getBigUint64(offset + 80, true),
      deltaAllocOffset: view.getBigUint64(offset + 88, true),
      coord: DaxfsGlobalCoord.decode(bytes, offset + 96),
      pcacheOffset: view.getBigUint64(offset + 160, true),
      pcacheSize: view.getBigUint64(offset + 168, true),
      pcacheSlotCount: view.getUint32(offset + 176, true),
      pcacheHashShift: view.getUint32(offset + 180, true),
      pcachePending: view.getUint32(offset + 184, true),
      pcacheReserved: view.getUint32(offset + 188, true),
      reserved: copyBytes(bytes, offset + 192, 3848),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsSuper) {
    checkFits(bytes, offset, 4040, "daxfs_super");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.magic, true);
    view.setUint32(offset + 4, value.version, true);
    view.setUint32(offset + 8, value.flags, true);
    view.setUint32(offset + 12, value.blockSize, true);
    view.setBigUint64(offset + 16, value.totalSize, true);
    view.setBigUint64(offset + 24, value.baseOffset, true);
    view.setBigUint64(offset + 32, value.baseSize, true);
    view.setBigUint64(offset + 40, value.branchTableOffset, true);
    view.setUint32(offset + 48, value.branchTableEntries, true);
    view.setUint32(offset + 52, value.activeBranches, true);
    view.setBigUint64(offset + 56, value.nextBranchId, true);
    view.setBigUint64(offset + 64, value.nextInodeId, true);
    view.setBigUint64(offset + 72, value.deltaRegionOffset, true);
    view.setBigUint64(offset + 80, value.deltaRegionSize, true);
    view.setBigUint64(offset + 88, value.deltaAllocOffset, true);
    DaxfsGlobalCoord.encode(bytes, offset + 96, value.coord);
    view.setBigUint64(offset + 160, value.pcacheOffset, true);
    view.setBigUint64(offset + 168, value.pcacheSize, true);
    view.setUint32(offset + 176, value.pcacheSlotCount, true);
    view.setUint32(offset + 180, value.pcacheHashShift, true);
    view.setUint32(offset + 184, value.pcachePending, true);
    view.setUint32(offset + 188, value.pcacheReserved, true);
    putBytes(bytes, offset + 192, value.reserved, 3848, "daxfs_super.reserved");
  },
  zero() {
    return { magic: 0, version: 0, flags: 0, blockSize: 0, totalSize: 0n, baseOffset: 0n, baseSize: 0n, branchTableOffset: 0n, branchTableEntries: 0, activeBranches: 0, nextBranchId: 0n, nextInodeId: 0n, deltaRegionOffset: 0n, deltaRegionSize: 0n, deltaAllocOffset: 0n, coord: DaxfsGlobalCoord.zero(), pcacheOffset: 0n, pcacheSize: 0n, pcacheSlotCount: 0, pcacheHashShift: 0, pcachePending: 0, pcacheReserved: 0, reserved: new Uint8Array(3848) };
  },
};

/** One 128-byte branch record of the branch table. */
export interface DaxfsBranch {
  /** Unique id; main is always 1. */
  branchId: bigint;
  /** Parent branch id; 0 only for main. */
  parentId: bigint;
  /** Absolute offset of this branch's delta log. */
  deltaLogOffset: bigint;
  /** Bytes of the log in use; entries are parsed up to here. */
  deltaLogSize: bigint;
  /** Bytes reserved for the log. */
  deltaLogCapacity: bigint;
  /** FREE, ACTIVE, COMMITTED or ABORTED. */
  state: number;
  /** Informational (children + mounts); never read back. */
  refcount: number;
  /** Next inode number this branch will allocate. */
  nextLocalIno: bigint;
  /** NUL-terminated name of at most 31 bytes; zeroed on commit/abort. */
  name: Uint8Array;
  /** Incremented whenever the branch is invalidated or aborted. */
  generation: number;
  /** Zero. */
  reserved: Uint8Array;
}

export const DaxfsBranch: StructCodec<DaxfsBranch> = {
  cName: "daxfs_branch",
  ksyId: "branch",
  size: 128,
  fields: [
    { name: "branchId", cName: "branch_id", ksyId: "branch_id", offset: 0, size: 8, kind: "uint" },
    { name: "parentId", cName: "parent_id", ksyId: "parent_id", offset: 8, size: 8, kind: "uint" },
    { name: "deltaLogOffset", cName: "delta_log_offset", ksyId: "ofs_delta_log", offset: 16, size: 8, kind: "uint" },
    { name: "deltaLogSize", cName: "delta_log_size", ksyId: "len_delta_log", offset: 24, size: 8, kind: "uint" },
    { name: "deltaLogCapacity", cName: "delta_log_capacity", ksyId: "delta_log_capacity", offset: 32, size: 8, kind: "uint" },
    { name: "state", cName: "state", ksyId: "state", offset: 40, size: 4, kind: "uint" },
    { name: "refcount", cName: "refcount", ksyId: "refcount", offset: 44, size: 4, kind: "uint" },
    { name: "nextLocalIno", cName: "next_local_ino", ksyId: "next_local_ino", offset: 48, size: 8, kind: "uint" },
    { name: "name", cName: "name", ksyId: "name", offset: 56, size: 32, kind: "strz" },
    { name: "generation", cName: "generation", ksyId: "generation", offset: 88, size: 4, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 92, size: 36, kind: "bytes" },
  ],
  offsets: { branchId: 0, parentId: 8, deltaLogOffset: 16, deltaLogSize: 24, deltaLogCapacity: 32, state: 40, refcount: 44, nextLocalIno: 48, name: 56, generation: 88, reserved: 92 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 128, "daxfs_branch");
    const view = dataView(bytes);
    return {
      branchId: view.getBigUint64(offset + 0, true),
      parentId: view.getBigUint64(offset + 8, true),
      deltaLogOffset: view.getBigUint64(offset + 16, true),
      deltaLogSize: view.getBigUint64(offset + 24, true),
      deltaLogCapacity: view.getBigUint64(offset + 32, true),
      state: view.getUint32(offset + 40, true),
      refcount: view.getUint32(offset + 44, true),
      nextLocalIno: view.getBigUint64(offset + 48, true),
      name: copyBytes(bytes, offset + 56, 32),
      generation: view.getUint32(offset + 88, true),
      reserved: copyBytes(bytes, offset + 92, 36),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsBranch) {
    checkFits(bytes, offset, 128, "daxfs_branch");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.branchId, true);
    view.setBigUint64(offset + 8, value.parentId, true);
    view.setBigUint64(offset + 16, value.deltaLogOffset, true);
    view.setBigUint64(offset + 24, value.deltaLogSize, true);
    view.setBigUint64(offset + 32, value.deltaLogCapacity, true);
    view.setUint32(offset + 40, value.state, true);
    view.setUint32(offset + 44, value.refcount, true);
    view.setBigUint64(offset + 48, value.nextLocalIno, true);
    putBytes(bytes, offset + 56, value.name, 32, "daxfs_branch.name");
    view.setUint32(offset + 88, value.generation, true);
    putBytes(bytes, offset + 92, value.reserved, 36, "daxfs_branch.reserved");
  },
  zero() {
    return { branchId: 0n, parentId: 0n, deltaLogOffset: 0n, deltaLogSize: 0n, deltaLogCapacity: 0n, state: 0, refcount: 0, nextLocalIno: 0n, name: new Uint8Array(32), generation: 0, reserved: new Uint8Array(36) };
  },
};

/** The 24-byte header of every delta entry. */
export interface DaxfsDeltaHdr {
  /** Entry type. */
  type: number;
  /** Size of the whole entry, header, payload, names, padding, data. */
  totalSize: number;
  /** The inode the entry is about (per-type meaning). */
  ino: bigint;
  /** Creation time in ns; informational, log order is authoritative. */
  timestamp: bigint;
}

export const DaxfsDeltaHdr: StructCodec<DaxfsDeltaHdr> = {
  cName: "daxfs_delta_hdr",
  ksyId: "delta_hdr",
  size: 24,
  fields: [
    { name: "type", cName: "type", ksyId: "type", offset: 0, size: 4, kind: "uint" },
    { name: "totalSize", cName: "total_size", ksyId: "total_size", offset: 4, size: 4, kind: "uint" },
    { name: "ino", cName: "ino", ksyId: "ino", offset: 8, size: 8, kind: "uint" },
    { name: "timestamp", cName: "timestamp", ksyId: "timestamp", offset: 16, size: 8, kind: "uint" },
  ],
  offsets: { type: 0, totalSize: 4, ino: 8, timestamp: 16 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 24, "daxfs_delta_hdr");
    const view = dataView(bytes);
    return {
      type: view.getUint32(offset + 0, true),
      totalSize: view.getUint32(offset + 4, true),
      ino: view.getBigUint64(offset + 8, true),
      timestamp: view.getBigUint64(offset + 16, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaHdr) {
    checkFits(bytes, offset, 24, "daxfs_delta_hdr");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.type, true);
    view.setUint32(offset + 4, value.totalSize, true);
    view.setBigUint64(offset + 8, value.ino, true);
    view.setBigUint64(offset + 16, value.timestamp, true);
  },
  zero() {
    return { type: 0, totalSize: 0, ino: 0n, timestamp: 0n };
  },
};

/** WRITE payload; hdr.ino is the file. */
export interface DaxfsDeltaWrite {
  /** File offset of the data. */
  offset: bigint;
  /** Number of data bytes. */
  len: number;
  flags: number;
}

export const DaxfsDeltaWrite: StructCodec<DaxfsDeltaWrite> = {
  cName: "daxfs_delta_write",
  ksyId: "delta_write",
  size: 16,
  fields: [
    { name: "offset", cName: "offset", ksyId: "offset", offset: 0, size: 8, kind: "uint" },
    { name: "len", cName: "len", ksyId: "len", offset: 8, size: 4, kind: "uint" },
    { name: "flags", cName: "flags", ksyId: "flags", offset: 12, size: 4, kind: "uint" },
  ],
  offsets: { offset: 0, len: 8, flags: 12 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 16, "daxfs_delta_write");
    const view = dataView(bytes);
    return {
      offset: view.getBigUint64(offset + 0, true),
      len: view.getUint32(offset + 8, true),
      flags: view.getUint32(offset + 12, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaWrite) {
    checkFits(bytes, offset, 16, "daxfs_delta_write");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.offset, true);
    view.setUint32(offset + 8, value.len, true);
    view.setUint32(offset + 12, value.flags, true);
  },
  zero() {
    return { offset: 0n, len: 0, flags: 0 };
  },
};

/** CREATE and MKDIR payload; hdr.ino is the new inode. */
export interface DaxfsDeltaCreate {
  /** Directory the name is created in. */
  parentIno: bigint;
  /** Inode number of the new object. */
  newIno: bigint;
  /** Full st_mode including the type bits. */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Length of the name that follows. */
  nameLen: number;
  flags: number;
}

export const DaxfsDeltaCreate: StructCodec<DaxfsDeltaCreate> = {
  cName: "daxfs_delta_create",
  ksyId: "delta_create",
  size: 32,
  fields: [
    { name: "parentIno", cName: "parent_ino", ksyId: "parent_ino", offset: 0, size: 8, kind: "uint" },
    { name: "newIno", cName: "new_ino", ksyId: "new_ino", offset: 8, size: 8, kind: "uint" },
    { name: "mode", cName: "mode", ksyId: "mode", offset: 16, size: 4, kind: "uint" },
    { name: "uid", cName: "uid", ksyId: "uid", offset: 20, size: 4, kind: "uint" },
    { name: "gid", cName: "gid", ksyId: "gid", offset: 24, size: 4, kind: "uint" },
    { name: "nameLen", cName: "name_len", ksyId: "name_len", offset: 28, size: 2, kind: "uint" },
    { name: "flags", cName: "flags", ksyId: "flags", offset: 30, size: 2, kind: "uint" },
  ],
  offsets: { parentIno: 0, newIno: 8, mode: 16, uid: 20, gid: 24, nameLen: 28, flags: 30 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 32, "daxfs_delta_create");
    const view = dataView(bytes);
    return {
      parentIno: view.getBigUint64(offset + 0, true),
      newIno: view.getBigUint64(offset + 8, true),
      mode: view.getUint32(offset + 16, true),
      uid: view.getUint32(offset + 20, true),
      gid: view.getUint32(offset + 24, true),
      nameLen: view.getUint16(offset + 28, true),
      flags: view.getUint16(offset + 30, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaCreate) {
    checkFits(bytes, offset, 32, "daxfs_delta_create");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.parentIno, true);
    view.setBigUint64(offset + 8, value.newIno, true);
    view.setUint32(offset + 16, value.mode, true);
    view.setUint32(offset + 20, value.uid, true);
    view.setUint32(offset + 24, value.gid, true);
    view.setUint16(offset + 28, value.nameLen, true);
    view.setUint16(offset + 30, value.flags, true);
  },
  zero() {
    return { parentIno: 0n, newIno: 0n, mode: 0, uid: 0, gid: 0, nameLen: 0, flags: 0 };
  },
};

/** DELETE (tombstone) payload; hdr.ino is the unlinked inode. */
export interface DaxfsDeltaDelete {
  /** Directory the name is removed from. */
  parentIno: bigint;
  /** Length of the name that follows. */
  nameLen: number;
  flags: number;
  reserved: number;
}

export const DaxfsDeltaDelete: StructCodec<DaxfsDeltaDelete> = {
  cName: "daxfs_delta_delete",
  ksyId: "delta_delete",
  size: 16,
  fields: [
    { name: "parentIno", cName: "parent_ino", ksyId: "parent_ino", offset: 0, size: 8, kind: "uint" },
    { name: "nameLen", cName: "name_len", ksyId: "name_len", offset: 8, size: 2, kind: "uint" },
    { name: "flags", cName: "flags", ksyId: "flags", offset: 10, size: 2, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 12, size: 4, kind: "uint" },
  ],
  offsets: { parentIno: 0, nameLen: 8, flags: 10, reserved: 12 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 16, "daxfs_delta_delete");
    const view = dataView(bytes);
    return {
      parentIno: view.getBigUint64(offset + 0, true),
      nameLen: view.getUint16(offset + 8, true),
      flags: view.getUint16(offset + 10, true),
      reserved: view.getUint32(offset + 12, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaDelete) {
    checkFits(bytes, offset, 16, "daxfs_delta_delete");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.parentIno, true);
    view.setUint16(offset + 8, value.nameLen, true);
    view.setUint16(offset + 10, value.flags, true);
    view.setUint32(offset + 12, value.reserved, true);
  },
  zero() {
    return { parentIno: 0n, nameLen: 0, flags: 0, reserved: 0 };
  },
};

/** TRUNCATE payload; hdr.ino is the file. */
export interface DaxfsDeltaTruncate {
  /** New file size; growing exposes zeros. */
  newSize: bigint;
}

export const DaxfsDeltaTruncate: StructCodec<DaxfsDeltaTruncate> = {
  cName: "daxfs_delta_truncate",
  ksyId: "delta_truncate",
  size: 8,
  fields: [
    { name: "newSize", cName: "new_size", ksyId: "new_size", offset: 0, size: 8, kind: "uint" },
  ],
  offsets: { newSize: 0 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 8, "daxfs_delta_truncate");
    const view = dataView(bytes);
    return {
      newSize: view.getBigUint64(offset + 0, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaTruncate) {
    checkFits(bytes, offset, 8, "daxfs_delta_truncate");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.newSize, true);
  },
  zero() {
    return { newSize: 0n };
  },
};

/** RENAME payload; hdr.ino is the renamed inode. */
export interface DaxfsDeltaRename {
  /** Directory of the old name. */
  oldParentIno: bigint;
  /** Directory of the new name. */
  newParentIno: bigint;
  /** The renamed inode (same as hdr.ino). */
  ino: bigint;
  /** Length of the old name. */
  oldNameLen: number;
  /** Length of the new name. */
  newNameLen: number;
  reserved: number;
}

export const DaxfsDeltaRename: StructCodec<DaxfsDeltaRename> = {
  cName: "daxfs_delta_rename",
  ksyId: "delta_rename",
  size: 32,
  fields: [
    { name: "oldParentIno", cName: "old_parent_ino", ksyId: "old_parent_ino", offset: 0, size: 8, kind: "uint" },
    { name: "newParentIno", cName: "new_parent_ino", ksyId: "new_parent_ino", offset: 8, size: 8, kind: "uint" },
    { name: "ino", cName: "ino", ksyId: "ino", offset: 16, size: 8, kind: "uint" },
    { name: "oldNameLen", cName: "old_name_len", ksyId: "old_name_len", offset: 24, size: 2, kind: "uint" },
    { name: "newNameLen", cName: "new_name_len", ksyId: "new_name_len", offset: 26, size: 2, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 28, size: 4, kind: "uint" },
  ],
  offsets: { oldParentIno: 0, newParentIno: 8, ino: 16, oldNameLen: 24, newNameLen: 26, reserved: 28 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 32, "daxfs_delta_rename");
    const view = dataView(bytes);
    return {
      oldParentIno: view.getBigUint64(offset + 0, true),
      newParentIno: view.getBigUint64(offset + 8, true),
      ino: view.getBigUint64(offset + 16, true),
      oldNameLen: view.getUint16(offset + 24, true),
      newNameLen: view.getUint16(offset + 26, true),
      reserved: view.getUint32(offset + 28, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaRename) {
    checkFits(bytes, offset, 32, "daxfs_delta_rename");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.oldParentIno, true);
    view.setBigUint64(offset + 8, value.newParentIno, true);
    view.setBigUint64(offset + 16, value.ino, true);
    view.setUint16(offset + 24, value.oldNameLen, true);
    view.setUint16(offset + 26, value.newNameLen, true);
    view.setUint32(offset + 28, value.reserved, true);
  },
  zero() {
    return { oldParentIno: 0n, newParentIno: 0n, ino: 0n, oldNameLen: 0, newNameLen: 0, reserved: 0 };
  },
};

/** SETATTR payload; fields whose valid bit is set apply. */
export interface DaxfsDeltaSetattr {
  /** New mode (valid bit 1); the type bits are kept. */
  mode: number;
  /** New uid (valid bit 2). */
  uid: number;
  /** New gid (valid bit 4). */
  gid: number;
  /** Bit mask of setattr_valid values. */
  valid: number;
  /** New size (valid bit 8). */
  size: bigint;
}

export const DaxfsDeltaSetattr: StructCodec<DaxfsDeltaSetattr> = {
  cName: "daxfs_delta_setattr",
  ksyId: "delta_setattr",
  size: 24,
  fields: [
    { name: "mode", cName: "mode", ksyId: "mode", offset: 0, size: 4, kind: "uint" },
    { name: "uid", cName: "uid", ksyId: "uid", offset: 4, size: 4, kind: "uint" },
    { name: "gid", cName: "gid", ksyId: "gid", offset: 8, size: 4, kind: "uint" },
    { name: "valid", cName: "valid", ksyId: "valid", offset: 12, size: 4, kind: "uint" },
    { name: "size", cName: "size", ksyId: "size", offset: 16, size: 8, kind: "uint" },
  ],
  offsets: { mode: 0, uid: 4, gid: 8, valid: 12, size: 16 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 24, "daxfs_delta_setattr");
    const view = dataView(bytes);
    return {
      mode: view.getUint32(offset + 0, true),
      uid: view.getUint32(offset + 4, true),
      gid: view.getUint32(offset + 8, true),
      valid: view.getUint32(offset + 12, true),
      size: view.getBigUint64(offset + 16, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaSetattr) {
    checkFits(bytes, offset, 24, "daxfs_delta_setattr");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.mode, true);
    view.setUint32(offset + 4, value.uid, true);
    view.setUint32(offset + 8, value.gid, true);
    view.setUint32(offset + 12, value.valid, true);
    view.setBigUint64(offset + 16, value.size, true);
  },
  zero() {
    return { mode: 0, uid: 0, gid: 0, valid: 0, size: 0n };
  },
};

/** SYMLINK payload; hdr.ino is the new inode. 28 bytes of fields and 4 of alignment padding: the name starts at payload offset 32. */
export interface DaxfsDeltaSymlink {
  /** Directory the link is created in. */
  parentIno: bigint;
  /** Inode number of the new link. */
  newIno: bigint;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** Length of the name. */
  nameLen: number;
  /** Length of the target, without the NUL. */
  targetLen: number;
  /** Structure padding; content unspecified, readers ignore it. */
  pad: Uint8Array;
}

export const DaxfsDeltaSymlink: StructCodec<DaxfsDeltaSymlink> = {
  cName: "daxfs_delta_symlink",
  ksyId: "delta_symlink",
  size: 32,
  fields: [
    { name: "parentIno", cName: "parent_ino", ksyId: "parent_ino", offset: 0, size: 8, kind: "uint" },
    { name: "newIno", cName: "new_ino", ksyId: "new_ino", offset: 8, size: 8, kind: "uint" },
    { name: "uid", cName: "uid", ksyId: "uid", offset: 16, size: 4, kind: "uint" },
    { name: "gid", cName: "gid", ksyId: "gid", offset: 20, size: 4, kind: "uint" },
    { name: "nameLen", cName: "name_len", ksyId: "name_len", offset: 24, size: 2, kind: "uint" },
    { name: "targetLen", cName: "target_len", ksyId: "target_len", offset: 26, size: 2, kind: "uint" },
    { name: "pad", cName: "pad", ksyId: "pad", offset: 28, size: 4, kind: "bytes" },
  ],
  offsets: { parentIno: 0, newIno: 8, uid: 16, gid: 20, nameLen: 24, targetLen: 26, pad: 28 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 32, "daxfs_delta_symlink");
    const view = dataView(bytes);
    return {
      parentIno: view.getBigUint64(offset + 0, true),
      newIno: view.getBigUint64(offset + 8, true),
      uid: view.getUint32(offset + 16, true),
      gid: view.getUint32(offset + 20, true),
      nameLen: view.getUint16(offset + 24, true),
      targetLen: view.getUint16(offset + 26, true),
      pad: copyBytes(bytes, offset + 28, 4),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaSymlink) {
    checkFits(bytes, offset, 32, "daxfs_delta_symlink");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.parentIno, true);
    view.setBigUint64(offset + 8, value.newIno, true);
    view.setUint32(offset + 16, value.uid, true);
    view.setUint32(offset + 20, value.gid, true);
    view.setUint16(offset + 24, value.nameLen, true);
    view.setUint16(offset + 26, value.targetLen, true);
    putBytes(bytes, offset + 28, value.pad, 4, "daxfs_delta_symlink.pad");
  },
  zero() {
    return { parentIno: 0n, newIno: 0n, uid: 0, gid: 0, nameLen: 0, targetLen: 0, pad: new Uint8Array(4) };
  },
};

/** LINK payload (extension, superblock feature LINK): hdr.ino, an existing regular file or symlink, gains the name parent_ino/name. Same shape as the DELETE payload; the name follows at payload offset 16. */
export interface DaxfsDeltaLink {
  /** Directory the new name is made in. */
  parentIno: bigint;
  /** Length of the name that follows. */
  nameLen: number;
  flags: number;
  reserved: number;
}

export const DaxfsDeltaLink: StructCodec<DaxfsDeltaLink> = {
  cName: "daxfs_delta_link",
  ksyId: "delta_link",
  size: 16,
  fields: [
    { name: "parentIno", cName: "parent_ino", ksyId: "parent_ino", offset: 0, size: 8, kind: "uint" },
    { name: "nameLen", cName: "name_len", ksyId: "name_len", offset: 8, size: 2, kind: "uint" },
    { name: "flags", cName: "flags", ksyId: "flags", offset: 10, size: 2, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 12, size: 4, kind: "uint" },
  ],
  offsets: { parentIno: 0, nameLen: 8, flags: 10, reserved: 12 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 16, "daxfs_delta_link");
    const view = dataView(bytes);
    return {
      parentIno: view.getBigUint64(offset + 0, true),
      nameLen: view.getUint16(offset + 8, true),
      flags: view.getUint16(offset + 10, true),
      reserved: view.getUint32(offset + 12, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaLink) {
    checkFits(bytes, offset, 16, "daxfs_delta_link");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.parentIno, true);
    view.setUint16(offset + 8, value.nameLen, true);
    view.setUint16(offset + 10, value.flags, true);
    view.setUint32(offset + 12, value.reserved, true);
  },
  zero() {
    return { parentIno: 0n, nameLen: 0, flags: 0, reserved: 0 };
  },
};

/** UTIMES payload (extension, superblock feature UTIMES): utimensat(2) of hdr.ino; the times whose valid bit is set apply, ctime becomes hdr.timestamp. */
export interface DaxfsDeltaUtimes {
  /** New access time, ns since the epoch (valid bit 1). */
  atime: bigint;
  /** New modification time, ns since the epoch (valid bit 2). */
  mtime: bigint;
  /** Bit mask of utimes_valid values. */
  valid: number;
  reserved: number;
}

export const DaxfsDeltaUtimes: StructCodec<DaxfsDeltaUtimes> = {
  cName: "daxfs_delta_utimes",
  ksyId: "delta_utimes",
  size: 24,
  fields: [
    { name: "atime", cName: "atime", ksyId: "atime", offset: 0, size: 8, kind: "uint" },
    { name: "mtime", cName: "mtime", ksyId: "mtime", offset: 8, size: 8, kind: "uint" },
    { name: "valid", cName: "valid", ksyId: "valid", offset: 16, size: 4, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 20, size: 4, kind: "uint" },
  ],
  offsets: { atime: 0, mtime: 8, valid: 16, reserved: 20 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 24, "daxfs_delta_utimes");
    const view = dataView(bytes);
    return {
      atime: view.getBigUint64(offset + 0, true),
      mtime: view.getBigUint64(offset + 8, true),
      valid: view.getUint32(offset + 16, true),
      reserved: view.getUint32(offset + 20, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDeltaUtimes) {
    checkFits(bytes, offset, 24, "daxfs_delta_utimes");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.atime, true);
    view.setBigUint64(offset + 8, value.mtime, true);
    view.setUint32(offset + 16, value.valid, true);
    view.setUint32(offset + 20, value.reserved, true);
  },
  zero() {
    return { atime: 0n, mtime: 0n, valid: 0, reserved: 0 };
  },
};

/** Base superblock, one block at the start of the base image. */
export interface DaxfsBaseSuper {
  /** Must be 0x64646135 ("dda5"). */
  magic: number;
  version: number;
  /** Bit mask of base_flags values. */
  flags: number;
  blockSize: number;
  /** Bytes of the base image in use. */
  totalSize: bigint;
  /** Base-relative offset of the inode table (4096). */
  inodeOffset: bigint;
  /** Number of 64-byte inode slots. */
  inodeCount: number;
  /** Root directory inode number (1). */
  rootInode: number;
  /** Base-relative start of the data area. */
  dataOffset: bigint;
  /** Zero. */
  reserved: Uint8Array;
}

export const DaxfsBaseSuper: StructCodec<DaxfsBaseSuper> = {
  cName: "daxfs_base_super",
  ksyId: "base_super",
  size: 4096,
  fields: [
    { name: "magic", cName: "magic", ksyId: "magic", offset: 0, size: 4, kind: "uint" },
    { name: "version", cName: "version", ksyId: "version", offset: 4, size: 4, kind: "uint" },
    { name: "flags", cName: "flags", ksyId: "flags", offset: 8, size: 4, kind: "uint" },
    { name: "blockSize", cName: "block_size", ksyId: "block_size", offset: 12, size: 4, kind: "uint" },
    { name: "totalSize", cName: "total_size", ksyId: "total_size", offset: 16, size: 8, kind: "uint" },
    { name: "inodeOffset", cName: "inode_offset", ksyId: "ofs_inodes", offset: 24, size: 8, kind: "uint" },
    { name: "inodeCount", cName: "inode_count", ksyId: "num_inodes", offset: 32, size: 4, kind: "uint" },
    { name: "rootInode", cName: "root_inode", ksyId: "root_inode", offset: 36, size: 4, kind: "uint" },
    { name: "dataOffset", cName: "data_offset", ksyId: "ofs_data", offset: 40, size: 8, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 48, size: 4048, kind: "bytes" },
  ],
  offsets: { magic: 0, version: 4, flags: 8, blockSize: 12, totalSize: 16, inodeOffset: 24, inodeCount: 32, rootInode: 36, dataOffset: 40, reserved: 48 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 4096, "daxfs_base_super");
    const view = dataView(bytes);
    return {
      magic: view.getUint32(offset + 0, true),
      version: view.getUint32(offset + 4, true),
      flags: view.getUint32(offset + 8, true),
      blockSize: view.getUint32(offset + 12, true),
      totalSize: view.getBigUint64(offset + 16, true),
      inodeOffset: view.getBigUint64(offset + 24, true),
      inodeCount: view.getUint32(offset + 32, true),
      rootInode: view.getUint32(offset + 36, true),
      dataOffset: view.getBigUint64(offset + 40, true),
      reserved: copyBytes(bytes, offset + 48, 4048),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsBaseSuper) {
    checkFits(bytes, offset, 4096, "daxfs_base_super");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.magic, true);
    view.setUint32(offset + 4, value.version, true);
    view.setUint32(offset + 8, value.flags, true);
    view.setUint32(offset + 12, value.blockSize, true);
    view.setBigUint64(offset + 16, value.totalSize, true);
    view.setBigUint64(offset + 24, value.inodeOffset, true);
    view.setUint32(offset + 32, value.inodeCount, true);
    view.setUint32(offset + 36, value.rootInode, true);
    view.setBigUint64(offset + 40, value.dataOffset, true);
    putBytes(bytes, offset + 48, value.reserved, 4048, "daxfs_base_super.reserved");
  },
  zero() {
    return { magic: 0, version: 0, flags: 0, blockSize: 0, totalSize: 0n, inodeOffset: 0n, inodeCount: 0, rootInode: 0, dataOffset: 0n, reserved: new Uint8Array(4048) };
  },
};

/** One 64-byte inode slot. A slot whose ino and mode are 0 is unused. Regular files, directories and symlinks only. */
export interface DaxfsBaseInode {
  /** Inode number, slot index + 1 (0 for an unused slot). */
  ino: number;
  /** Full st_mode, type and permission bits. */
  mode: number;
  /** Owner uid. */
  uid: number;
  /** Owner gid. */
  gid: number;
  /** File size; symlink target length without the NUL; directory entry_count * 271. */
  size: bigint;
  /** Base-relative offset of the data, target or dirent array (split images: regular-file data is at this offset in the backing file). */
  dataOffset: bigint;
  /** Link count. */
  nlink: number;
  /** Zero (alignment of mtime). */
  reserved0: number;
  /** Modification time in ns since the epoch (extension, superblock feature BASE_MTIME; 0 in plain v5, ignored by the public tools). */
  mtime: bigint;
  /** Zero. */
  reserved: Uint8Array;
}

export const DaxfsBaseInode: StructCodec<DaxfsBaseInode> = {
  cName: "daxfs_base_inode",
  ksyId: "base_inode",
  size: 64,
  fields: [
    { name: "ino", cName: "ino", ksyId: "ino", offset: 0, size: 4, kind: "uint" },
    { name: "mode", cName: "mode", ksyId: "mode", offset: 4, size: 4, kind: "uint" },
    { name: "uid", cName: "uid", ksyId: "uid", offset: 8, size: 4, kind: "uint" },
    { name: "gid", cName: "gid", ksyId: "gid", offset: 12, size: 4, kind: "uint" },
    { name: "size", cName: "size", ksyId: "size", offset: 16, size: 8, kind: "uint" },
    { name: "dataOffset", cName: "data_offset", ksyId: "ofs_data", offset: 24, size: 8, kind: "uint" },
    { name: "nlink", cName: "nlink", ksyId: "nlink", offset: 32, size: 4, kind: "uint" },
    { name: "reserved0", cName: "reserved0", ksyId: "reserved0", offset: 36, size: 4, kind: "uint" },
    { name: "mtime", cName: "mtime", ksyId: "mtime", offset: 40, size: 8, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 48, size: 16, kind: "bytes" },
  ],
  offsets: { ino: 0, mode: 4, uid: 8, gid: 12, size: 16, dataOffset: 24, nlink: 32, reserved0: 36, mtime: 40, reserved: 48 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 64, "daxfs_base_inode");
    const view = dataView(bytes);
    return {
      ino: view.getUint32(offset + 0, true),
      mode: view.getUint32(offset + 4, true),
      uid: view.getUint32(offset + 8, true),
      gid: view.getUint32(offset + 12, true),
      size: view.getBigUint64(offset + 16, true),
      dataOffset: view.getBigUint64(offset + 24, true),
      nlink: view.getUint32(offset + 32, true),
      reserved0: view.getUint32(offset + 36, true),
      mtime: view.getBigUint64(offset + 40, true),
      reserved: copyBytes(bytes, offset + 48, 16),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsBaseInode) {
    checkFits(bytes, offset, 64, "daxfs_base_inode");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.ino, true);
    view.setUint32(offset + 4, value.mode, true);
    view.setUint32(offset + 8, value.uid, true);
    view.setUint32(offset + 12, value.gid, true);
    view.setBigUint64(offset + 16, value.size, true);
    view.setBigUint64(offset + 24, value.dataOffset, true);
    view.setUint32(offset + 32, value.nlink, true);
    view.setUint32(offset + 36, value.reserved0, true);
    view.setBigUint64(offset + 40, value.mtime, true);
    putBytes(bytes, offset + 48, value.reserved, 16, "daxfs_base_inode.reserved");
  },
  zero() {
    return { ino: 0, mode: 0, uid: 0, gid: 0, size: 0n, dataOffset: 0n, nlink: 0, reserved0: 0, mtime: 0n, reserved: new Uint8Array(16) };
  },
};

/** Directory entry: 271 bytes of fields, padded to a 272-byte stride. */
export interface DaxfsDirent {
  /** Child inode number. */
  ino: number;
  /** Child st_mode, for the readdir type without reading the inode. */
  mode: number;
  /** Name length, 1..255. */
  nameLen: number;
  /** Zero. */
  reserved: Uint8Array;
  /** Name bytes (name_len used, the rest zero); no '/' or NUL. */
  name: Uint8Array;
  /** Structure padding to the 272-byte stride, zero. */
  pad: Uint8Array;
}

export const DaxfsDirent: StructCodec<DaxfsDirent> = {
  cName: "daxfs_dirent",
  ksyId: "dirent",
  size: 272,
  fields: [
    { name: "ino", cName: "ino", ksyId: "ino", offset: 0, size: 4, kind: "uint" },
    { name: "mode", cName: "mode", ksyId: "mode", offset: 4, size: 4, kind: "uint" },
    { name: "nameLen", cName: "name_len", ksyId: "name_len", offset: 8, size: 2, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 10, size: 6, kind: "bytes" },
    { name: "name", cName: "name", ksyId: "name_bytes", offset: 16, size: 255, kind: "bytes" },
    { name: "pad", cName: "pad", ksyId: "pad", offset: 271, size: 1, kind: "bytes" },
  ],
  offsets: { ino: 0, mode: 4, nameLen: 8, reserved: 10, name: 16, pad: 271 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 272, "daxfs_dirent");
    const view = dataView(bytes);
    return {
      ino: view.getUint32(offset + 0, true),
      mode: view.getUint32(offset + 4, true),
      nameLen: view.getUint16(offset + 8, true),
      reserved: copyBytes(bytes, offset + 10, 6),
      name: copyBytes(bytes, offset + 16, 255),
      pad: copyBytes(bytes, offset + 271, 1),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsDirent) {
    checkFits(bytes, offset, 272, "daxfs_dirent");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.ino, true);
    view.setUint32(offset + 4, value.mode, true);
    view.setUint16(offset + 8, value.nameLen, true);
    putBytes(bytes, offset + 10, value.reserved, 6, "daxfs_dirent.reserved");
    putBytes(bytes, offset + 16, value.name, 255, "daxfs_dirent.name");
    putBytes(bytes, offset + 271, value.pad, 1, "daxfs_dirent.pad");
  },
  zero() {
    return { ino: 0, mode: 0, nameLen: 0, reserved: new Uint8Array(6), name: new Uint8Array(255), pad: new Uint8Array(1) };
  },
};

/** Page-cache header, one block at pcache_offset. */
export interface DaxfsPcacheHeader {
  /** Must be 0x70636163 ("pcac"). */
  magic: number;
  version: number;
  /** Slot count, a power of two. */
  slotCount: number;
  /** log2 of the slot count. */
  hashShift: number;
  /** Slot records, relative to pcache_offset (4096). */
  slotMetaOffset: bigint;
  /** Slot data blocks, relative to pcache_offset. */
  slotDataOffset: bigint;
  /** Clock hand of the eviction sweep. */
  evictHand: number;
  /** Slots in the PENDING state. */
  pendingCount: number;
  /** Zero. */
  reserved: Uint8Array;
}

export const DaxfsPcacheHeader: StructCodec<DaxfsPcacheHeader> = {
  cName: "daxfs_pcache_header",
  ksyId: "pcache_header",
  size: 4096,
  fields: [
    { name: "magic", cName: "magic", ksyId: "magic", offset: 0, size: 4, kind: "uint" },
    { name: "version", cName: "version", ksyId: "version", offset: 4, size: 4, kind: "uint" },
    { name: "slotCount", cName: "slot_count", ksyId: "num_slots", offset: 8, size: 4, kind: "uint" },
    { name: "hashShift", cName: "hash_shift", ksyId: "hash_shift", offset: 12, size: 4, kind: "uint" },
    { name: "slotMetaOffset", cName: "slot_meta_offset", ksyId: "ofs_slot_meta", offset: 16, size: 8, kind: "uint" },
    { name: "slotDataOffset", cName: "slot_data_offset", ksyId: "ofs_slot_data", offset: 24, size: 8, kind: "uint" },
    { name: "evictHand", cName: "evict_hand", ksyId: "evict_hand", offset: 32, size: 4, kind: "uint" },
    { name: "pendingCount", cName: "pending_count", ksyId: "pending_count", offset: 36, size: 4, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 40, size: 4056, kind: "bytes" },
  ],
  offsets: { magic: 0, version: 4, slotCount: 8, hashShift: 12, slotMetaOffset: 16, slotDataOffset: 24, evictHand: 32, pendingCount: 36, reserved: 40 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 4096, "daxfs_pcache_header");
    const view = dataView(bytes);
    return {
      magic: view.getUint32(offset + 0, true),
      version: view.getUint32(offset + 4, true),
      slotCount: view.getUint32(offset + 8, true),
      hashShift: view.getUint32(offset + 12, true),
      slotMetaOffset: view.getBigUint64(offset + 16, true),
      slotDataOffset: view.getBigUint64(offset + 24, true),
      evictHand: view.getUint32(offset + 32, true),
      pendingCount: view.getUint32(offset + 36, true),
      reserved: copyBytes(bytes, offset + 40, 4056),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsPcacheHeader) {
    checkFits(bytes, offset, 4096, "daxfs_pcache_header");
    const view = dataView(bytes);
    view.setUint32(offset + 0, value.magic, true);
    view.setUint32(offset + 4, value.version, true);
    view.setUint32(offset + 8, value.slotCount, true);
    view.setUint32(offset + 12, value.hashShift, true);
    view.setBigUint64(offset + 16, value.slotMetaOffset, true);
    view.setBigUint64(offset + 24, value.slotDataOffset, true);
    view.setUint32(offset + 32, value.evictHand, true);
    view.setUint32(offset + 36, value.pendingCount, true);
    putBytes(bytes, offset + 40, value.reserved, 4056, "daxfs_pcache_header.reserved");
  },
  zero() {
    return { magic: 0, version: 0, slotCount: 0, hashShift: 0, slotMetaOffset: 0n, slotDataOffset: 0n, evictHand: 0, pendingCount: 0, reserved: new Uint8Array(4056) };
  },
};

/** One cache slot record; every transition is a compare-and-swap. */
export interface DaxfsPcacheSlot {
  /** Bits 1..0 pcache_state; bits 63..2 the backing page index. */
  stateTag: bigint;
  /** Set on access, cleared by the clock sweep. */
  refBit: number;
  reserved: number;
}

export const DaxfsPcacheSlot: StructCodec<DaxfsPcacheSlot> = {
  cName: "daxfs_pcache_slot",
  ksyId: "pcache_slot",
  size: 16,
  fields: [
    { name: "stateTag", cName: "state_tag", ksyId: "state_tag", offset: 0, size: 8, kind: "uint" },
    { name: "refBit", cName: "ref_bit", ksyId: "ref_bit", offset: 8, size: 4, kind: "uint" },
    { name: "reserved", cName: "reserved", ksyId: "reserved", offset: 12, size: 4, kind: "uint" },
  ],
  offsets: { stateTag: 0, refBit: 8, reserved: 12 },
  decode(bytes: Uint8Array, offset = 0) {
    checkFits(bytes, offset, 16, "daxfs_pcache_slot");
    const view = dataView(bytes);
    return {
      stateTag: view.getBigUint64(offset + 0, true),
      refBit: view.getUint32(offset + 8, true),
      reserved: view.getUint32(offset + 12, true),
    };
  },
  encode(bytes: Uint8Array, offset: number, value: DaxfsPcacheSlot) {
    checkFits(bytes, offset, 16, "daxfs_pcache_slot");
    const view = dataView(bytes);
    view.setBigUint64(offset + 0, value.stateTag, true);
    view.setUint32(offset + 8, value.refBit, true);
    view.setUint32(offset + 12, value.reserved, true);
  },
  zero() {
    return { stateTag: 0n, refBit: 0, reserved: 0 };
  },
};

/** Every generated struct codec, in dependency order. */
export const ALL_STRUCTS = [DaxfsGlobalCoord, DaxfsSuper, DaxfsBranch, DaxfsDeltaHdr, DaxfsDeltaWrite, DaxfsDeltaCreate, DaxfsDeltaDelete, DaxfsDeltaTruncate, DaxfsDeltaRename, DaxfsDeltaSetattr, DaxfsDeltaSymlink, DaxfsDeltaLink, DaxfsDeltaUtimes, DaxfsBaseSuper, DaxfsBaseInode, DaxfsDirent, DaxfsPcacheHeader, DaxfsPcacheSlot] as const;
