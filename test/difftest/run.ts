// Runs one sequence through every driver and checks they agree (docs/testing.md "Differential
// testing"): each step's outcome equals the reference's (the first driver, normally tmpfs); after
// the sequence the top branch's tree is the same everywhere; the log each daxfs implementation
// wrote replays in @daxfs/core to the tree that implementation showed; its image validates.
// search() wraps this in a fast-check property, so a divergence is shrunk to a minimal sequence.
import { MemoryImage, validate } from "@daxfs/core";
import fc from "fast-check";
import { seedTree } from "../cross/ops.js";
import { diffWalks, hostComparable, modelWalk, type WalkEntry } from "../cross/walk.js";
import { type Driver, SEED_TREE_INDEX, type SequenceEnd } from "./driver.js";
import { describeStep, type Step, sequenceArb, stepsToJson } from "./steps.js";

export interface Divergence {
  steps: Step[];
  /** What differs, in one paragraph. */
  what: string;
  /** Each step with every driver's outcome. */
  listing: string;
}

export interface SequenceRun {
  outcomes: string[][];
  ends: SequenceEnd[];
}

export async function runSequence(drivers: Driver[], steps: Step[]): Promise<SequenceRun> {
  const outcomes: string[][] = drivers.map(() => []);
  for (const [i, driver] of drivers.entries()) {
    await driver.start(seedTree(SEED_TREE_INDEX), steps);
    for (const step of steps) (outcomes[i] as string[]).push(await driver.apply(step));
  }
  const ends: SequenceEnd[] = [];
  for (const driver of drivers) ends.push(await driver.end());
  return { outcomes, ends };
}

export function listing(drivers: Driver[], steps: Step[], outcomes: string[][]): string {
  return steps
    .map((step, s) => {
      const all = drivers.map((d, i) => `${d.name} ${outcomes[i]?.[s] ?? "-"}`);
      const mark = new Set(drivers.map((_, i) => outcomes[i]?.[s])).size > 1 ? "  <-- differs" : "";
      return `  ${s + 1}. ${describeStep(step)} -> ${all.join(", ")}${mark}`;
    })
    .join("\n");
}

/** The first disagreement in a run, or null. */
export function checkRun(drivers: Driver[], steps: Step[], run: SequenceRun): string | null {
  const ref = drivers[0] as Driver;
  for (const [s, step] of steps.entries()) {
    const want = run.outcomes[0]?.[s];
    for (const [i, driver] of drivers.entries()) {
      const got = run.outcomes[i]?.[s];
      if (got !== want)
        return `step ${s + 1} ${describeStep(step)}: ${ref.name} gave ${want}, ${driver.name} gave ${got}`;
    }
  }
  const refEnd = run.ends[0] as SequenceEnd;
  for (const [i, driver] of drivers.entries()) {
    const end = run.ends[i] as SequenceEnd;
    const comparable = (w: WalkEntry[]) => (ref.name === "tmpfs" ? hostComparable(w) : w);
    const diff = diffWalks(ref.name, comparable(refEnd.walk), driver.name, comparable(end.walk));
    if (diff) return `the trees differ after the sequence:\n${diff}`;
    if (!end.image) continue;
    const report = validate(new MemoryImage(end.image, false));
    if (report.problems.length > 0)
      return `${driver.name}'s image does not validate: ${JSON.stringify(report.problems.slice(0, 3))}`;
    let replayed: WalkEntry[];
    try {
      replayed = modelWalk(end.image, end.branch);
    } catch (error) {
      return `@daxfs/core cannot open ${end.branch} in ${driver.name}'s image: ${String(error)}`;
    }
    const replayDiff = diffWalks(
      driver.name,
      end.walk,
      `@daxfs/core replaying ${driver.name}'s log`,
      replayed,
    );
    if (replayDiff) return `${driver.name}'s log of ${end.branch} replays to another tree:\n${replayDiff}`;
  }
  return null;
}

/** Runs and checks one sequence; a divergence with its listing, or null. */
export async function checkSequence(drivers: Driver[], steps: Step[]): Promise<Divergence | null> {
  let run: SequenceRun;
  try {
    run = await runSequence(drivers, steps);
  } catch (error) {
    const what = `a driver failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
    return { steps, what, listing: steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`).join("\n") };
  }
  const what = checkRun(drivers, steps, run);
  return what ? { steps, what, listing: listing(drivers, steps, run.outcomes) } : null;
}

export interface SearchOptions {
  runs: number;
  seed: number;
  maxLength?: number;
  onProgress?: (done: number) => void;
}

export interface SearchResult {
  runs: number;
  seed: number;
  /** The shrunk divergence, re-run for its listing. */
  failure: Divergence | null;
  /** fast-check's shrink count and the original failing length. */
  shrinks: number;
}

/** Random sequences until one diverges; the divergence shrunk (fast-check) to a minimal sequence. */
export async function search(drivers: Driver[], options: SearchOptions): Promise<SearchResult> {
  let done = 0;
  const property = fc.asyncProperty(sequenceArb(options.maxLength), async (steps) => {
    const divergence = await checkSequence(drivers, steps);
    options.onProgress?.(++done);
    return divergence === null;
  });
  const details = await fc.check(property, {
    numRuns: options.runs,
    seed: options.seed,
    endOnFailure: false,
  });
  if (!details.failed || !details.counterexample)
    return { runs: details.numRuns, seed: options.seed, failure: null, shrinks: 0 };
  const [steps] = details.counterexample;
  const found = await checkSequence(drivers, steps);
  // fast-check's array shrinking can stop with a step that does not matter: one removal pass more.
  const failure = (found && (await shrinkBatched(drivers, found)).failure) ?? {
    steps,
    what: `fast-check reported a failure that did not repeat: ${String(details.errorInstance ?? "")}`,
    listing: "",
  };
  return { runs: details.numRuns, seed: options.seed, failure, shrinks: details.numShrinks };
}

async function prepareAll(drivers: Driver[], sequences: Step[][]): Promise<void> {
  for (const driver of drivers) await driver.prepare?.(sequences);
}

/** Shorter sequences to try: without one step, without each quarter, without either half. */
function removals(steps: Step[]): Step[][] {
  const out: Step[][] = [];
  const n = steps.length;
  for (const parts of [2, 4])
    for (let p = 0; p < parts; p++) {
      const from = Math.floor((p * n) / parts);
      const to = Math.floor(((p + 1) * n) / parts);
      if (to - from > 1 && to - from < n) out.push([...steps.slice(0, from), ...steps.slice(to)]);
    }
  for (let i = 0; i < n; i++) if (n > 1) out.push([...steps.slice(0, i), ...steps.slice(i + 1)]);
  return out;
}

/**
 * Shrinking for batch drivers (one guest boot per round): each round runs every removal of the
 * current divergent sequence in one batch and keeps the shortest that still diverges.
 */
export async function shrinkBatched(
  drivers: Driver[],
  failure: Divergence,
  onRound?: (length: number) => void,
): Promise<{ failure: Divergence; rounds: number }> {
  let best = failure;
  let rounds = 0;
  for (;;) {
    const candidates = removals(best.steps);
    if (candidates.length === 0) break;
    rounds += 1;
    await prepareAll(drivers, candidates);
    let found: Divergence | null = null;
    for (const steps of candidates.sort((a, b) => a.length - b.length)) {
      found = await checkSequence(drivers, steps);
      if (found && !found.what.startsWith("a driver failed")) break;
      found = null;
    }
    if (!found) break;
    best = found;
    onRound?.(best.steps.length);
  }
  return { failure: best, rounds };
}

/**
 * The batch form of search (any driver with prepare, i.e. the kernel): `runs` sequences sampled
 * from the same arbitrary and seed, run `batchSize` per boot; the first divergence is shrunk by
 * shrinkBatched.
 */
export async function searchBatched(
  drivers: Driver[],
  options: SearchOptions & { batchSize: number },
): Promise<SearchResult> {
  const sequences = fc.sample(sequenceArb(options.maxLength), { seed: options.seed, numRuns: options.runs });
  let done = 0;
  for (let at = 0; at < sequences.length; at += options.batchSize) {
    const chunk = sequences.slice(at, at + options.batchSize);
    await prepareAll(drivers, chunk);
    for (const steps of chunk) {
      const divergence = await checkSequence(drivers, steps);
      options.onProgress?.(++done);
      if (divergence) {
        const shrunk = await shrinkBatched(drivers, divergence);
        return { runs: done, seed: options.seed, failure: shrunk.failure, shrinks: shrunk.rounds };
      }
    }
  }
  return { runs: done, seed: options.seed, failure: null, shrinks: 0 };
}

/** The fixture a divergence is saved as (test/difftest/fixtures/*.json, replayed by difftest.test.ts). */
export function fixtureJson(failure: Divergence, note: string): string {
  return `${JSON.stringify({ note, what: failure.what.split("\n")[0], steps: stepsToJson(failure.steps) }, null, 1)}\n`;
}
