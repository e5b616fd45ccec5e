// The crash rule's checker (crash-rule.ts) accepts the states docs/semantics.md "Crash
// consistency" allows and rejects every other: crashed images are made here with the model, so
// each case is a real image whose log holds exactly the entries named.
import { describe, expect, it } from "vitest";
import { seedTree } from "../cross/ops.js";
import { modelWalk } from "../cross/walk.js";
import { explainCrash, prefixTrees, readFrom } from "./crash-rule.js";
import { SEED_TREE_INDEX } from "./driver.js";
import { ModelDriver } from "./model-driver.js";
import type { Step } from "./steps.js";

const data = new Uint8Array(5000).map((_, i) => (i * 7 + 1) % 251);
/** A whole-file write as crashSteps splits it: open, ftruncate, one pwrite crossing a page, close. */
const steps: Step[] = [
  { kind: "open", slot: 2, path: "a", flags: "create" },
  { kind: "ftruncate", slot: 2, size: 0 },
  { kind: "fwrite", slot: 2, offset: 0, data },
  { kind: "close", slot: 2 },
];

/** The image a crash leaves when the log holds `logged` (the model writes each step as it would). */
async function crashed(
  logged: Step[],
): Promise<{ walk: ReturnType<typeof modelWalk>; read: ReturnType<typeof readFrom> }> {
  const model = new ModelDriver();
  await model.start(seedTree(SEED_TREE_INDEX), logged);
  for (const step of logged) expect(await model.apply(step)).toBe("ok");
  const { image } = await model.end();
  return { walk: modelWalk(image as Uint8Array, "t1"), read: readFrom(image as Uint8Array, "t1") };
}

const torn = (from: number, to: number): Step => ({
  kind: "fwrite",
  slot: 2,
  offset: from,
  data: data.subarray(from, to),
});

describe("the crash rule", () => {
  it("accepts the steps that returned, and the step in flight done", async () => {
    const trees = await prefixTrees(steps);
    const two = await crashed(steps.slice(0, 2));
    expect(await explainCrash(steps, trees, two.walk, two.read, 2)).toEqual({ prefix: 2 });
    const three = await crashed(steps.slice(0, 3));
    expect(await explainCrash(steps, trees, three.walk, three.read, 2)).toEqual({ prefix: 3 });
  });

  it("accepts a prefix of the write in flight (the first page, as the host's FUSE sends it)", async () => {
    const trees = await prefixTrees(steps);
    const state = await crashed([...steps.slice(0, 2), torn(0, 4096)]);
    expect(await explainCrash(steps, trees, state.walk, state.read, 2)).toEqual({ prefix: 2, torn: 4096 });
    // Any byte count: the kernel module's 1 MiB entries need not end on a page.
    const odd = await crashed([...steps.slice(0, 2), torn(0, 123)]);
    expect(await explainCrash(steps, trees, odd.walk, odd.read, 2)).toEqual({ prefix: 2, torn: 123 });
  });

  it("rejects a state outside the rule", async () => {
    const trees = await prefixTrees(steps);
    // The write's tail without its head (a later chunk logged, an earlier one lost).
    const tail = await crashed([...steps.slice(0, 2), torn(4096, 5000)]);
    expect(await explainCrash(steps, trees, tail.walk, tail.read, 2)).toBeNull();
    // A torn write that had returned (the close is in flight: the write's bytes are all logged).
    const returned = await crashed([...steps.slice(0, 2), torn(0, 4096)]);
    expect(await explainCrash(steps, trees, returned.walk, returned.read, 3)).toBeNull();
    // A step that returned is missing (the truncate), though the state is an older prefix.
    const older = await crashed(steps.slice(0, 1));
    expect(await explainCrash(steps, trees, older.walk, older.read, 2)).toBeNull();
    // The torn prefix plus a change to another file.
    const other = await crashed([
      ...steps.slice(0, 2),
      torn(0, 4096),
      { kind: "truncate", path: "big", size: 1 },
    ]);
    expect(await explainCrash(steps, trees, other.walk, other.read, 2)).toBeNull();
    // The torn bytes at the wrong place.
    const shifted = await crashed([
      ...steps.slice(0, 2),
      { kind: "fwrite", slot: 2, offset: 1, data: data.subarray(0, 4095) },
    ]);
    expect(await explainCrash(steps, trees, shifted.walk, shifted.read, 2)).toBeNull();
  });

  it("accepts fewer or more steps only when the caller says it cannot count them (bounds)", async () => {
    const trees = await prefixTrees(steps);
    const older = await crashed(steps.slice(0, 1));
    expect(await explainCrash(steps, trees, older.walk, older.read, 2, { from: 0 })).toEqual({ prefix: 1 });
    // Two steps done, though one was reported: only with `last` past the step in flight.
    const two = await crashed(steps.slice(0, 2));
    expect(await explainCrash(steps, trees, two.walk, two.read, 0)).toBeNull();
    expect(await explainCrash(steps, trees, two.walk, two.read, 0, { last: steps.length })).toEqual({
      prefix: 2,
    });
  });
});
