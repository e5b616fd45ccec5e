// The TUI's one handle on its target: the opened image (or why it could not be opened), cached
// branch views and the lazy reads every pane asks for. Everything goes through @daxfs/core's public
// API and @daxfs/inspect's exported helpers; nothing here decodes bytes.
import {
  type BranchRecord,
  type BranchView,
  DaxfsImage,
  type DeltaEntry,
  type DirEntry,
  decodeDeltaLogPrefix,
  type ImageSource,
  isDaxfsError,
  type Stat,
  type ValidationReport,
  validate,
} from "@daxfs/core";
import { BranchState } from "@daxfs/format";
import { type BranchDiff, diffBranches } from "@daxfs/inspect";

/** One row of the branch tree: a record and its depth under main. */
export interface BranchRow {
  record: BranchRecord;
  depth: number;
}

/** The image-wide numbers the header shows (commit sequence, lock, delta region use). */
export interface ImageSummary {
  name: string;
  mode: "static" | "branching";
  commitSequence: bigint;
  lockHeld: boolean;
  deltaUsed: number;
  deltaSize: number;
  inodeCount: number;
}

/** A value or the error that stopped reading it, as one line. */
export type Loaded<T> = { ok: true; value: T } | { ok: false; error: string; stale: boolean };

export function load<T>(read: () => T): Loaded<T> {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    const stale = isDaxfsError(error, "ESTALE");
    return { ok: false, error: error.message, stale };
  }
}

export class Session {
  private views = new Map<string, BranchView>();

  private constructor(
    readonly source: ImageSource,
    readonly image: DaxfsImage | null,
    /** Why DaxfsImage.open refused the image; the TUI then opens in the validation view. */
    readonly openError: string | null,
    private readonly backingSize?: number,
  ) {}

  /** Opens `source`; a corrupt image gives a session with no image and the reason. */
  static open(source: ImageSource, options: { backing?: ImageSource } = {}): Session {
    try {
      const image = DaxfsImage.open(source, options.backing ? { backing: options.backing } : {});
      return new Session(source, image, null, options.backing?.size);
    } catch (error) {
      if (!(error instanceof Error) || !(isDaxfsError(error) || error instanceof RangeError)) throw error;
      return new Session(source, null, error.message, options.backing?.size);
    }
  }

  summary(): ImageSummary | null {
    const image = this.image;
    if (!image) return null;
    const sb = image.readSuper();
    const deltaUsed = sb.deltaRegionOffset === 0n ? 0 : Number(sb.deltaAllocOffset - sb.deltaRegionOffset);
    return {
      name: this.source.name,
      mode: image.branching ? "branching" : "static",
      commitSequence: sb.coord.commitSequence,
      lockHeld: sb.coord.coordLock !== 0,
      deltaUsed,
      deltaSize: Number(sb.deltaRegionSize),
      inodeCount: image.base?.superblock.inodeCount ?? 0,
    };
  }

  /** The branch hierarchy, depth first from the roots (main), children in slot order. */
  branchRows(): BranchRow[] {
    const records = this.image?.branches() ?? [];
    const ids = new Set(records.map((r) => r.id));
    const children = new Map<number, BranchRecord[]>();
    for (const record of records) {
      const key = record.parentId !== 0 && ids.has(record.parentId) ? record.parentId : 0;
      children.set(key, [...(children.get(key) ?? []), record]);
    }
    const rows: BranchRow[] = [];
    const seen = new Set<number>();
    const stack = [...(children.get(0) ?? [])].reverse().map((record) => ({ record, depth: 0 }));
    while (stack.length > 0) {
      const row = stack.pop() as BranchRow;
      if (seen.has(row.record.id)) continue;
      seen.add(row.record.id);
      rows.push(row);
      for (const child of [...(children.get(row.record.id) ?? [])].reverse())
        stack.push({ record: child, depth: row.depth + 1 });
    }
    // Records on a parent cycle are still listed, flat, so nothing in the table is hidden.
    for (const record of records) if (!seen.has(record.id)) rows.push({ record, depth: 0 });
    return rows;
  }

  /**
   * What changes when the target is written to underneath: the commit sequence, the delta
   * allocation and every record's state, generation and log size. Polled by the live refresh.
   */
  fingerprint(): string {
    const image = this.image;
    if (!image) return "";
    try {
      const sb = image.readSuper();
      const records = image.branches().map((r) => `${r.id}:${r.state}:${r.generation}:${r.logSize}`);
      return `${sb.coord.commitSequence}/${sb.deltaAllocOffset}/${sb.nextBranchId}/${records.join(",")}`;
    } catch (error) {
      return error instanceof Error ? `error:${error.message}` : "error";
    }
  }

  /**
   * The live view of a branch, kept between calls; one that went stale (its branch committed or
   * aborted) is made again, so a new branch of the same name is seen, and an invalidated one fails
   * with ESTALE.
   */
  view(branch: string): BranchView {
    if (!this.image) throw new Error(this.openError ?? "the image is not open");
    const cached = this.views.get(branch);
    if (cached) {
      try {
        cached.refresh();
        return cached;
      } catch (error) {
        if (!isDaxfsError(error, "ESTALE")) throw error;
        this.views.delete(branch);
      }
    }
    const view = this.image.view(branch);
    this.views.set(branch, view);
    return view;
  }

  /** A directory's entries, names sorted. */
  readdir(branch: string, ino: number): DirEntry[] {
    return this.view(branch)
      .readdir(ino)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  stat(branch: string, ino: number): Stat {
    return this.view(branch).stat(ino);
  }

  readlink(branch: string, ino: number): string {
    return this.view(branch).readlink(ino);
  }

  /** `length` bytes of a file from `offset`: the preview reads one page at a time, never the whole file. */
  read(branch: string, ino: number, offset: number, length: number): Uint8Array {
    return this.view(branch).read(ino, offset, length);
  }

  /** Paths whose last component contains `query`, at most `limit`, walking the whole view. */
  search(branch: string, query: string, limit = 500): { path: string; ino: number }[] {
    const found: { path: string; ino: number }[] = [];
    const needle = query.toLowerCase();
    for (const { path, ino } of this.view(branch).walk()) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (name.toLowerCase().includes(needle)) found.push({ path, ino });
      if (found.length >= limit) break;
    }
    return found;
  }

  /** The path of inode `ino` in a branch's view (the first found), for jumps from the log. */
  pathOf(branch: string, ino: number): string | undefined {
    for (const entry of this.view(branch).walk()) if (entry.ino === ino) return entry.path;
    return undefined;
  }

  /** A branch's own log; a corrupt one up to its first bad entry, with the reason it stops there. */
  branchLog(record: BranchRecord): { entries: DeltaEntry[]; error?: string } {
    if (!this.image) return { entries: [] };
    const { entries, error } = decodeDeltaLogPrefix(
      this.source,
      record.logOffset,
      record.logSize,
      this.image.logRegion(record),
    );
    return { entries, error: error?.message };
  }

  /** Branch `name` against its parent, or against `against`. */
  diff(name: string, against?: string): BranchDiff {
    if (!this.image) throw new Error(this.openError ?? "the image is not open");
    return diffBranches(this.image, name, against);
  }

  validate(): ValidationReport {
    return validate(this.source, { backingSize: this.backingSize, maxProblems: 1000 });
  }

  /** Names of the active branches, for the diff's other side; none when the table does not read. */
  activeBranchNames(): string[] {
    const records = load(() => this.image?.branches() ?? []);
    return (records.ok ? records.value : [])
      .filter((r) => r.state === BranchState.ACTIVE && r.name !== "")
      .map((r) => r.name);
  }

  close(): void {
    if (this.image) this.image.close();
    else this.source.close();
  }
}
