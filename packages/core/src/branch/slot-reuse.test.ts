// Branch slot reuse (docs/space.md "Branch slots"): a full table takes the lowest dead slot that no
// record names as its parent, the new record gets a fresh id, and users of the old branch get ESTALE.
import { BranchState } from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import { formatProblem } from "../problems.js";
import { appendNewFile, buildTestImage, testDir, testFile } from "../testing/index.js";
import { validate } from "../validate/validate.js";
import { abortBranch, BranchWriter, branchContext, createBranch, ensureMain } from "./index.js";

const MiB = 1024 * 1024;
const errnoOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return "no error";
};

function setup(deltaSize: number) {
  const built = buildTestImage(testDir({ "hello.txt": testFile("hello") }), { deltaSize });
  const source = new MemoryImage(built.bytes);
  const ctx = branchContext(source);
  ensureMain(ctx);
  return { source, ctx, image: DaxfsImage.open(source) };
}

/** Creates `name` under main and writes one new 4 KiB file into it; returns the record. */
function createAndWrite(ctx: ReturnType<typeof branchContext>, name: string) {
  const record = createBranch(ctx, name, "main");
  const writer = BranchWriter.forRecord(ctx, record);
  appendNewFile(writer, `${name}.txt`, new Uint8Array(4096).fill(7));
  return record;
}

describe("branch slot reuse", () => {
  it("runs 1000 create/write/abort cycles on a 256 MiB delta region and stays valid", () => {
    const { source, ctx, image } = setup(256 * MiB);
    const before = image
      .view("main")
      .readdir(1)
      .map((e) => e.name);
    const ids = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const record = createAndWrite(ctx, `b${i}`);
      expect(ids.has(record.id)).toBe(false);
      ids.add(record.id);
      abortBranch(ctx, record.id);
    }
    const report = validate(source);
    expect(report.problems.map(formatProblem)).toEqual([]);
    expect(
      image
        .view("main")
        .readdir(1)
        .map((e) => e.name),
    ).toEqual(before);
    expect(
      image
        .branches()
        .filter((r) => r.state === BranchState.ACTIVE)
        .map((r) => r.name),
    ).toEqual(["main"]);
  });

  it("answers ESTALE to a writer and a view of a branch whose slot was reused", () => {
    const { ctx, image } = setup(32 * MiB);
    // Fill the table so the next create must reuse.
    const table = ctx.geometry.tableEntries;
    for (let i = 1; i < table; i++) createBranch(ctx, `fill${i}`, "main");
    const victim = image.findBranch("fill1");
    if (!victim) throw new Error("fill1 missing");
    const writer = BranchWriter.forRecord(ctx, victim);
    const view = image.view("fill1");
    abortBranch(ctx, victim.id);
    const reused = createBranch(ctx, "fresh", "main");
    expect(reused.slot).toBe(victim.slot);
    expect(reused.id).toBeGreaterThan(victim.id);
    expect(errnoOf(() => writer.record())).toBe("ESTALE");
    expect(errnoOf(() => view.readdir(1))).toBe("ESTALE");
    // Nothing left to reuse: every slot is ACTIVE.
    expect(errnoOf(() => createBranch(ctx, "one-more", "main"))).toBe("ENOSPC");
  });

  it("prefers the lowest dead slot no record names as parent, and keeps the table valid", () => {
    const built = buildTestImage(testDir({}), { deltaSize: 32 * MiB });
    const source = new MemoryImage(built.bytes);
    const ctx = branchContext(source);
    const table = ctx.geometry.tableEntries;
    ensureMain(ctx);
    const a = createBranch(ctx, "a", "main");
    const b = createBranch(ctx, "b", "a");
    for (let i = 0; i < table - 3; i++) createBranch(ctx, `x${i}`, "main");
    abortBranch(ctx, b.id); // aborts the chain b, a
    // b names a as parent, so a's (lower) slot waits; b's slot goes first.
    const c = createBranch(ctx, "c", "main");
    expect(c.slot).toBe(b.slot);
    expect(validate(source).problems.map(formatProblem)).toEqual([]);
    const d = createBranch(ctx, "d", "main");
    expect(d.slot).toBe(a.slot);
    expect(validate(source).problems.map(formatProblem)).toEqual([]);
    expect(errnoOf(() => createBranch(ctx, "e", "main"))).toBe("ENOSPC");
  });
});
