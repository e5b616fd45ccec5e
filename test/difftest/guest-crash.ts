// Crashes of the guest (docs/testing.md "Differential testing"): a boot runs several crash
// sequences at once (file steps on t1, each on its own image of the pack, with a sibling mounted
// after t1 so that t1's log growth moves it; then a commit), and the host quits QEMU (kill -9, no
// unmount) once a sequence chosen from the seed reports a chosen step (QuitTrigger). The pack is
// the NVDIMM's backing file, so what the guest stored is there. Afterwards, for every image: the
// image validates once the model has recovered it (taking the coordination lock, as the next
// writer does); t1 is ACTIVE with a tree the crash rule allows (crash-rule.ts), or committed with
// main the whole sequence's tree; and the next boot's kernel recovers it to the same main and t1
// as the model.
import { readFileSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { buildImage, DaxfsImage, MemoryImage } from "@daxfs/core";
import { BranchState } from "@daxfs/format";
import fc from "fast-check";
import { seedTree } from "../cross/ops.js";
import { diffWalks, modelWalk, type WalkEntry } from "../cross/walk.js";
import { runGuest } from "../qemu/bench.js";
import { crashSteps } from "./crash.js";
import { judgeCrash, recoverAsNextWriter } from "./crash-rule.js";
import { DELTA_SIZE, SEED_TREE_INDEX } from "./driver.js";
import { qemuPid, resultLines, waitForGuest } from "./guest-watch.js";
import { type Step, sequenceArb, stepsToJson } from "./steps.js";

const TSCONFIG = "test/difftest/tsconfig.cli.json";

export interface GuestCrashOutcome {
  /** The boot and image ("boot 2 q1"). */
  where: string;
  /** Steps the guest reported done before QEMU was quit. */
  reported: number;
  state: string;
  problem: string | null;
}

export interface Crashed {
  where: string;
  steps: Step[];
  bytes: Uint8Array;
  reported: number;
}

/**
 * Where a boot's quit comes: as soon as the host sees sequence `name` report step `after` done
 * (its commit's start when `after` is past its last step). The guest goes on meanwhile (the serial
 * port and the host's 10 ms polling lag), so the crash lands a little later, at a point no one
 * chose: inside a later step, a log growth move or the commit.
 */
export interface QuitTrigger {
  name: string;
  after: number;
}

const triggerLine = (t: QuitTrigger, steps: number) =>
  t.after > steps ? `DIFFTEST-COMMIT ${t.name}` : `DIFFTEST-DONE ${t.name} ${t.after}`;

/** Kills QEMU once `line` appears; a guest that stopped or finished first is left alone. */
async function quitAt(pack: string, line: string, timeoutMs: number): Promise<void> {
  const seen = (lines: string[]) => lines.includes(line);
  const lines = await waitForGuest(
    pack,
    (l) => seen(l) || l.some((x) => x.startsWith("@@BENCH done")),
    timeoutMs,
    undefined,
    10,
  );
  if (!lines || !seen(lines)) return;
  const pid = qemuPid(pack);
  if (pid !== null) process.kill(pid, "SIGKILL");
}

/** Boots once with `sequences` (and images of earlier crashes to recover), quits QEMU mid-way. */
export async function crashBoot(
  kernel: string,
  boot: number,
  sequences: Step[][],
  recover: { name: string; bytes: Uint8Array }[],
  trigger: QuitTrigger,
): Promise<{ crashed: Crashed[]; recovered: Map<string, Record<string, unknown>> }> {
  const seed = buildImage(seedTree(SEED_TREE_INDEX), { branching: true, deltaSize: DELTA_SIZE });
  const fresh = sequences.map((steps, i) => ({ name: `q${i}`, bytes: seed, steps }));
  const images = [...recover, ...fresh.map(({ name, bytes }) => ({ name, bytes }))];
  const where = (name: string) => `${name}=$(img_phys ${name}):$(img_size ${name})`;
  const node = `host_run env TSX_TSCONFIG_PATH=${TSCONFIG} node --import tsx test/difftest/guest-main.ts`;
  const batch = (entries: object[]) => `<<'DIFFTEST_BATCH'\n${JSON.stringify(entries)}\nDIFFTEST_BATCH\n`;
  const script = [
    ...recover.map(
      (r) =>
        `cat > "$SCRATCH/${r.name}.json" ${batch([{ name: r.name, recover: true }])}${node} "$SCRATCH/${r.name}.json" ${where(r.name)}`,
    ),
    ...fresh.map(
      (f) => `cat > "$SCRATCH/${f.name}.json" ${batch([{ name: f.name, crash: stepsToJson(f.steps) }])}`,
    ),
    // All at once: one quit catches each sequence at another point (guest-main.ts crashRun).
    ...fresh.map((f) => `${node} "$SCRATCH/${f.name}.json" ${where(f.name)} &`),
    `while [ "$(ls "$SCRATCH" | grep -c '^ready-')" -lt ${fresh.length} ]; do sleep 0.1; done`,
    `touch "$SCRATCH/start"`,
    "wait",
  ].join("\n");
  let pack = "";
  let offsets = new Map<string, number>();
  try {
    await runGuest({
      kernel,
      images,
      scenarios: [{ name: "crash", script }],
      hostRoot: true,
      keep: true,
      timeoutSec: 900,
      whileRunning: async (path, at) => {
        pack = path;
        offsets = at;
        const steps = fresh.find((f) => f.name === trigger.name)?.steps.length ?? 0;
        await quitAt(path, triggerLine(trigger, steps), 900_000);
      },
    });
  } catch (error) {
    // Expected: the guest did not finish. Anything but a stop before the end is a real failure.
    const text = error instanceof Error ? error.message : String(error);
    if (!pack || !/timed out|stopped before finishing/.test(text) || /kernel reported a problem/.test(text)) {
      if (pack) rmSync(dirname(dirname(pack)), { recursive: true, force: true });
      throw error;
    }
  }
  try {
    const all = new Uint8Array(readFileSync(pack));
    const slice = (name: string, size: number) => {
      const at = offsets.get(name) as number;
      return all.slice(at, at + size);
    };
    const lines = resultLines(pack);
    const recovered = new Map<string, Record<string, unknown>>();
    for (const line of lines) {
      if (!line.startsWith("DIFFTEST {")) continue;
      const parsed = JSON.parse(line.slice("DIFFTEST ".length)) as Record<string, unknown>;
      recovered.set(String(parsed.name), parsed);
    }
    const crashed = fresh.map(({ name, steps }) => {
      const done = lines.filter((l) => l.startsWith(`DIFFTEST-DONE ${name} `));
      return {
        where: `boot ${boot} ${name}`,
        steps,
        bytes: slice(name, seed.length),
        reported: done.length,
      };
    });
    return { crashed, recovered };
  } finally {
    rmSync(dirname(dirname(pack)), { recursive: true, force: true });
  }
}

/** The checks of one crashed image on the host (the kernel's recovery is compared later). */
export async function checkCrashed(c: Crashed): Promise<GuestCrashOutcome> {
  // The serial port can lose the last lines: any later step may have been in flight.
  const verdict = await judgeCrash(c.bytes, c.steps, c.reported, { last: c.steps.length });
  return { where: c.where, reported: c.reported, ...verdict };
}

/** The kernel's recovery (the next boot's walk of main and t1) against the model's. */
export function compareRecovery(
  bytes: Uint8Array,
  kernel: Record<string, unknown> | undefined,
): string | null {
  if (!kernel) return "the next boot printed nothing for this image";
  if (kernel.error) return `the next boot: ${String(kernel.error)}`;
  const model = recoverAsNextWriter(bytes);
  const mainDiff = diffWalks(
    "the model's main",
    modelWalk(model, "main"),
    "the kernel's main",
    kernel.mainWalk as WalkEntry[],
  );
  if (mainDiff) return `after recovery, main differs:\n${mainDiff}`;
  const t1 = DaxfsImage.open(new MemoryImage(model, false)).findBranch("t1");
  const modelT1 = t1?.state === BranchState.ACTIVE;
  const kernelT1 = typeof kernel.t1 !== "string";
  if (modelT1 !== kernelT1)
    return `after recovery, t1 is ${modelT1 ? "ACTIVE" : "gone"} for the model but the kernel's mount gave ${kernelT1 ? "a tree" : String(kernel.t1)}`;
  if (!modelT1) return null;
  const t1Diff = diffWalks(
    "the model's t1",
    modelWalk(model, "t1"),
    "the kernel's t1",
    kernel.t1 as WalkEntry[],
  );
  return t1Diff ? `after recovery, t1 differs:\n${t1Diff}` : null;
}

export interface GuestCrashSearch {
  kernel: string;
  seed: number;
  /** Boots that quit QEMU mid-way (one more boot recovers the last one's images). */
  boots: number;
  /** Sequences per boot, run at once. */
  perBoot: number;
  maxLength?: number;
  onProgress?: (outcome: GuestCrashOutcome) => void;
}

/** `boots` guest crashes of `perBoot` sequences each; the first violation ends the search. */
export async function guestCrashSearch(options: GuestCrashSearch): Promise<{
  outcomes: GuestCrashOutcome[];
  failure: { outcome: GuestCrashOutcome; steps: Step[] } | null;
}> {
  const count = options.boots * options.perBoot;
  const sequences = fc
    .sample(sequenceArb(options.maxLength), { seed: options.seed, numRuns: count })
    .map((all) => crashSteps(all));
  // Per boot: which sequence's progress triggers the quit, and after which of its steps (or the commit).
  const triggers = fc
    .sample(fc.tuple(fc.nat(), fc.nat()), { seed: options.seed + 1, numRuns: options.boots })
    .map(([which, at], boot): QuitTrigger => {
      const j = which % options.perBoot;
      const steps = sequences[boot * options.perBoot + j]?.length ?? 0;
      return { name: `q${j}`, after: (at % (steps + 1)) + 1 };
    });
  const outcomes: GuestCrashOutcome[] = [];
  let pending: Crashed[] = [];
  const recoverPending = (recovered: Map<string, Record<string, unknown>>) => {
    for (const [i, c] of pending.entries()) {
      const problem = compareRecovery(c.bytes, recovered.get(`r${i}`));
      const outcome = outcomes.find((o) => o.where === c.where) as GuestCrashOutcome;
      if (problem)
        return {
          outcome: { ...outcome, problem: `kernel and model recover differently: ${problem}` },
          steps: c.steps,
        };
      outcome.state += "; the kernel recovered it alike";
    }
    return null;
  };
  for (let boot = 0; boot <= options.boots; boot++) {
    const last = boot === options.boots;
    const batch = last ? [] : sequences.slice(boot * options.perBoot, (boot + 1) * options.perBoot);
    const recover = pending.map((c, i) => ({ name: `r${i}`, bytes: c.bytes }));
    const { crashed, recovered } = last
      ? await recoverBoot(options.kernel, recover)
      : await crashBoot(options.kernel, boot + 1, batch, recover, triggers[boot] as QuitTrigger);
    const failed = recoverPending(recovered);
    if (failed) return { outcomes, failure: failed };
    for (const c of crashed) {
      const outcome = await checkCrashed(c);
      outcomes.push(outcome);
      options.onProgress?.(outcome);
      if (outcome.problem) return { outcomes, failure: { outcome, steps: c.steps } };
    }
    pending = crashed;
  }
  return { outcomes, failure: null };
}

/** The last boot: only the recovery of the previous boot's images, run to the end. */
async function recoverBoot(
  kernel: string,
  recover: { name: string; bytes: Uint8Array }[],
): Promise<{ crashed: Crashed[]; recovered: Map<string, Record<string, unknown>> }> {
  if (recover.length === 0) return { crashed: [], recovered: new Map() };
  const node = `host_run env TSX_TSCONFIG_PATH=${TSCONFIG} node --import tsx test/difftest/guest-main.ts`;
  const batch = JSON.stringify(recover.map((r) => ({ name: r.name, recover: true })));
  const where = recover.map((r) => `${r.name}=$(img_phys ${r.name}):$(img_size ${r.name})`).join(" ");
  const script = `cat > "$SCRATCH/recover.json" <<'DIFFTEST_BATCH'\n${batch}\nDIFFTEST_BATCH\n${node} "$SCRATCH/recover.json" ${where}\n`;
  const run = await runGuest({
    kernel,
    images: recover,
    scenarios: [{ name: "recover", script }],
    hostRoot: true,
    timeoutSec: 600,
  });
  const recovered = new Map<string, Record<string, unknown>>();
  for (const line of run.scenarios.get("recover")?.lines ?? []) {
    if (!line.startsWith("DIFFTEST {")) continue;
    const parsed = JSON.parse(line.slice("DIFFTEST ".length)) as Record<string, unknown>;
    recovered.set(String(parsed.name), parsed);
  }
  return { crashed: [], recovered };
}
