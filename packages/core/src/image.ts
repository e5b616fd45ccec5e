// An opened DAXFS image (OVERVIEW 1, SPEC 1.3-1.4): the superblock, the regions it names, the
// branch table and the branch logs. Every structure is re-read from the source when asked for,
// because other processes and kernels change the shared memory underneath (SPEC 3.8).
import { BranchState, DAXFS_BRANCH_NAME_MAX, DaxfsBranch, type DaxfsSuper } from "@daxfs/format";
import { BaseImage } from "./base/base-image.js";
import { PageCacheReader } from "./base/page-cache.js";
import {
  type BranchRecord,
  checkLogExtent,
  decodeBranchRecord,
  resolveBranchChain,
} from "./branch-record.js";
import { type DeltaEntry, decodeDeltaLog, type LogRegion } from "./delta/entry.js";
import { CorruptImageError, DaxfsError } from "./errors.js";
import { decodeGeometry, decodeSuperblock, type ImageGeometry } from "./geometry.js";
import { FileImage, type ImageSource } from "./image-source.js";
import { throwOnProblem } from "./problems.js";
import { BranchView } from "./view.js";

const utf8 = new TextDecoder("utf-8");

export interface OpenOptions {
  /** The backing file of a split image (SPEC 2.9), for regular-file data. */
  backing?: ImageSource;
}

export class DaxfsImage {
  /** The regions the superblock names, as decoded at open (they do not move while mounted). */
  readonly geometry: ImageGeometry;
  readonly base: BaseImage | null;
  /** Absolute extent of the delta region, or null in a static image. */
  readonly deltaRegion: LogRegion | null;
  private readonly branchTableOffset: number;
  private readonly branchTableEntries: number;

  private constructor(
    readonly source: ImageSource,
    options: OpenOptions,
  ) {
    this.geometry = decodeGeometry(source, this.readSuper(), this.problems());
    const { base, pcache, branchTable, delta } = this.geometry;
    const pageCache = pcache ? new PageCacheReader(source, pcache) : undefined;
    this.base = base ? new BaseImage(source, base.offset, base.size, options.backing, pageCache) : null;
    this.branchTableEntries = branchTable?.entries ?? 0;
    this.branchTableOffset = branchTable?.offset ?? 0;
    this.deltaRegion = delta;
  }

  /** The sink of every decoder this image runs: the first problem throws, naming the image. */
  private problems() {
    return throwOnProblem(this.source.name);
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
    return decodeSuperblock(this.source, this.problems()) as DaxfsSuper;
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
  readBranchRecord(slot: number): BranchRecord | null {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.branchTableEntries) {
      throw new DaxfsError("EINVAL", `branch slot ${slot} is outside 0..${this.branchTableEntries - 1}`);
    }
    const at = this.branchSlotOffset(slot);
    return decodeBranchRecord(this.source.read(at, DaxfsBranch.size), 0, slot, at, this.problems());
  }

  /** Every non-FREE slot, in slot order, as it is now. */
  branches(): BranchRecord[] {
    if (this.branchTableEntries === 0) return [];
    const table = this.source.read(this.branchTableOffset, this.branchTableEntries * DaxfsBranch.size);
    const records: BranchRecord[] = [];
    for (let slot = 0; slot < this.branchTableEntries; slot++) {
      const record = decodeBranchRecord(
        table,
        slot * DaxfsBranch.size,
        slot,
        this.branchSlotOffset(slot),
        this.problems(),
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
    if (this.branchTableEntries === 0 || wanted.length === 0) return undefined;
    // Raw bytes first (a long-lived table is mostly nameless dead records): decode a slot only
    // when its name field starts with the wanted bytes.
    const table = this.source.read(this.branchTableOffset, this.branchTableEntries * DaxfsBranch.size);
    const nameAt = DaxfsBranch.offsets.name;
    for (let slot = 0; slot < this.branchTableEntries; slot++) {
      const field = slot * DaxfsBranch.size + nameAt;
      if (table[field] !== wanted[0] || table[field + 1] !== (wanted[1] ?? 0)) continue;
      const record = this.readBranchRecord(slot);
      if (
        record &&
        record.state !== BranchState.COMMITTED &&
        record.name !== "" &&
        record.name === wantedName
      )
        return record;
    }
    return undefined;
  }

  /** The branch with id `id`; only FREE slots are ignored (SPEC 1.4). */
  findBranchById(id: number): BranchRecord | undefined {
    return this.branches().find((record) => record.id === id);
  }

  /** The chain from `record` up to main: [record, parent, ..., main]. */
  branchChain(record: BranchRecord): BranchRecord[] {
    const byId = new Map(this.branches().map((r) => [r.id, r]));
    return resolveBranchChain(
      record,
      byId,
      (slot) => this.branchSlotOffset(slot),
      this.problems(),
    ) as BranchRecord[];
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
    checkLogExtent(record, at, this.deltaRegion, "delta region", this.problems());
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
