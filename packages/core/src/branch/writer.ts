// Appending to one branch's delta log (SPEC 1.5, 3.6, 3.8.2). An entry becomes visible only when
// delta_log_size moves past it: the bytes are written and flushed first, then the size is stored
// and flushed, so a crash or a reader in another process sees each entry whole or not at all.
// Appends run under the coordination lock and re-read the record each time, because a commit from
// another process may append to this log (this branch being its parent) or move it.
import { BranchState, DeltaType, SetattrValid } from "@daxfs/format";
import type { BranchRecord } from "../branch-record.js";
import { encodeDeltaEntry, featureOfType, type NewDeltaEntry } from "../delta/entry.js";
import { DaxfsError } from "../errors.js";
import { NO_OWNER } from "../file-type.js";
import type { ImageSource } from "../image-source.js";
import { type BranchContext, branchContext } from "./lifecycle.js";
import { RECORD, readU32, readU64, recordOffset, SUPER, writeU32, writeU64 } from "./records.js";
import { ensureLogCapacity } from "./space.js";

/** Where an appended entry landed. */
export interface AppendedEntry {
  /** Absolute offset of the entry. */
  offset: number;
  totalSize: number;
}

let lastTimestamp = 0n;
/** Wall-clock ns (SPEC 1.5.1), kept strictly increasing within this process. */
export function entryTimestamp(): bigint {
  const now = BigInt(Date.now()) * 1_000_000n;
  lastTimestamp = now > lastTimestamp ? now : lastTimestamp + 1n;
  return lastTimestamp;
}

export class BranchWriter {
  private constructor(
    readonly ctx: BranchContext,
    readonly slot: number,
    readonly branchId: number,
  ) {}

  /** A writer for the branch in `record`; the branch must be ACTIVE and not main (main is read-only). */
  static forRecord(source: ImageSource | BranchContext, record: BranchRecord): BranchWriter {
    const ctx = "lock" in source ? source : branchContext(source);
    if (record.parentId === 0)
      throw new DaxfsError("EROFS", `${ctx.source.name}: main is read-only; write in a child branch`);
    const writer = new BranchWriter(ctx, record.slot, record.id);
    writer.record();
    return writer;
  }

  /** The record as it is on the media now; ESTALE once the branch was committed, aborted or invalidated. */
  record(): BranchRecord {
    const record = this.ctx.image.readBranchRecord(this.slot);
    if (!record || record.id !== this.branchId || record.state !== BranchState.ACTIVE) {
      throw new DaxfsError("ESTALE", `${this.ctx.source.name}: branch ${this.branchId} is no longer active`);
    }
    this.ctx.image.logRegion(record); // the log must lie in the delta region before we write to it
    return record;
  }

  /**
   * A new inode number (SPEC 3.8.2): the branch's next_local_ino (or the global counter if that is
   * higher), which then advances; next_inode_id is raised past it so later branches start above.
   */
  allocateIno(): number {
    return this.ctx.lock.withLock(() => {
      const record = this.record();
      // From the branch's own counter, but never below the global one: a parent that allocates
      // after a child was created would otherwise reuse the child's numbers (the hazard of
      // SPEC 3.8.2). The two differ once another branch has allocated since this one was made.
      const global = readU64(this.ctx.source, SUPER.nextInodeId, "next_inode_id");
      const ino = Math.max(record.nextLocalIno, global);
      if (ino < 2 || ino >= 0xffff_ffff)
        throw new DaxfsError(
          "ENOSPC",
          `${this.ctx.source.name}: branch ${this.branchId} has no inode numbers left`,
        );
      writeU64(this.ctx.source, recordOffset(this.ctx.geometry, this.slot) + RECORD.nextLocalIno, ino + 1);
      if (ino >= global) writeU64(this.ctx.source, SUPER.nextInodeId, ino + 1);
      this.ctx.source.flush();
      return ino;
    });
  }

  /**
   * Appends one entry. `encode` receives the entry's absolute offset (page-aligned WRITE data
   * depends on it, SPEC 1.5.9) and returns the complete entry bytes. The log grows if it must
   * (space.ts); ENOSPC only when the delta region itself is full.
   */
  appendEncoded(encode: (absoluteOffset: number) => Uint8Array, feature = 0): AppendedEntry {
    return this.ctx.lock.withLock(() => {
      let record = this.record();
      // An extension entry is announced before it can be published (docs/semantics.md
      // "Extensions"): a reader that sees the entry sees the superblock feature bit too.
      const flags = readU32(this.ctx.source, SUPER.flags);
      if ((flags & feature) !== feature) {
        writeU32(this.ctx.source, SUPER.flags, (flags | feature) >>> 0);
        this.ctx.source.flush();
      }
      let offset = record.logOffset + record.logSize;
      let bytes = encode(offset);
      if (record.logSize + bytes.length > record.logCapacity) {
        // Reserve room for a padded variant too: the move changes the absolute offset.
        record = ensureLogCapacity(this.ctx, record, record.logSize + bytes.length + 4096);
        offset = record.logOffset + record.logSize;
        bytes = encode(offset);
      }
      if (bytes.length < 24) throw new DaxfsError("EINVAL", "delta entry shorter than its header");
      this.ctx.source.write(offset, bytes);
      this.ctx.source.flush();
      writeU64(
        this.ctx.source,
        recordOffset(this.ctx.geometry, this.slot) + RECORD.deltaLogSize,
        record.logSize + bytes.length,
      );
      this.ctx.source.flush();
      return { offset, totalSize: bytes.length };
    });
  }

  /** Encodes and appends `entry` (timestamp filled in); WRITE data may be page-aligned (SPEC 1.5.9). */
  append(entry: NewDeltaEntry, options: { alignData?: boolean } = {}): AppendedEntry {
    refuseNoOwner(entry);
    const stamped = { ...entry, timestamp: entry.timestamp ?? entryTimestamp() } as NewDeltaEntry;
    return this.appendEncoded(
      (absoluteOffset) => encodeDeltaEntry(stamped, { absoluteOffset, alignData: options.alignData }),
      featureOfType(entry.type),
    );
  }
}

/**
 * (uid_t)-1 is no owner (NOTES.md "Validity"): to chown(2) it means "leave unchanged", which callers
 * express by clearing the valid bit; stored, it would name an owner no process can be.
 */
function refuseNoOwner(entry: NewDeltaEntry): void {
  let ids: Array<[string, number]> = [];
  if (entry.type === DeltaType.SETATTR) {
    if (entry.valid & SetattrValid.UID) ids.push(["uid", entry.uid]);
    if (entry.valid & SetattrValid.GID) ids.push(["gid", entry.gid]);
  } else if (
    entry.type === DeltaType.CREATE ||
    entry.type === DeltaType.MKDIR ||
    entry.type === DeltaType.SYMLINK
  ) {
    ids = [
      ["uid", entry.uid],
      ["gid", entry.gid],
    ];
  }
  for (const [what, id] of ids)
    if (id >>> 0 === NO_OWNER)
      throw new DaxfsError("EINVAL", `${what} ${NO_OWNER} ((${what}_t)-1) is not a valid owner`);
}
