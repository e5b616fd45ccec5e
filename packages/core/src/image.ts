// An opened DAXFS image (OVERVIEW 1, SPEC 1.3-1.4): the superblock, the regions it names, the
// branch table and the branch logs. Every structure is re-read from the source when asked for,
// because other processes and kernels change the shared memory underneath (SPEC 3.8).
import {
  BranchState,
  DAXFS_BRANCH_NAME_MAX,
  DAXFS_SUPER_MAGIC,
  DAXFS_VERSION,
  DaxfsBranch,
  DaxfsSuper,
} from "@daxfs/format";
import { BaseImage } from "./base/base-image.js";
import { PageCacheReader } from "./base/page-cache.js";
import { type DeltaEntry, decodeDeltaLog, type LogRegion } from "./delta/entry.js";
import { CorruptImageError, DaxfsError, toSafeNumber } from "./errors.js";
import { FileImage, type ImageSource } from "./image-source.js";
import { BranchView } from "./view.js";

/** One non-FREE slot of the branch table, with u64 fields as exact numbers. */
export interface BranchRecord {
  slot: number;
  id: number;
  parentId: number;
  /** Empty once committed or aborted explicitly (SPEC 1.4). */
  name: string;
  state: BranchState;
  /** Absolute offset of the log. */
  logOffset: number;
  logSize: number;
  logCapacity: number;
  refcount: number;
  nextLocalIno: number;
  generation: number;
}

export interface OpenOptions {
  /** The backing file of a split image (SPEC 2.9), for regular-file data. */
  backing?: ImageSource;
}

const utf8 = new TextDecoder("utf-8");

/** Name bytes of a branch record: up to the first NUL, at most 32 bytes (SPEC 1.4). */
function branchNameBytes(field: Uint8Array): Uint8Array {
  const nul = field.indexOf(0);
  return field.subarray(0, nul < 0 ? field.length : nul);
}

export class DaxfsImage {
  readonly base: BaseImage | null;
  /** Absolute extent of the delta region, or null in a static image. */
  readonly deltaRegion: LogRegion | null;
  private readonly branchTableOffset: number;
  private readonly branchTableEntries: number;

  private constructor(
    readonly source: ImageSource,
    options: OpenOptions,
  ) {
    const sb = this.readSuper();
    const region = (
      offsetField: bigint,
      sizeField: bigint,
      what: string,
    ): { offset: number; size: number } => {
      const offset = toSafeNumber(offsetField, `superblock: ${what} offset`, 0);
      const size = toSafeNumber(sizeField, `superblock: ${what} size`, 0);
      if (offset !== 0 && (offset < DaxfsSuper.size || offset + size > source.size)) {
        throw new CorruptImageError(
          `${source.name}: ${what} [${offset}, ${offset + size}) lies outside the ${source.size}-byte image`,
          0,
        );
      }
      return { offset, size };
    };
    const base = region(sb.baseOffset, sb.baseSize, "base image");
    const pcache = region(sb.pcacheOffset, sb.pcacheSize, "page cache");
    const pageCache =
      pcache.offset === 0 ? undefined : new PageCacheReader(source, pcache.offset, pcache.size);
    this.base =
      base.offset === 0 ? null : new BaseImage(source, base.offset, base.size, options.backing, pageCache);
    this.branchTableEntries = sb.branchTableEntries;
    this.branchTableOffset = region(
      sb.branchTableOffset,
      BigInt(sb.branchTableEntries * DaxfsBranch.size),
      "branch table",
    ).offset;
    if (this.branchTableEntries !== 0 && this.branchTableOffset === 0) {
      throw new CorruptImageError(
        `${source.name}: ${this.branchTableEntries} branch slots but no branch table offset`,
        0,
      );
    }
    const delta = region(sb.deltaRegionOffset, sb.deltaRegionSize, "delta region");
    this.deltaRegion = delta.offset === 0 ? null : delta;
  }

  /** Opens an image; checks the magic, the version and that every region lies inside it. */
  static open(source: ImageSource, options: OpenOptions = {}): DaxfsImage {
    return new DaxfsImage(source, options);
  }

  static openFile(path: string, options: { writable?: boolean; backing?: string } = {}): DaxfsImage {
    const source = FileImage.open(path, { writable: options.writable ?? false });
    let backing: ImageSource | undefined;
    try {
      backing = options.backing === undefined ? undefined : FileImage.open(options.backing);
      return new DaxfsImage(source, backing ? { backing } : {});
    } catch (error) {
      backing?.close();
      source.close();
      throw error;
    }
  }

  /** The superblock as it is now (a fresh read each call). */
  readSuper(): DaxfsSuper {
    if (this.source.size < DaxfsSuper.size) {
      throw new CorruptImageError(
        `${this.source.name}: ${this.source.size} bytes is too small for a DAXFS superblock`,
        0,
      );
    }
    const sb = DaxfsSuper.decode(this.source.read(0, DaxfsSuper.size));
    if (sb.magic !== DAXFS_SUPER_MAGIC) {
      throw new CorruptImageError(
        `${this.source.name}: bad magic 0x${sb.magic.toString(16)} (expected 0x${DAXFS_SUPER_MAGIC.toString(16)})`,
        0,
      );
    }
    if (sb.version !== DAXFS_VERSION)
      throw new CorruptImageError(`${this.source.name}: unsupported format version ${sb.version}`, 0);
    return sb;
  }

  /** True when the image has a branch table (made with -b). */
  get branching(): boolean {
    return this.branchTableEntries !== 0;
  }

  get branchSlotCount(): number {
    return this.branchTableEntries;
  }

  /** Absolute offset of branch slot `slot`. */
  branchSlotOffset(slot: number): number {
    return this.branchTableOffset + slot * DaxfsBranch.size;
  }

  /** The record in `slot` as it is now, or null if the slot is FREE. */
  readBranchSlot(slot: number): BranchRecord | null {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.branchTableEntries) {
      throw new DaxfsError("EINVAL", `branch slot ${slot} is outside 0..${this.branchTableEntries - 1}`);
    }
    const at = this.branchSlotOffset(slot);
    return toBranchRecord(slot, DaxfsBranch.decode(this.source.read(at, DaxfsBranch.size)), at);
  }

  /** Every non-FREE slot, in slot order, as it is now. */
  branches(): BranchRecord[] {
    if (this.branchTableEntries === 0) return [];
    const table = this.source.read(this.branchTableOffset, this.branchTableEntries * DaxfsBranch.size);
    const records: BranchRecord[] = [];
    for (let slot = 0; slot < this.branchTableEntries; slot++) {
      const record = toBranchRecord(
        slot,
        DaxfsBranch.decode(table, slot * DaxfsBranch.size),
        this.branchSlotOffset(slot),
      );
      if (record) records.push(record);
    }
    return records;
  }

  /**
   * The branch named `name` (SPEC 1.4): FREE and COMMITTED slots are ignored, named ABORTED ones
   * (siblings invalidated by a commit) are found; names compare over at most 32 bytes.
   */
  findBranch(name: string): BranchRecord | undefined {
    const wanted = new TextEncoder().encode(name).subarray(0, DAXFS_BRANCH_NAME_MAX + 1);
    const wantedName = utf8.decode(wanted);
    return this.branches().find(
      (record) => record.state !== BranchState.COMMITTED && record.name !== "" && record.name === wantedName,
    );
  }

  /** The branch with id `id`; only FREE slots are ignored (SPEC 1.4). */
  findBranchById(id: number): BranchRecord | undefined {
    return this.branches().find((record) => record.id === id);
  }

  /** The chain from `record` up to main: [record, parent, ..., main]. */
  branchChain(record: BranchRecord): BranchRecord[] {
    const records = this.branches();
    const byId = new Map(records.map((r) => [r.id, r]));
    const chain = [record];
    let current = record;
    while (current.parentId !== 0) {
      const parent = byId.get(current.parentId);
      if (!parent) {
        throw new CorruptImageError(
          `branch ${JSON.stringify(current.name)} (id ${current.id}): parent id ${current.parentId} is not in the branch table`,
          this.branchSlotOffset(current.slot),
        );
      }
      if (chain.length > records.length) {
        throw new CorruptImageError(
          `branch ${JSON.stringify(record.name)} (id ${record.id}): its parent chain has a cycle`,
          this.branchSlotOffset(record.slot),
        );
      }
      chain.push(parent);
      current = parent;
    }
    return chain;
  }

  /** The entries of a branch's log, bounds-checked against the delta region. */
  readBranchLog(record: BranchRecord): DeltaEntry[] {
    return decodeDeltaLog(this.source, record.logOffset, record.logSize, this.logRegion(record));
  }

  /** Checks a record's log extent (offset, size <= capacity, inside the delta region) and returns the region. */
  logRegion(record: BranchRecord): LogRegion {
    const at = this.branchSlotOffset(record.slot);
    if (!this.deltaRegion)
      throw new CorruptImageError(`branch ${JSON.stringify(record.name)}: the image has no delta region`, at);
    const { offset, size } = this.deltaRegion;
    if (
      record.logSize > record.logCapacity ||
      record.logOffset < offset ||
      record.logOffset + record.logCapacity > offset + size
    ) {
      throw new CorruptImageError(
        `branch ${JSON.stringify(record.name)} (id ${record.id}): log [${record.logOffset}, +${record.logCapacity}) with ${record.logSize} bytes used does not fit the delta region [${offset}, ${offset + size})`,
        at,
      );
    }
    return this.deltaRegion;
  }

  /** A live view of a branch ("main" by default): its chain replayed over the base (OVERVIEW 4). */
  view(branch = "main"): BranchView {
    return new BranchView(this, branch);
  }

  close(): void {
    this.base?.backing?.close();
    this.source.close();
  }
}

function toBranchRecord(slot: number, raw: DaxfsBranch, at: number): BranchRecord | null {
  if (raw.state === BranchState.FREE) return null;
  if (raw.state > BranchState.ABORTED)
    throw new CorruptImageError(`branch slot ${slot}: unknown state ${raw.state}`, at);
  return {
    slot,
    id: toSafeNumber(raw.branchId, `branch slot ${slot}: id`, at),
    parentId: toSafeNumber(raw.parentId, `branch slot ${slot}: parent id`, at),
    name: utf8.decode(branchNameBytes(raw.name)),
    state: raw.state as BranchState,
    logOffset: toSafeNumber(raw.deltaLogOffset, `branch slot ${slot}: log offset`, at),
    logSize: toSafeNumber(raw.deltaLogSize, `branch slot ${slot}: log size`, at),
    logCapacity: toSafeNumber(raw.deltaLogCapacity, `branch slot ${slot}: log capacity`, at),
    refcount: raw.refcount,
    nextLocalIno: toSafeNumber(raw.nextLocalIno, `branch slot ${slot}: next inode`, at),
    generation: raw.generation,
  };
}
