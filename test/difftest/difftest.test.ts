// The differential test's fixed CI budget (docs/testing.md "Differential testing"): random
// sequences from fixed seeds through tmpfs (the reference), the image model, daxfs-fuse and, in one
// guest boot, daxfs.ko; every saved fixture replayed; and proof the tool can fail: a planted wrong
// rule in the model is found and shrunk to its two-step minimum. Widen with pnpm difftest.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { planKernels } from "../cross/guest.js";
import { seedTree } from "../cross/ops.js";
import { diffWalks, type WalkEntry } from "../cross/walk.js";
import { crashListing, crashSearch, crashSteps } from "./crash.js";
import { SEED_TREE_INDEX, type SequenceEnd } from "./driver.js";
import { FuseDriver, HostDriver } from "./fs-drivers.js";
import { type Crashed, checkCrashed, compareRecovery, crashBoot } from "./guest-crash.js";
import { KernelDriver, type Replay } from "./kernel-driver.js";
import { mixedListing, roundLevels, runMixed } from "./mixed.js";
import { ModelDriver } from "./model-driver.js";
import { checkSequence, runSequence, search, searchBatched } from "./run.js";
import { type Step, sequenceArb, stepsFromJson } from "./steps.js";

const SEED = 20261201;
/** A guest test's limit, with room to wait for the machine-wide guest lock (DAXFS_GUEST_LOCK). */
const GUEST_TIMEOUT = 1_800_000;
const host = new HostDriver();
const fuse = new FuseDriver();
afterAll(async () => {
  await fuse.close();
  await host.close();
  host.dispose();
});

const fixturesDir = join(import.meta.dirname, "fixtures");
const fixtures = readdirSync(fixturesDir)
  .filter((f) => f.endsWith(".json"))
  .map((file) => ({
    file,
    steps: stepsFromJson(JSON.parse(readFileSync(join(fixturesDir, file), "utf8")).steps),
  }));

function report(result: Awaited<ReturnType<typeof search>>): string {
  const f = result.failure;
  return f ? `seed ${result.seed}: ${f.what}\n${f.listing}` : "";
}

describe("tmpfs and the image model", () => {
  it("agree on 300 random sequences (outcomes, trees, the model's log replayed and validated)", async () => {
    const result = await search([host, new ModelDriver()], { runs: 300, seed: SEED });
    expect(report(result)).toBe("");
    expect(result.runs).toBe(300);
  }, 300_000);

  it("every kind of step succeeds at least once (the sequences are not all errors)", async () => {
    const model = new ModelDriver();
    const succeeded = new Set<string>();
    for (const steps of fc.sample(sequenceArb(), { seed: SEED, numRuns: 300 })) {
      await model.start(seedTree(SEED_TREE_INDEX), steps);
      for (const step of steps) if ((await model.apply(step)).startsWith("ok")) succeeded.add(step.kind);
    }
    expect([...succeeded].sort()).toEqual(
      [
        "open",
        "close",
        "fwrite",
        "fread",
        "ftruncate",
        "fsync",
        "write",
        "pwrite",
        "append",
        "truncate",
        "read",
        "mkdir",
        "rmdir",
        "unlink",
        "rename",
        "symlink",
        "link",
        "chmod",
        "chown",
        "lchown",
        "child",
        "commit",
        "abort",
        "sibling",
        "siblingWrite",
        "renameNoreplace",
        "mmapWrite",
        "mmapRead",
        "unmount",
        "remount",
        "switch",
      ].sort(),
    );
  }, 120_000);

  it("an ESTALE sibling, an unlinked open file and O_APPEND are checked, not just generated", async () => {
    const bytes = (s: string) => new TextEncoder().encode(s);
    const steps: Step[] = [
      { kind: "sibling" },
      { kind: "siblingWrite", data: bytes("before") },
      { kind: "open", slot: 0, path: "a", flags: "append" },
      { kind: "unlink", path: "a" },
      { kind: "fwrite", slot: 0, offset: 0, data: bytes("into an unlinked file") },
      { kind: "open", slot: 1, path: "big", flags: "append" },
      { kind: "fwrite", slot: 1, offset: 0, data: bytes("at the end") },
      { kind: "commit" },
      { kind: "siblingWrite", data: bytes("after") },
    ];
    const model = new ModelDriver();
    await model.start(seedTree(SEED_TREE_INDEX), steps);
    const outcomes = [];
    for (const step of steps) outcomes.push(await model.apply(step));
    expect(outcomes).toEqual(["ok", "ok", "ok", "ok", "ok", "ok", "ok", "ok", "ESTALE"]);
    expect(await checkSequence([host, new ModelDriver()], steps)).toBeNull();
  });
});

describe("a planted divergence (the model's O_APPEND writes at the given offset)", () => {
  it("is found and shrunk to at most two steps, one of them an O_APPEND write", async () => {
    const result = await search([host, new ModelDriver("append-at-offset")], { runs: 300, seed: SEED });
    const failure = result.failure;
    expect(failure, "the planted bug was not found").not.toBeNull();
    const steps = failure?.steps ?? [];
    expect(steps.length).toBeLessThanOrEqual(2);
    expect(steps.some((s) => s.kind === "append" || (s.kind === "open" && s.flags === "append"))).toBe(true);
    expect(result.shrinks).toBeGreaterThan(0);
    // Without the planted rule the same minimal sequence agrees: the divergence is the bug's.
    expect(await checkSequence([host, new ModelDriver()], steps)).toBeNull();
  }, 300_000);
});

describe("daxfs-fuse", () => {
  it("agrees with tmpfs and the model on 8 random sequences (its log replayed by core, validated)", async () => {
    const result = await search([host, new ModelDriver(), fuse], { runs: 8, seed: SEED });
    expect(report(result)).toBe("");
  }, 300_000);
});

describe("crash consistency: kill -9 of daxfs-fuse during file steps and the commit", () => {
  it("8 crashes: each image validates and holds a state the crash rule allows (crash-rule.test.ts), or the whole committed sequence", async () => {
    const { outcomes, failure } = await crashSearch({ runs: 8, seed: SEED, maxLength: 15 });
    expect(failure ? `${failure.outcome.problem}\n${crashListing(failure.steps)}` : "").toBe("");
    expect(outcomes).toHaveLength(8);
  }, 300_000);
});

describe("regression fixtures (test/difftest/fixtures)", () => {
  for (const { file, steps } of fixtures)
    it(`${file}: tmpfs, the model and daxfs-fuse agree`, async () => {
      const divergence = await checkSequence([host, new ModelDriver(), fuse], steps);
      expect(divergence ? `${divergence.what}\n${divergence.listing}` : "").toBe("");
    }, 120_000);
});

describe("daxfs.ko (a guest crash boot, then one boot: random sequences, every fixture, the crash recovery)", () => {
  const kernels = planKernels(["6.12"]);
  for (const { kernel, reason } of kernels.missing) {
    if (kernels.mustRun)
      it(`on Linux ${kernel} (CI=true: must run)`, () => {
        throw new Error(reason);
      });
    else it.skip(`on Linux ${kernel} (skipped: ${reason})`, () => {});
  }
  for (const kernel of kernels.run) {
    // Images a guest crash left, recovered by the kernel in the next test's boot (one boot less).
    let crashed: Crashed[] = [];
    it(
      `Linux ${kernel}: QEMU quit during 4 sequences (writes, log growth moves, commits): each image validates and holds a state the crash rule allows`,
      async () => {
        const sequences = fc
          .sample(sequenceArb(40), { seed: SEED + 2, numRuns: 4 })
          .map((all) => crashSteps(all));
        // The quit comes once the host sees q1 finish its 5th step: the guest is a little further by then.
        const boot = await crashBoot(kernel, 1, sequences, [], { name: "q1", after: 5 });
        for (const c of boot.crashed) {
          const outcome = await checkCrashed(c);
          console.info(
            `${outcome.where}: ${outcome.reported} of ${c.steps.length} steps reported, ${outcome.state}`,
          );
          expect(
            outcome.problem ? `${outcome.where}: ${outcome.problem}\n${crashListing(c.steps)}` : "",
          ).toBe("");
        }
        crashed = boot.crashed;
        expect(crashed).toHaveLength(4);
      },
      GUEST_TIMEOUT,
    );

    it(
      `Linux ${kernel}: one chain written alternately by daxfs.ko (guest) and daxfs-fuse (host) on the shared pack, 3 rounds of 4 levels: outcomes, trees and main agree with tmpfs and the model`,
      async () => {
        const levels = fc
          .sample(sequenceArb(24), { seed: SEED + 3, numRuns: 3 })
          .flatMap((s) => roundLevels(s));
        const problem = await runMixed(kernel, levels);
        expect(problem ? `${problem}\n${mixedListing(levels)}` : "").toBe("");
      },
      GUEST_TIMEOUT,
    );

    it(
      `Linux ${kernel}: 12 random sequences and the fixtures agree with tmpfs and the model; it reads daxfs-fuse's logs and recovers the crashed images as the model does`,
      async () => {
        const driver = new KernelDriver(kernel);
        const random = fc.sample(sequenceArb(), { seed: SEED, numRuns: 12 });
        // Logs daxfs-fuse wrote (its top branch, left ACTIVE), for the kernel to read in the same boot.
        const replays: Replay[] = [];
        const fuseWalks = new Map<string, WalkEntry[]>();
        for (const [i, steps] of fc.sample(sequenceArb(), { seed: SEED + 1, numRuns: 4 }).entries()) {
          const { ends } = await runSequence([fuse], steps);
          const end = ends[0] as SequenceEnd;
          replays.push({ name: `fuse${i}`, image: end.image as Uint8Array, branch: end.branch });
          fuseWalks.set(`fuse${i}`, end.walk);
        }
        expect(crashed, "the guest crash test before this one left no images").toHaveLength(4);
        const recover = crashed.map((c) => ({ name: c.where, image: c.bytes, branch: "t1" }));
        await driver.prepare([...random, ...fixtures.map((f) => f.steps)], replays, recover);
        for (const c of crashed)
          expect(
            `${c.where}: ${compareRecovery(c.bytes, driver.recovered.get(c.where)) ?? "recovered alike"}`,
          ).toBe(`${c.where}: recovered alike`);
        for (const [name, walk] of fuseWalks) {
          const seen = driver.replayed.get(name);
          if (seen instanceof Error) throw seen;
          expect(diffWalks(`daxfs-fuse (${name})`, walk, `daxfs.ko reading its log`, seen ?? [])).toBe("");
        }
        for (const steps of [...random, ...fixtures.map((f) => f.steps)]) {
          const divergence = await checkSequence([host, new ModelDriver(), driver], steps);
          expect(divergence ? `${divergence.what}\n${divergence.listing}` : "").toBe("");
        }
        // searchBatched is the same loop with shrinking; with everything prepared it boots no more.
        const again = await searchBatched([host, driver], { runs: 12, seed: SEED, batchSize: 12 });
        expect(again.failure).toBeNull();
      },
      GUEST_TIMEOUT,
    );
  }
});
