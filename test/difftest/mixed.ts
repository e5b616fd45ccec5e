// Mixed writers on one chain (docs/testing.md "Differential testing"): levels t1, t2, t3, t4
// written alternately by daxfs.ko in a guest (t1, t3) and by daxfs-fuse on the host (t2, t4), all
// on one image — the first of the pack, so daxfs-fuse opens the NVDIMM's backing file itself
// (offset 0) and both share its memory, coordination lock included. daxfs-fuse's top level of a
// round is committed through its control channel (the whole chain reaches main); the next round
// starts a new chain under main. The host and the guest hand the work over through the guest's
// result port (guest -> host) and files in a host directory the guest sees over 9p (host -> guest).
// Checked: every step's outcome equals tmpfs's and the model's for the same steps as one chain; the
// top's tree before each commit (daxfs-fuse's walk) equals theirs; at the end the kernel's walk of
// main (mounted with `validate`) equals the model's, and the pack's image validates and replays in
// @daxfs/core to that tree.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildImage, MemoryImage, validate } from "@daxfs/core";
import { controlRequest, controlSocketPath } from "@daxfs/fuse-ref";
import { FuseHarness } from "@daxfs/fuse-ref/testing";
import { seedTree } from "../cross/ops.js";
import { diffWalks, fsWalk, hostComparable, modelWalk, type WalkEntry } from "../cross/walk.js";
import { runGuest } from "../qemu/bench.js";
import { DELTA_SIZE, type Driver, FsFiles, SEED_TREE_INDEX } from "./driver.js";
import { applyOnFuse, HostDriver, killMount } from "./fs-drivers.js";
import { resultLines, waitForGuest } from "./guest-watch.js";
import { ModelDriver } from "./model-driver.js";
import { BRANCH_KINDS, describeStep, type Step, stepsToJson } from "./steps.js";

/** Levels per round: kernel, daxfs-fuse, kernel, daxfs-fuse (the last is committed). */
export const MIXED_ROUND = 4;
const TSCONFIG = "test/difftest/tsconfig.cli.json";

/** A generated sequence's file steps split into the MIXED_ROUND levels of one round. */
export function roundLevels(all: Step[]): Step[][] {
  const steps = all.filter((s) => !BRANCH_KINDS.has(s.kind));
  return Array.from({ length: MIXED_ROUND }, (_, i) =>
    steps.slice(
      Math.floor((i * steps.length) / MIXED_ROUND),
      Math.floor(((i + 1) * steps.length) / MIXED_ROUND),
    ),
  );
}

/** Who writes level `i` (0-based): the kernel the even ones, daxfs-fuse the odd ones. */
const writer = (i: number) => (i % 2 === 0 ? "daxfs.ko" : "daxfs-fuse");

interface Reference {
  outcomes: string[][];
  /** The top's tree just before each round's commit. */
  tops: WalkEntry[][];
  main: WalkEntry[];
}

/** The levels as one chain on a reference driver: a child between levels, a commit after each round. */
async function reference(driver: Driver, levels: Step[][]): Promise<Reference> {
  const chain: Step[] = levels.flatMap((steps, i) => [
    ...steps,
    i % MIXED_ROUND === MIXED_ROUND - 1 ? { kind: "commit" as const } : { kind: "child" as const },
  ]);
  await driver.start(seedTree(SEED_TREE_INDEX), chain);
  const outcomes: string[][] = [];
  const tops: WalkEntry[][] = [];
  for (const [i, steps] of levels.entries()) {
    const level: string[] = [];
    for (const step of steps) level.push(await driver.apply(step));
    outcomes.push(level);
    if (i % MIXED_ROUND === MIXED_ROUND - 1) tops.push((await driver.end()).walk);
    await driver.apply(i % MIXED_ROUND === MIXED_ROUND - 1 ? { kind: "commit" } : { kind: "child" });
  }
  const end = await driver.end();
  return { outcomes, tops, main: end.image ? modelWalk(end.image, "main") : [] };
}

/** The host's half: each daxfs-fuse level once the guest reported the level before it. */
async function hostLevels(
  pack: string,
  offsets: Map<string, number>,
  levels: Step[][],
  signals: string,
  got: { outcomes: string[][]; tops: WalkEntry[][]; commits: string[] },
): Promise<void> {
  if (offsets.get("m0") !== 0) throw new Error("mixed: the chain's image is not at the start of the pack");
  const harness = new FuseHarness();
  try {
    for (const [i, steps] of levels.entries()) {
      if (i % 2 === 0) continue;
      const reported = (lines: string[]) => lines.some((l) => l.startsWith(`DIFFTEST-MIXED m0 ${i - 1} `));
      const lines = await waitForGuest(
        pack,
        (l) => reported(l) || l.some((x) => x.startsWith("DIFFTEST {") || x.startsWith("@@BENCH done")),
        600_000,
      );
      if (!lines || !reported(lines))
        throw new Error(
          `mixed: the guest stopped before level ${i} (t${i}): ${(lines ?? resultLines(pack)).slice(-20).join("\n")}`,
        );
      const mount = await harness.mount(pack, ["--branch", `t${i + 1}`, "--parent", `t${i}`]);
      const files = new FsFiles(() => mount.mountpoint);
      got.outcomes[i] = steps.map((step) => applyOnFuse(files, step));
      files.closeAll();
      if (i % MIXED_ROUND === MIXED_ROUND - 1) {
        got.tops.push(fsWalk(mount.mountpoint));
        const reply = await controlRequest(controlSocketPath(mount.mountpoint), "commit");
        got.commits.push(reply.ok ? "ok" : String((reply as { errno?: string }).errno));
        await mount.stop();
      } else await killMount(mount); // leaves t(i+1) ACTIVE for the kernel's next level
      writeFileSync(join(signals, `level-${i}`), "");
    }
  } finally {
    await harness.cleanup();
  }
}

/**
 * One boot: `levels` (rounds of MIXED_ROUND) on one image, alternately by the kernel and
 * daxfs-fuse; returns the first disagreement with tmpfs and the model, or null.
 */
export async function runMixed(kernel: string, levels: Step[][]): Promise<string | null> {
  const image = buildImage(seedTree(SEED_TREE_INDEX), { branching: true, deltaSize: DELTA_SIZE });
  // A host directory the guest sees (read-only, 9p): host_run's /tmp is the guest's own.
  const signals = mkdtempSync("/var/tmp/daxfs-mixed-");
  const batch = [{ name: "m0", mixed: { levels: levels.map(stepsToJson), signals, round: MIXED_ROUND } }];
  const script = `cat > "$SCRATCH/mixed.json" <<'DIFFTEST_BATCH'
${JSON.stringify(batch)}
DIFFTEST_BATCH
host_run env TSX_TSCONFIG_PATH=${TSCONFIG} node --import tsx test/difftest/guest-main.ts "$SCRATCH/mixed.json" m0=$(img_phys m0):$(img_size m0)
`;
  const got = { outcomes: [] as string[][], tops: [] as WalkEntry[][], commits: [] as string[] };
  let hostError: unknown = null;
  let run: Awaited<ReturnType<typeof runGuest>>;
  try {
    run = await runGuest({
      kernel,
      images: [{ name: "m0", bytes: image }],
      scenarios: [{ name: "mixed", script }],
      hostRoot: true,
      returnImages: true,
      timeoutSec: 900,
      whileRunning: (pack, offsets) =>
        hostLevels(pack, offsets, levels, signals, got).catch((error: unknown) => {
          hostError = error;
          // Let the guest go on (it would wait for ever): every level marked done.
          for (let i = 1; i < levels.length; i += 2) writeFileSync(join(signals, `level-${i}`), "");
        }),
    });
  } finally {
    rmSync(signals, { recursive: true, force: true });
  }
  if (hostError)
    return `the host's levels failed: ${hostError instanceof Error ? hostError.message : String(hostError)}`;
  const lines = run.scenarios.get("mixed")?.lines ?? [];
  for (const line of lines) {
    const m = /^DIFFTEST-MIXED m0 (\d+) (.*)$/.exec(line);
    if (m) got.outcomes[Number(m[1])] = JSON.parse(m[2] as string) as string[];
  }
  const final = lines.find((l) => l.startsWith("DIFFTEST {"));
  const guest = final ? (JSON.parse(final.slice("DIFFTEST ".length)) as Record<string, unknown>) : null;
  if (!guest || guest.error) return `the guest: ${String(guest?.error ?? "no result")}`;

  const host = new HostDriver();
  try {
    const tmpfs = await reference(host, levels);
    const model = await reference(new ModelDriver(), levels);
    for (const [i, steps] of levels.entries())
      for (const [s, step] of steps.entries()) {
        const want = tmpfs.outcomes[i]?.[s];
        const mine = got.outcomes[i]?.[s];
        if (mine !== want || model.outcomes[i]?.[s] !== want)
          return `level t${i + 1} (${writer(i)}) step ${s + 1} ${describeStep(step)}: tmpfs ${want}, model ${model.outcomes[i]?.[s]}, ${writer(i)} ${mine}`;
      }
    if (got.commits.some((c) => c !== "ok")) return `daxfs-fuse's commits answered ${got.commits.join(", ")}`;
    for (const [r, top] of got.tops.entries()) {
      const diff =
        diffWalks("tmpfs", hostComparable(tmpfs.tops[r] ?? []), "daxfs-fuse", hostComparable(top)) ||
        diffWalks("the model", model.tops[r] ?? [], "daxfs-fuse", top);
      if (diff) return `round ${r + 1}: the top's tree before the commit differs:\n${diff}`;
    }
    const kernelMain = guest.mainWalk as WalkEntry[];
    const packed = run.images.get("m0") as Uint8Array;
    const problems = validate(new MemoryImage(packed, false)).problems;
    if (problems.length > 0)
      return `the shared image does not validate: ${JSON.stringify(problems.slice(0, 3))}`;
    return (
      diffWalks("the model's main", model.main, "daxfs.ko's main", kernelMain) ||
      diffWalks(
        "the model's main",
        model.main,
        "@daxfs/core replaying the shared image",
        modelWalk(packed, "main"),
      ) ||
      null
    );
  } finally {
    await host.close();
    host.dispose();
  }
}

/** The steps of every level with its writer, for a report. */
export function mixedListing(levels: Step[][]): string {
  return levels
    .map(
      (steps, i) => `  t${i + 1} (${writer(i)}):\n${steps.map((s) => `    ${describeStep(s)}`).join("\n")}`,
    )
    .join("\n");
}
