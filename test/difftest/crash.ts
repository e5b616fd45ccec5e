// Crash consistency for daxfs-fuse (docs/testing.md "Differential testing"): a sequence of file
// steps on branch t1, then a commit, with `kill -9` of the daxfs-fuse process at a random moment
// (a separate `sleep; kill` process: the steps block this one's event loop). Afterwards, once an
// interrupted commit is recovered (taking the coordination lock runs recoverInterruptedMerge, as the
// next writer would): the image
// validates; if t1 is still ACTIVE its tree is one the crash rule allows (crash-rule.ts: the steps
// that returned, maybe the one in flight, or a prefix of its bytes if it is a write);
// if it was committed, main is the tree after all of them (a commit happened wholly or not at all).
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImage } from "@daxfs/core";
import { controlRequest, controlSocketPath } from "@daxfs/fuse-ref";
import { FuseHarness, isMounted } from "@daxfs/fuse-ref/testing";
import fc from "fast-check";
import { seedTree } from "../cross/ops.js";
import { judgeCrash } from "./crash-rule.js";
import { DELTA_SIZE, FsFiles, SEED_TREE_INDEX } from "./driver.js";
import { applyOnFuse } from "./fs-drivers.js";
import { BRANCH_KINDS, describeStep, type Step, sequenceArb } from "./steps.js";

export interface CrashOutcome {
  /** Steps that returned before the kill (the rest failed with ENOTCONN or did not run). */
  completed: number;
  /** "t1 at prefix N" or "committed": which state the image holds. */
  state: string;
  /** A violation, or null. */
  problem: string | null;
}

/**
 * File steps only (branch steps would change which branch the prefixes belong to; no mmapWrite,
 * docs/semantics.md "Crash consistency"), each one system call, so the call in flight is one
 * step: write, pwrite and append by path become open, (ftruncate,) fwrite and close on slot 2.
 */
export function crashSteps(steps: Step[], withinPage = false): Step[] {
  const split = steps.flatMap((step): Step[] => {
    // A mapping's stores are logged at msync page by page, in no promised order: not a crash step.
    if (BRANCH_KINDS.has(step.kind) || step.kind === "mmapWrite") return [];
    switch (step.kind) {
      case "write":
        return [
          { kind: "open", slot: 2, path: step.path, flags: "create" },
          { kind: "ftruncate", slot: 2, size: 0 },
          { kind: "fwrite", slot: 2, offset: 0, data: step.data },
          { kind: "close", slot: 2 },
        ];
      case "pwrite":
      case "append":
        return [
          { kind: "open", slot: 2, path: step.path, flags: step.kind === "append" ? "append" : "create" },
          { kind: "fwrite", slot: 2, offset: step.kind === "append" ? 0 : step.offset, data: step.data },
          { kind: "close", slot: 2 },
        ];
      default:
        return [step];
    }
  });
  if (!withinPage) return split;
  // For humans checking the rest without torn writes: the host's FUSE sends a write crossing a
  // partly cached page as more than one WRITE (docs/semantics.md "Crash consistency").
  return split.map((step) =>
    step.kind === "fwrite" ? { ...step, data: step.data.subarray(0, 4096 - (step.offset % 4096)) } : step,
  );
}

export async function crashOnce(
  harness: FuseHarness,
  steps: Step[],
  killAfterMs: number,
): Promise<CrashOutcome> {
  const image = join(harness.dir, `crash-${Date.now()}-${Math.floor(killAfterMs)}.daxfs`);
  writeFileSync(image, buildImage(seedTree(SEED_TREE_INDEX), { branching: true, deltaSize: DELTA_SIZE }));
  const mount = await harness.mount(image, ["--branch", "t1", "--parent", "main"]);
  const pid = mount.process.pid as number;
  const killer = spawn("sh", ["-c", `sleep ${(killAfterMs / 1000).toFixed(3)}; kill -9 ${pid}`], {
    stdio: "ignore",
  });
  const killed = new Promise<void>((resolve) => killer.on("exit", () => resolve()));
  const files = new FsFiles(() => mount.mountpoint);
  let completed = 0;
  for (const step of steps) {
    const outcome = applyOnFuse(files, step);
    if (outcome === "ENOTCONN" || outcome === "ECONNABORTED") break;
    completed += 1;
  }
  files.closeAll();
  if (completed === steps.length) {
    // A daemon killed mid-request closes the socket without an answer: the reply never comes.
    const reply = controlRequest(controlSocketPath(mount.mountpoint), "commit").catch(() => undefined);
    await Promise.race([reply, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  await killed;
  await mount.stop();
  if (isMounted(mount.mountpoint)) spawnSync("fusermount", ["-uz", mount.mountpoint]);

  return { completed, ...(await judgeCrash(new Uint8Array(readFileSync(image)), steps, completed)) };
}

export function crashListing(steps: Step[]): string {
  return steps.map((s, i) => `  ${i + 1}. ${describeStep(s)}`).join("\n");
}

export interface CrashSearch {
  runs: number;
  /** Keep every write inside one 4 KiB page (see crashSteps). */
  withinPage?: boolean;
  seed: number;
  maxLength?: number;
  onProgress?: (done: number, last: CrashOutcome) => void;
}

/** `runs` crashes: sequences from the generator (file steps), kill times from the same seed. */
export async function crashSearch(options: CrashSearch): Promise<{
  outcomes: CrashOutcome[];
  failure: { steps: Step[]; killAfterMs: number; outcome: CrashOutcome } | null;
}> {
  const sequences = fc.sample(sequenceArb(options.maxLength), { seed: options.seed, numRuns: options.runs });
  const delays = fc.sample(fc.integer({ min: 0, max: 60 }), {
    seed: options.seed + 1,
    numRuns: options.runs,
  });
  const harness = new FuseHarness();
  const outcomes: CrashOutcome[] = [];
  try {
    for (const [i, all] of sequences.entries()) {
      const steps = crashSteps(all, options.withinPage);
      const killAfterMs = delays[i] as number;
      const outcome = await crashOnce(harness, steps, killAfterMs);
      outcomes.push(outcome);
      options.onProgress?.(i + 1, outcome);
      if (outcome.problem) return { outcomes, failure: { steps, killAfterMs, outcome } };
    }
  } finally {
    await harness.cleanup();
  }
  return { outcomes, failure: null };
}
