// Delta log entries (SPEC 1.5, OVERVIEW 4): the decoded form every reader and writer shares, and
// the per-type facts (payload struct sizes, name rules) decoding and encoding both rely on.
import {
  DaxfsDeltaCreate,
  DaxfsDeltaDelete,
  DaxfsDeltaLink,
  DaxfsDeltaRename,
  DaxfsDeltaSetattr,
  DaxfsDeltaSymlink,
  DaxfsDeltaTruncate,
  DaxfsDeltaUtimes,
  DaxfsDeltaWrite,
  DeltaType,
  SetattrValid,
  SuperFeature,
  UtimesValid,
} from "@daxfs/format";

/** Longest symlink target a writer may record (Linux PATH_MAX less the NUL; SPEC 3.8.2). */
export const SYMLINK_TARGET_MAX = 4095;

interface DeltaEntryCommon {
  /** Absolute image offset of the entry's first byte. */
  offset: number;
  totalSize: number;
  /** `hdr.ino`: the inode the entry is about (per type, SPEC 1.5.2-1.5.8). */
  ino: number;
  /** Informational; log order, not time, is authoritative. */
  timestamp: bigint;
}

export interface WriteEntry extends DeltaEntryCommon {
  type: DeltaType.WRITE;
  fileOffset: number;
  length: number;
  flags: number;
  /** Absolute offset of the data: the last `length` bytes of the entry (NOTES.md item 8). */
  dataOffset: number;
}

export interface CreateEntry extends DeltaEntryCommon {
  type: DeltaType.CREATE | DeltaType.MKDIR;
  parentIno: number;
  newIno: number;
  /** Full st_mode as recorded (type bits may be 0 in foreign logs; replay supplies them). */
  mode: number;
  uid: number;
  gid: number;
  name: string;
}

export interface DeleteEntry extends DeltaEntryCommon {
  type: DeltaType.DELETE;
  parentIno: number;
  name: string;
}

export interface TruncateEntry extends DeltaEntryCommon {
  type: DeltaType.TRUNCATE;
  newSize: number;
}

export interface RenameEntry extends DeltaEntryCommon {
  type: DeltaType.RENAME;
  oldParentIno: number;
  newParentIno: number;
  renamedIno: number;
  oldName: string;
  newName: string;
}

export interface SetattrEntry extends DeltaEntryCommon {
  type: DeltaType.SETATTR;
  mode: number;
  uid: number;
  gid: number;
  /** Bit mask of SetattrValid. */
  valid: number;
  size: number;
}

export interface SymlinkEntry extends DeltaEntryCommon {
  type: DeltaType.SYMLINK;
  parentIno: number;
  newIno: number;
  uid: number;
  gid: number;
  name: string;
  target: string;
}

/** LINK (extension, superblock feature LINK): `ino`, a file or symlink, gains `parentIno`/`name`. */
export interface LinkEntry extends DeltaEntryCommon {
  type: DeltaType.LINK;
  parentIno: number;
  name: string;
}

/** UTIMES (extension, superblock feature UTIMES): utimensat(2) of `ino`; times in ns since the epoch. */
export interface UtimesEntry extends DeltaEntryCommon {
  type: DeltaType.UTIMES;
  atime: bigint;
  mtime: bigint;
  /** Bit mask of UtimesValid. */
  valid: number;
}

export type DeltaEntry =
  | LinkEntry
  | UtimesEntry
  | WriteEntry
  | CreateEntry
  | DeleteEntry
  | TruncateEntry
  | RenameEntry
  | SetattrEntry
  | SymlinkEntry;

/** An entry to be written: no position yet; the timestamp defaults to 0. */
type Fresh<T> = Omit<T, "offset" | "totalSize" | "timestamp"> & { timestamp?: bigint };
export type NewWriteEntry = Omit<Fresh<WriteEntry>, "length" | "dataOffset" | "flags"> & {
  data: Uint8Array;
  flags?: number;
};
export type NewDeltaEntry =
  | NewWriteEntry
  | Fresh<CreateEntry>
  | Fresh<DeleteEntry>
  | Fresh<TruncateEntry>
  | Fresh<RenameEntry>
  | Fresh<SetattrEntry>
  | Fresh<SymlinkEntry>
  | Fresh<LinkEntry>
  | Fresh<UtimesEntry>;

/** Payload struct of each type; trailing bytes start at entry offset 24 + its size. */
export const PAYLOAD_SIZE: Record<DeltaType, number> = {
  [DeltaType.WRITE]: DaxfsDeltaWrite.size,
  [DeltaType.CREATE]: DaxfsDeltaCreate.size,
  [DeltaType.DELETE]: DaxfsDeltaDelete.size,
  [DeltaType.TRUNCATE]: DaxfsDeltaTruncate.size,
  [DeltaType.MKDIR]: DaxfsDeltaCreate.size,
  [DeltaType.RENAME]: DaxfsDeltaRename.size,
  [DeltaType.SETATTR]: DaxfsDeltaSetattr.size,
  [DeltaType.SYMLINK]: DaxfsDeltaSymlink.size,
  [DeltaType.LINK]: DaxfsDeltaLink.size,
  [DeltaType.UTIMES]: DaxfsDeltaUtimes.size,
};

/**
 * The superblock feature an entry type needs (docs/semantics.md "Extensions"), 0 for plain v5
 * types. A writer sets the bit before the first such entry is published; every reader and the
 * validator refuse such an entry in an image that does not announce it.
 */
export function featureOfType(type: DeltaType): number {
  if (type === DeltaType.LINK) return SuperFeature.LINK;
  if (type === DeltaType.UTIMES) return SuperFeature.UTIMES;
  return 0;
}

/** Every feature bit this implementation knows; others make an image "unsupported". */
export const KNOWN_FEATURES = SuperFeature.LINK | SuperFeature.UTIMES | SuperFeature.BASE_MTIME;

/** Names of the feature bits set in `flags` (unknown bits as hex), for tools to print. */
export function featureNames(flags: number): string[] {
  const names: string[] = [];
  for (const [bit, name] of [
    [SuperFeature.LINK, "link"],
    [SuperFeature.UTIMES, "utimes"],
    [SuperFeature.BASE_MTIME, "base_mtime"],
  ] as const)
    if (flags & bit) names.push(name);
  const unknown = flags & ~KNOWN_FEATURES;
  if (unknown) names.push(`0x${(unknown >>> 0).toString(16)}`);
  return names;
}

export const UTIMES_KNOWN_BITS = UtimesValid.ATIME | UtimesValid.MTIME;

export const SETATTR_KNOWN_BITS = SetattrValid.MODE | SetattrValid.UID | SetattrValid.GID | SetattrValid.SIZE;
export const U32_MAX = 0xffff_ffff;

export function deltaTypeName(type: number): string {
  return DeltaType[type] ?? `type ${type}`;
}
