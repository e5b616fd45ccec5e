// daxfs.ko as a differential-test driver: prepare() boots one QEMU guest (--host-root) for a
// whole batch of sequences, one image of the pack each, and runs guest-main.ts in it through
// host_run; start/apply/end then answer from that run. The images are read back from the pack,
// so the kernel's logs, committed into main at the end of each sequence (guest-main.ts), are
// replayed by @daxfs/core (run.ts) and the image validated.
import { type BuildDir, buildImage } from "@daxfs/core";
import { seedTree } from "../cross/ops.js";
import { diffWalks, type WalkEntry } from "../cross/walk.js";
import { type GuestRun, runGuest } from "../qemu/bench.js";
import { DELTA_SIZE, type Driver, SEED_TREE_INDEX, type SequenceEnd } from "./driver.js";
import { type Step, stepsToJson } from "./steps.js";

interface GuestResult {
  outcomes: string[];
  walk: WalkEntry[];
  branch: string;
  image: Uint8Array;
}

/** An image another implementation wrote, and the branch in it to read. */
export interface Replay {
  name: string;
  image: Uint8Array;
  branch: string;
}

const keyOf = (steps: Step[]) => JSON.stringify(stepsToJson(steps));
const TSCONFIG = "test/difftest/tsconfig.cli.json";

export class KernelDriver implements Driver {
  readonly name: string;
  private results = new Map<string, GuestResult | Error>();
  private current: GuestResult | null = null;
  private next = 0;

  constructor(
    readonly kernel: string,
    private readonly timeoutSec = 600,
  ) {
    this.name = `daxfs.ko-${kernel}`;
  }

  /**
   * What the kernel made of each image a guest crash left (by its name in `recover`): recovered,
   * main and t1 walked (guest-main.ts recoverRun), for guest-crash.ts compareRecovery.
   */
  readonly recovered = new Map<string, Record<string, unknown>>();

  /** The kernel's walk of each replayed image's branch (by its name in `replays`), or its error. */
  readonly replayed = new Map<string, WalkEntry[] | Error>();

  /**
   * Runs `sequences` in one boot; `replays` are images other implementations wrote, whose
   * branch the guest re-attaches and walks in the same boot (their log read by the kernel);
   * `recover` are images a guest crash left, which the kernel recovers and walks.
   */
  async prepare(sequences: Step[][], replays: Replay[] = [], recover: Replay[] = []): Promise<void> {
    const fresh = sequences.filter((steps) => !this.results.has(keyOf(steps)));
    if (fresh.length === 0 && replays.length === 0 && recover.length === 0) return;
    const bytes = buildImage(seedTree(SEED_TREE_INDEX), { branching: true, deltaSize: DELTA_SIZE });
    const images = [
      ...fresh.map((_, i) => ({ name: `q${i}`, bytes })),
      ...replays.map((r, i) => ({ name: `r${i}`, bytes: r.image })),
      ...recover.map((r, i) => ({ name: `c${i}`, bytes: r.image })),
    ];
    const batch = [
      ...fresh.map((steps, i) => ({ name: `q${i}`, steps: stepsToJson(steps) })),
      ...replays.map((r, i) => ({ name: `r${i}`, replay: r.branch })),
      ...recover.map((_, i) => ({ name: `c${i}`, recover: true })),
    ];
    const where = images.map(({ name }) => `${name}=$(img_phys ${name}):$(img_size ${name})`).join(" ");
    const script = `cat > "$SCRATCH/batch.json" <<'DIFFTEST_BATCH'
${JSON.stringify(batch)}
DIFFTEST_BATCH
host_run env TSX_TSCONFIG_PATH=${TSCONFIG} node --import tsx test/difftest/guest-main.ts "$SCRATCH/batch.json" ${where}
`;
    let run: GuestRun;
    try {
      run = await runGuest({
        kernel: this.kernel,
        images,
        scenarios: [{ name: "difftest", script }],
        hostRoot: true,
        returnImages: true,
        timeoutSec: this.timeoutSec,
      });
    } catch (error) {
      const failed = error instanceof Error ? error : new Error(String(error));
      for (const steps of fresh) this.results.set(keyOf(steps), failed);
      for (const r of replays) this.replayed.set(r.name, failed);
      for (const r of recover) this.recovered.set(r.name, { error: failed.message });
      return;
    }
    const scenario = run.scenarios.get("difftest");
    const lines = new Map<string, Record<string, unknown>>();
    for (const line of scenario?.lines ?? []) {
      if (!line.startsWith("DIFFTEST ")) continue;
      const parsed = JSON.parse(line.slice("DIFFTEST ".length)) as Record<string, unknown>;
      lines.set(String(parsed.name), parsed);
    }
    for (const [i, r] of recover.entries()) this.recovered.set(r.name, lines.get(`c${i}`) ?? {});
    for (const [i, r] of replays.entries()) {
      const got = lines.get(`r${i}`);
      this.replayed.set(
        r.name,
        got?.walk
          ? (got.walk as WalkEntry[])
          : new Error(`Linux ${this.kernel}: replaying ${r.name}: ${String(got?.error ?? "no result")}`),
      );
    }
    for (const [i, steps] of fresh.entries()) {
      const name = `q${i}`;
      const got = lines.get(name);
      const image = run.images.get(name);
      if (!got || got.error || !image) {
        const why =
          got?.error ??
          `no result; scenario exit ${scenario?.exitCode}:\n${(scenario?.output ?? run.console).slice(-3000)}`;
        this.results.set(keyOf(steps), new Error(`Linux ${this.kernel}, ${name}: ${String(why)}`));
        continue;
      }
      const walk = got.walk as WalkEntry[];
      const mainDiff =
        got.commit !== "ok"
          ? `committing the top branch at the end gave ${String(got.commit)}`
          : typeof got.mainWalk === "string"
            ? got.mainWalk
            : diffWalks("the top branch before commit", walk, "main after it", got.mainWalk as WalkEntry[]);
      if (mainDiff) {
        this.results.set(keyOf(steps), new Error(`Linux ${this.kernel}, ${name}: ${mainDiff}`));
        continue;
      }
      // The walk is the top branch's; main (which the commit made equal to it) is what the host replays.
      this.results.set(keyOf(steps), { outcomes: got.outcomes as string[], walk, branch: "main", image });
    }
  }

  async start(_tree: BuildDir, steps: Step[]): Promise<void> {
    const result = this.results.get(keyOf(steps));
    if (!result) throw new Error(`${this.name}: this sequence was not in a prepared batch`);
    if (result instanceof Error) throw result;
    this.current = result;
    this.next = 0;
  }

  async apply(_step: Step): Promise<string> {
    const outcome = this.current?.outcomes[this.next++];
    if (outcome === undefined) throw new Error(`${this.name}: more steps than the guest ran`);
    return outcome;
  }

  async end(): Promise<SequenceEnd> {
    const result = this.current as GuestResult;
    return { walk: result.walk, image: result.image, branch: result.branch };
  }

  async close(): Promise<void> {
    this.results.clear();
  }
}
