import { BranchState, DaxfsSuper, DeltaType, SetattrValid } from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { MemoryImage } from "../image-source.js";
import {
  COORD_INTENT_LEVEL_OFFSET,
  COORD_INTENT_PARENT_SIZE_OFFSET,
  COORD_LOCK_OFFSET,
  CoordinationLock,
} from "./coord-lock.js";
import {
  abortBranch,
  BranchWriter,
  branchContext,
  commitBranch,
  createBranch,
  dropBranch,
  ensureMain,
  findBranch,
  recoverInterruptedMerge,
} from "./index.js";
import { readU32, writeU32, writeU64 } from "./records.js";
import { makeBranchingImage, truncateEntry, writeEntry } from "./test-fixture.js";

function setup(options?: Parameters<typeof makeBranchingImage>[0]) {
  const source = new MemoryImage(makeBranchingImage(options));
  return { source, ctx: branchContext(source) };
}
const superOf = (source: MemoryImage) => DaxfsSuper.decode(source.bytes);
const errnoOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "no error";
};

describe("main and branch creation (SPEC 3.4)", () => {
  it("creates main once: id 1, parent 0, ACTIVE, next_branch_id 2", () => {
    const { source, ctx } = setup({ nextInodeId: 10 });
    const main = ensureMain(ctx);
    expect(main).toMatchObject({ id: 1, parentId: 0, name: "main", state: BranchState.ACTIVE, logSize: 0 });
    expect(ensureMain(ctx).slot).toBe(main.slot);
    expect(superOf(source).nextBranchId).toBe(2n);
    expect(superOf(source).activeBranches).toBe(1);
    expect(ctx.image.branches()).toHaveLength(1);
  });

  it("gives a child the next id and the global inode counter", () => {
    const { source, ctx } = setup({ nextInodeId: 42 });
    const child = createBranch(ctx, "dev", "main");
    expect(child).toMatchObject({
      id: 2,
      parentId: 1,
      name: "dev",
      state: BranchState.ACTIVE,
      nextLocalIno: 42,
    });
    const grandchild = createBranch(ctx, "feature", "dev");
    expect(grandchild).toMatchObject({ id: 3, parentId: 2 });
    expect(superOf(source)).toMatchObject({ nextBranchId: 4n, activeBranches: 3 });
  });

  it("rejects bad names in the spec's order with the spec's errors", () => {
    const { ctx } = setup({ tableEntries: 3 });
    expect(errnoOf(() => createBranch(ctx, "x".repeat(32), "main"))).toBe("ENAMETOOLONG");
    expect(createBranch(ctx, "x".repeat(31), "main").name).toHaveLength(31);
    expect(errnoOf(() => createBranch(ctx, "main", "main"))).toBe("EINVAL");
    expect(errnoOf(() => createBranch(ctx, "", "main"))).toBe("EINVAL");
    expect(errnoOf(() => createBranch(ctx, "x".repeat(31), "main"))).toBe("EEXIST");
    expect(errnoOf(() => createBranch(ctx, "orphan", "nope"))).toBe("ENOENT");
    createBranch(ctx, "third", "main");
    expect(errnoOf(() => createBranch(ctx, "fourth", "main"))).toBe("ENOSPC");
  });

  it("refuses a read-only source", () => {
    expect(errnoOf(() => branchContext(new MemoryImage(makeBranchingImage(), false)))).toBe("EROFS");
  });
});

describe("BranchWriter", () => {
  it("publishes entries by advancing delta_log_size and allocates inode numbers", () => {
    const { source, ctx } = setup({ nextInodeId: 7 });
    const writer = BranchWriter.forRecord(ctx, createBranch(ctx, "dev", "main"));
    const first = writer.appendEncoded(() => truncateEntry(1, 5));
    const second = writer.appendEncoded(() => truncateEntry(1, 6));
    expect(second.offset).toBe(first.offset + 32);
    expect(writer.record().logSize).toBe(64);
    expect(source.bytes.subarray(second.offset, second.offset + 32)).toEqual(truncateEntry(1, 6));
    expect([writer.allocateIno(), writer.allocateIno()]).toEqual([7, 8]);
    expect(superOf(source).nextInodeId).toBe(9n);
    expect(writer.record().nextLocalIno).toBe(9);
  });

  it("never stores an owner of (uid_t)-1: SETATTR with its valid bit, CREATE, SYMLINK", () => {
    const { ctx } = setup({ nextInodeId: 7 });
    const writer = BranchWriter.forRecord(ctx, createBranch(ctx, "dev", "main"));
    const setattr = { type: DeltaType.SETATTR, ino: 1, mode: 0, size: 0 } as const;
    expect(
      errnoOf(() => writer.append({ ...setattr, uid: 0xffffffff, gid: 5, valid: SetattrValid.UID })),
    ).toBe("EINVAL");
    expect(
      errnoOf(() => writer.append({ ...setattr, uid: 5, gid: 0xffffffff, valid: SetattrValid.GID })),
    ).toBe("EINVAL");
    const create = {
      type: DeltaType.CREATE,
      ino: 7,
      parentIno: 1,
      newIno: 7,
      mode: 0o100644,
      name: "f",
    } as const;
    expect(errnoOf(() => writer.append({ ...create, uid: 0xffffffff, gid: 0 }))).toBe("EINVAL");
    expect(writer.record().logSize).toBe(0);
    // Without the valid bit the stored id is ignored (chown(2)'s "unchanged").
    writer.append({ ...setattr, uid: 0xffffffff, gid: 5, valid: SetattrValid.GID });
    expect(writer.record().logSize).toBeGreaterThan(0);
  });

  it("never hands a parent the numbers its child already used (SPEC 3.8.2 hazard)", () => {
    const { ctx } = setup({ nextInodeId: 5 });
    const parent = BranchWriter.forRecord(ctx, createBranch(ctx, "p", "main"));
    const child = BranchWriter.forRecord(ctx, createBranch(ctx, "c", "p"));
    expect(child.allocateIno()).toBe(5);
    expect(parent.allocateIno()).toBe(6);
    expect(child.allocateIno()).toBe(7);
  });

  it("refuses main and grows past the public 1 MiB limit, keeping every byte", () => {
    const { ctx } = setup({ deltaSize: 16 * 1024 * 1024 });
    expect(errnoOf(() => BranchWriter.forRecord(ctx, ensureMain(ctx)))).toBe("EROFS");
    const writer = BranchWriter.forRecord(ctx, createBranch(ctx, "big", "main"));
    const chunk = new Uint8Array(60_000);
    for (let i = 0; i < 60; i++) {
      chunk.fill(i);
      writer.appendEncoded(() => writeEntry(5, i * chunk.length, chunk));
    }
    const record = writer.record();
    expect(record.logSize).toBe(60 * 60_040);
    expect(record.logCapacity).toBeGreaterThan(1024 * 1024);
    for (let i = 0; i < 60; i++) {
      const at = record.logOffset + i * 60_040;
      expect(ctx.source.read(at + 40, 1)[0]).toBe(i);
      expect(ctx.source.read(at + 60_039, 1)[0]).toBe(i);
    }
  });

  it("moves a log that is not the last extent, keeping offset+capacity valid and every entry", () => {
    const { ctx } = setup({ deltaSize: 16 * 1024 * 1024 });
    const first = BranchWriter.forRecord(ctx, createBranch(ctx, "first", "main"));
    const second = BranchWriter.forRecord(ctx, createBranch(ctx, "second", "main"));
    const before = first.record();
    const chunk = new Uint8Array(30_000);
    for (let i = 0; i < 4; i++) {
      chunk.fill(i + 1);
      first.appendEncoded(() => writeEntry(9, i * chunk.length, chunk));
      second.appendEncoded(() => writeEntry(9, i * chunk.length, chunk));
    }
    const after = first.record();
    expect(after.logOffset).not.toBe(before.logOffset); // moved: "second" sat right after it
    expect(after.logCapacity).toBeGreaterThanOrEqual(4 * 30_040);
    for (const writer of [first, second]) {
      const record = writer.record();
      for (let i = 0; i < 4; i++)
        expect(ctx.source.read(record.logOffset + i * 30_040 + 40, 30_000).every((b) => b === i + 1)).toBe(
          true,
        );
    }
  });

  it("answers ENOSPC when the delta region is full, leaving the log as it was", () => {
    const { ctx } = setup({ deltaSize: 256 * 1024 });
    const writer = BranchWriter.forRecord(ctx, createBranch(ctx, "dev", "main"));
    writer.appendEncoded(() => truncateEntry(1, 1));
    expect(errnoOf(() => writer.appendEncoded(() => writeEntry(1, 0, new Uint8Array(200_000))))).toBe(
      "ENOSPC",
    );
    // 256 KiB region, main's and dev's 64 KiB logs: 128 KiB free is short of 200 KiB, so the
    // message must not blame fragmentation.
    expect(() => writer.appendEncoded(() => writeEntry(1, 0, new Uint8Array(200_000)))).toThrow(
      /: delta region full \(204800 bytes wanted, 131072 free, 0 more waiting for mounts to end\)$/,
    );
    expect(writer.record().logSize).toBe(32);
  });
});

describe("commit, abort, drop (SPEC 3.9)", () => {
  it("merges the chain into main, invalidates siblings at every level, clears names", () => {
    const { source, ctx } = setup();
    const dev = createBranch(ctx, "dev", "main");
    const sibling = createBranch(ctx, "other", "main");
    const feature = createBranch(ctx, "feature", "dev");
    const cousin = createBranch(ctx, "cousin", "dev");
    BranchWriter.forRecord(ctx, dev).appendEncoded(() => truncateEntry(1, 11));
    const featureWriter = BranchWriter.forRecord(ctx, feature);
    featureWriter.appendEncoded(() => truncateEntry(1, 22));
    const siblingWriter = BranchWriter.forRecord(ctx, sibling);
    expect(errnoOf(() => commitBranch(ctx, dev.id))).toBe("EBUSY");
    expect(errnoOf(() => commitBranch(ctx, 1))).toBe("EINVAL");
    commitBranch(ctx, feature.id);
    const slots = ctx.image.branches();
    const byId = (id: number) => slots.find((s) => s.id === id);
    expect(byId(feature.id)).toMatchObject({ state: BranchState.COMMITTED, name: "" });
    expect(byId(dev.id)).toMatchObject({ state: BranchState.COMMITTED, name: "" });
    expect(byId(sibling.id)).toMatchObject({ state: BranchState.ABORTED, name: "other", generation: 1 });
    expect(byId(cousin.id)).toMatchObject({ state: BranchState.ABORTED, name: "cousin", generation: 1 });
    const main = findBranch(ctx, "main");
    // dev's entry was merged into main after feature's entry had been merged into dev.
    expect(main.logSize).toBe(64);
    expect(source.read(main.logOffset, 64)).toEqual(
      new Uint8Array([...truncateEntry(1, 11), ...truncateEntry(1, 22)]),
    );
    expect(superOf(source).coord).toMatchObject({
      commitSequence: 1n,
      lastCommittedId: BigInt(feature.id),
      coordLock: 0,
    });
    expect(superOf(source).activeBranches).toBe(1);
    expect(errnoOf(() => siblingWriter.appendEncoded(() => truncateEntry(1, 1)))).toBe("ESTALE");
    expect(errnoOf(() => featureWriter.record())).toBe("ESTALE");
    expect(errnoOf(() => commitBranch(ctx, sibling.id))).toBe("ESTALE");
    // The invalidated sibling keeps its name, so the name stays taken (SPEC 1.4).
    expect(errnoOf(() => createBranch(ctx, "other", "main"))).toBe("EEXIST");
  });

  it("ENOSPC at commit leaves both logs and all siblings intact", () => {
    const { source, ctx } = setup({ deltaSize: 320 * 1024 });
    const dev = createBranch(ctx, "dev", "main");
    const other = createBranch(ctx, "other", "main");
    const writer = BranchWriter.forRecord(ctx, dev);
    for (let i = 0; i < 3; i++) writer.appendEncoded(() => writeEntry(1, 0, new Uint8Array(40_000)));
    expect(errnoOf(() => commitBranch(ctx, dev.id))).toBe("ENOSPC");
    // The message says why a commit needs space, and claims no fragmentation when the free
    // total is short (64 KiB free, 120 KiB wanted).
    expect(() => commitBranch(ctx, dev.id)).toThrow(
      /^\(buffer\): no room to commit branch "dev": a commit copies the branch's log \(120120 bytes\) into main's, which must grow to 122880 bytes; the delta region has 65536 free, 0 more waiting for mounts to end\. Abort the branch, or give the image a larger delta region \(mkdaxfs -D, or daxfs-compact -D, which drops active branches\)$/,
    );
    expect(findBranch(ctx, "dev")).toMatchObject({ state: BranchState.ACTIVE, logSize: 3 * 40_040 });
    expect(findBranch(ctx, "other").state).toBe(BranchState.ACTIVE);
    expect(findBranch(ctx, "main").logSize).toBe(0);
    expect(superOf(source).coord.commitSequence).toBe(0n);
    expect(other.id).toBeGreaterThan(dev.id);
  });

  it("undoes a merge whose holder died before marking the level COMMITTED", () => {
    const { source, ctx } = setup();
    const dev = createBranch(ctx, "dev", "main");
    BranchWriter.forRecord(ctx, dev).appendEncoded(() => truncateEntry(1, 3));
    const main = findBranch(ctx, "main");
    // What a commit that crashed after publishing the merge leaves behind (lifecycle.ts step order).
    writeU64(source, COORD_INTENT_PARENT_SIZE_OFFSET, main.logSize);
    writeU32(source, COORD_INTENT_LEVEL_OFFSET, dev.id);
    source.write(main.logOffset, truncateEntry(1, 3));
    writeU64(source, ctx.geometry.tableOffset + main.slot * 128 + 24, 32);
    writeU32(source, COORD_LOCK_OFFSET, 1); // held by a holder nobody can check: broken after staleAfterMs
    const recovering = branchContext(source);
    recovering.lock = new CoordinationLock(source, {
      staleAfterMs: 20,
      onAcquire: () => recoverInterruptedMerge(recovering),
    });
    expect(findBranch(recovering, "dev").state).toBe(BranchState.ACTIVE);
    createBranch(recovering, "next", "main"); // any locked operation repairs first
    expect(findBranch(recovering, "main").logSize).toBe(0);
    expect(readU32(source, COORD_INTENT_LEVEL_OFFSET)).toBe(0);
    // The commit can then be made again, once.
    commitBranch(recovering, dev.id);
    expect(findBranch(recovering, "main").logSize).toBe(32);
  });

  it("a finished commit leaves no intent behind", () => {
    const { source, ctx } = setup();
    const dev = createBranch(ctx, "dev", "main");
    BranchWriter.forRecord(ctx, dev).appendEncoded(() => truncateEntry(1, 3));
    commitBranch(ctx, dev.id);
    expect(readU32(source, COORD_INTENT_LEVEL_OFFSET)).toBe(0);
  });

  it("abort ends the chain up to main; siblings untouched; drop ends only one level", () => {
    const { ctx } = setup();
    const dev = createBranch(ctx, "dev", "main");
    const other = createBranch(ctx, "other", "main");
    const feature = createBranch(ctx, "feature", "dev");
    expect(errnoOf(() => abortBranch(ctx, dev.id))).toBe("EBUSY");
    abortBranch(ctx, feature.id);
    const slots = ctx.image.branches();
    expect(slots.find((s) => s.id === dev.id)).toMatchObject({
      state: BranchState.ABORTED,
      name: "",
      generation: 1,
    });
    expect(slots.find((s) => s.id === feature.id)).toMatchObject({ state: BranchState.ABORTED, name: "" });
    expect(slots.find((s) => s.id === other.id)?.state).toBe(BranchState.ACTIVE);
    const nested = createBranch(ctx, "nested", "other");
    dropBranch(ctx, other.id); // has an active child: stays (SPEC 3.9.3)
    expect(findBranch(ctx, "other").state).toBe(BranchState.ACTIVE);
    dropBranch(ctx, nested.id);
    expect(findBranch(ctx, "other").state).toBe(BranchState.ACTIVE);
    expect(errnoOf(() => findBranch(ctx, "nested"))).toBe("ENOENT");
    // Names of explicitly ended branches are free again.
    expect(createBranch(ctx, "dev", "main").state).toBe(BranchState.ACTIVE);
  });
});
