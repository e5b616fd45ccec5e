// What a crash may leave in a branch (docs/semantics.md "Crash consistency"): the tree after the
// steps that returned, possibly with the step in flight done as well, or — when the step in flight
// is a write — with only a prefix of that write's bytes there. Nothing else: not an older prefix
// (a step that returned is in the log), not the write's tail without its head, not another file.

import { branchContext, buildImage, DaxfsImage, MemoryImage, validate } from "@daxfs/core";
import { BranchState } from "@daxfs/format";
import { seedTree } from "../cross/ops.js";
import { diffWalks, modelWalk, type WalkEntry } from "../cross/walk.js";
import { DELTA_SIZE, SEED_TREE_INDEX } from "./driver.js";
import { ModelDriver } from "./model-driver.js";
import type { Step } from "./steps.js";

/** The model's tree of t1 after each prefix of `steps` (index = number of steps applied). */
export async function prefixTrees(steps: Step[]): Promise<WalkEntry[][]> {
  const model = new ModelDriver();
  await model.start(seedTree(SEED_TREE_INDEX), steps);
  const trees = [(await model.end()).walk];
  for (const step of steps) {
    await model.apply(step);
    trees.push((await model.end()).walk);
  }
  return trees;
}

/**
 * Main's tree before any step: what main must still be while t1 is ACTIVE (a commit that did not
 * finish is undone whole by recovery; none of its entries may stay in main's log).
 */
export function untouchedMain(): WalkEntry[] {
  return modelWalk(buildImage(seedTree(SEED_TREE_INDEX), { branching: true, deltaSize: DELTA_SIZE }), "main");
}

/** The longest prefix of at least `from` and at most `upTo` steps whose tree `walk` is, or null. */
export function matchingPrefix(
  trees: WalkEntry[][],
  walk: WalkEntry[],
  from: number,
  upTo: number,
): number | null {
  for (let n = upTo; n >= from; n--)
    if (!diffWalks("prefix", trees[n] as WalkEntry[], "branch", walk)) return n;
  return null;
}

/** How a crashed branch's tree is explained: `prefix` steps done, then `torn` bytes of the next write. */
export interface CrashExplanation {
  prefix: number;
  torn?: number;
}

/** The model's tree after `n` steps and the first `k` bytes of step n+1 (an fwrite). */
export async function tornTree(steps: Step[], n: number, k: number): Promise<WalkEntry[]> {
  const step = steps[n];
  if (step?.kind !== "fwrite") throw new Error(`step ${n + 1} is not a descriptor write`);
  const model = new ModelDriver();
  const torn: Step[] = [...steps.slice(0, n), { ...step, data: step.data.subarray(0, k) }];
  await model.start(seedTree(SEED_TREE_INDEX), torn);
  for (const s of torn) await model.apply(s);
  return (await model.end()).walk;
}

/** Whether slot `slot` was last opened O_APPEND before step `n`. */
function appending(steps: Step[], n: number, slot: number): boolean {
  for (let i = n - 1; i >= 0; i--) {
    const s = steps[i] as Step;
    if (s.kind === "open" && s.slot === slot) return s.flags === "append";
  }
  return false;
}

/**
 * Byte counts k (0 < k < the write's length) worth trying for a torn write: the file the write
 * changed is a regular file whose walk entry differs from the prefix's; its content read from the
 * crashed image (`read(path)`) agrees with the data for k_max bytes at the write's offset, and its
 * size may say k exactly (a write past the end). Only candidates: the model decides.
 */
function tornCandidates(
  step: Extract<Step, { kind: "fwrite" }>,
  append: boolean,
  before: WalkEntry[],
  walk: WalkEntry[],
  read: (path: string) => Uint8Array | null,
): number[] {
  const old = new Map(before.map((e) => [e.path, e]));
  const out = new Set<number>();
  for (const entry of walk) {
    const was = old.get(entry.path);
    if (entry.type !== "file" || !was || (was.size === entry.size && was.sha256 === entry.sha256)) continue;
    const content = read(entry.path);
    if (!content) continue;
    const offset = append ? (was.size ?? 0) : step.offset;
    let kMax = 0;
    while (
      kMax < step.data.length &&
      offset + kMax < content.length &&
      content[offset + kMax] === step.data[kMax]
    )
      kMax += 1;
    for (const k of [kMax, (entry.size ?? 0) - offset]) if (k > 0 && k < step.data.length) out.add(k);
  }
  return [...out];
}

/** How many steps a crash may have left, when the caller cannot count them exactly. */
export interface CrashBounds {
  /** At least this many steps are there (default: `completed`). */
  from?: number;
  /** The last step that may have been in flight (1-based; default `completed + 1`). */
  last?: number;
}

/**
 * Explains a crashed branch's tree `walk` under the crash rule, or returns null. `completed` steps
 * returned before the crash (they are all there) and step `completed + 1` may be there, wholly or,
 * if it is a write, as a prefix of its bytes. A caller that saw the completions through a channel
 * that can lose the last lines (a guest's serial port) widens that with `bounds`.
 */
export async function explainCrash(
  steps: Step[],
  trees: WalkEntry[][],
  walk: WalkEntry[],
  read: (path: string) => Uint8Array | null,
  completed: number,
  bounds: CrashBounds = {},
): Promise<CrashExplanation | null> {
  const from = bounds.from ?? completed;
  const last = Math.min(bounds.last ?? completed + 1, steps.length);
  const prefix = matchingPrefix(trees, walk, from, last);
  if (prefix !== null) return { prefix };
  for (let n = last - 1; n >= from; n--) {
    const step = steps[n] as Step;
    if (step.kind !== "fwrite") continue;
    const before = trees[n] as WalkEntry[];
    for (const k of tornCandidates(step, appending(steps, n, step.slot), before, walk, read))
      if (!diffWalks("torn", await tornTree(steps, n, k), "branch", walk)) return { prefix: n, torn: k };
  }
  return null;
}

/** Reads a file of `branch` in an image by walk path ("./d/a"), or null when it is not a file there. */
export function readFrom(bytes: Uint8Array, branch: string): (path: string) => Uint8Array | null {
  const view = DaxfsImage.open(new MemoryImage(bytes, false)).view(branch);
  return (path) => {
    try {
      const ino = view.resolve(path.slice(1));
      return view.read(ino, 0, view.stat(ino).size);
    } catch {
      return null;
    }
  };
}

/** What the next writer does to a crashed image: take the coordination lock (recovering a merge). */
export function recoverAsNextWriter(crashed: Uint8Array): Uint8Array {
  const bytes = crashed.slice();
  branchContext(new MemoryImage(bytes, true)).lock.withLock(() => undefined);
  return bytes;
}

/**
 * The verdict on a crash of `steps` on t1 followed by its commit, from the image the crash left
 * (`crashed`, recovered here as the next writer would): the image validates; t1 is ACTIVE, main is
 * untouched (a commit is all or nothing) and t1's tree is one the crash rule allows, or t1 was
 * committed and main is the tree after every step.
 */
export async function judgeCrash(
  crashed: Uint8Array,
  steps: Step[],
  completed: number,
  bounds: CrashBounds = {},
): Promise<{ state: string; problem: string | null }> {
  const bytes = recoverAsNextWriter(crashed);
  const problems = validate(new MemoryImage(bytes, false)).problems;
  if (problems.length > 0)
    return { state: "?", problem: `the image does not validate: ${JSON.stringify(problems.slice(0, 3))}` };
  const trees = await prefixTrees(steps);
  const main = modelWalk(bytes, "main");
  const t1 = DaxfsImage.open(new MemoryImage(bytes, false)).findBranch("t1");
  if (t1?.state !== BranchState.ACTIVE) {
    const diff = diffWalks("after every step", trees[steps.length] as WalkEntry[], "main", main);
    return {
      state: "committed",
      problem: diff ? `t1 is gone but main is not the whole sequence's tree:\n${diff}` : null,
    };
  }
  const mainDiff = diffWalks("main before the commit", untouchedMain(), "main", main);
  if (mainDiff)
    return {
      state: "t1",
      problem: `t1 is still ACTIVE but main changed (a commit half there):\n${mainDiff}`,
    };
  const walk = modelWalk(bytes, "t1");
  const explained = await explainCrash(steps, trees, walk, readFrom(bytes, "t1"), completed, bounds);
  if (explained)
    return {
      state: `t1 at prefix ${explained.prefix}${explained.torn ? ` + ${explained.torn} bytes of the next write` : ""}`,
      problem: null,
    };
  const near = trees[Math.min(completed, steps.length)] as WalkEntry[];
  return {
    state: "t1",
    problem: `t1's tree is no state the crash rule allows (${completed} steps returned):\n${diffWalks("after them", near, "t1", walk)}`,
  };
}
