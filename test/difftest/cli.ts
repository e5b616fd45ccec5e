// pnpm difftest: the differential test as a command (docs/testing.md "Differential testing").
//
//   pnpm difftest [--impl kernel,fuse,model] [--runs N] [--seed S] [--kernel 6.1|6.12]
//                 [--max-length L] [--batch B] [--crash [--within-page]] [--mixed]
//
// --crash with --impl fuse kills daxfs-fuse (--runs crashes); with --impl kernel it quits QEMU
// (--runs boots of --batch sequences each, default 4, plus one boot that recovers the last).
// --mixed (--impl kernel,fuse): --runs sequences, each a round of four levels of one chain written
// alternately by daxfs.ko in the guest and daxfs-fuse on the host, --batch rounds (default 5) per boot.
//
// tmpfs (a host directory) is always the reference. Prints progress and the seed; on a divergence
// the minimal sequence (shrunk), every implementation's outcome per step, and the fixture it saved
// under test/difftest/fixtures/ (replayed by test/difftest/difftest.test.ts). Exit 1 on a
// divergence, 2 on bad usage.
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { crashListing, crashSearch } from "./crash.js";
import type { Driver } from "./driver.js";
import { FuseDriver, HostDriver } from "./fs-drivers.js";
import { guestCrashSearch } from "./guest-crash.js";
import { KernelDriver } from "./kernel-driver.js";
import { mixedListing, roundLevels, runMixed } from "./mixed.js";
import { ModelDriver, type PlantedBug } from "./model-driver.js";
import { fixtureJson, type SearchResult, search, searchBatched } from "./run.js";
import { sequenceArb } from "./steps.js";

const IMPLS = ["kernel", "fuse", "model"] as const;
const FIXTURES = resolve(import.meta.dirname, "fixtures");

function usage(message: string): never {
  process.stderr.write(`difftest: ${message}\n`);
  process.exit(2);
}

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) usage(`--${name} ${text}: not a whole number`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      impl: { type: "string", default: "model,fuse" },
      runs: { type: "string" },
      seed: { type: "string" },
      kernel: { type: "string", default: "6.12" },
      "max-length": { type: "string" },
      batch: { type: "string" },
      crash: { type: "boolean", default: false },
      "within-page": { type: "boolean", default: false },
      mixed: { type: "boolean", default: false },
    },
  });
  const impls = (values.impl ?? "").split(",").filter(Boolean);
  for (const impl of impls)
    if (!(IMPLS as readonly string[]).includes(impl)) usage(`--impl ${impl}: one of ${IMPLS.join(", ")}`);
  if (impls.length === 0) usage("--impl: name at least one of kernel, fuse, model");
  if (!["6.1", "6.12"].includes(values.kernel ?? "")) usage(`--kernel ${values.kernel}: 6.1 or 6.12`);
  const seed = integer("seed", values.seed, Date.now() % 2 ** 31);
  const runs = integer("runs", values.runs, impls.includes("kernel") ? 40 : 200);
  const maxLength = integer("max-length", values["max-length"], 30);
  const batchSize = integer("batch", values.batch, 20);
  const planted = (process.env.DAXFS_DIFFTEST_PLANT as PlantedBug | undefined) ?? null;

  if (values.mixed) {
    if (!impls.includes("kernel") || !impls.includes("fuse")) usage("--mixed needs --impl kernel,fuse");
    return mixed(values.kernel as string, runs, integer("batch", values.batch, 5), seed, maxLength);
  }
  if (values.crash) {
    if (impls.includes("model")) usage("--crash: --impl fuse (kill -9 of daxfs-fuse) or kernel (QEMU quit)");
    let code = 0;
    if (impls.includes("fuse")) code = await crash(runs, seed, maxLength, values["within-page"] ?? false);
    if (code === 0 && impls.includes("kernel"))
      code = await guestCrash(
        values.kernel as string,
        runs,
        integer("batch", values.batch, 4),
        seed,
        maxLength,
      );
    return code;
  }
  const host = new HostDriver();
  const drivers: Driver[] = [host];
  if (impls.includes("model")) drivers.push(new ModelDriver(planted));
  if (impls.includes("fuse")) drivers.push(new FuseDriver());
  if (impls.includes("kernel")) drivers.push(new KernelDriver(values.kernel as string));
  const batched = drivers.some((d) => d.prepare);
  process.stdout.write(
    `difftest: ${drivers.map((d) => d.name).join(", ")}; ${runs} sequences of up to ${maxLength} steps; seed ${seed}` +
      `${batched ? `; ${batchSize} per guest boot` : ""}${planted ? `; PLANTED BUG ${planted} in the model` : ""}\n`,
  );
  let result: SearchResult;
  const started = Date.now();
  const onProgress = (done: number) => {
    if (done % 10 === 0 || done === runs)
      process.stdout.write(`  ${done}/${runs} sequences, ${Math.round((Date.now() - started) / 1000)} s\n`);
  };
  try {
    result = batched
      ? await searchBatched(drivers, { runs, seed, maxLength, batchSize, onProgress })
      : await search(drivers, { runs, seed, maxLength, onProgress });
  } finally {
    for (const driver of drivers) await driver.close();
    host.dispose();
  }
  if (!result.failure) {
    process.stdout.write(`difftest: no divergence in ${result.runs} sequences (seed ${seed})\n`);
    return 0;
  }
  const { failure } = result;
  mkdirSync(FIXTURES, { recursive: true });
  const fixture = join(FIXTURES, `found-${impls.join("-")}-${seed}.json`);
  writeFileSync(
    fixture,
    fixtureJson(
      failure,
      `found by pnpm difftest --impl ${impls.join(",")} --seed ${seed} (${result.shrinks} shrinks)`,
    ),
  );
  process.stdout.write(
    `difftest: DIVERGENCE after ${result.runs} sequences (seed ${seed}), shrunk to ${failure.steps.length} steps:\n` +
      `${failure.listing}\n${failure.what}\nsaved as ${fixture}\n`,
  );
  return 1;
}

async function crash(runs: number, seed: number, maxLength: number, withinPage: boolean): Promise<number> {
  process.stdout.write(
    `difftest --crash: kill -9 daxfs-fuse during ${runs} sequences of up to ${maxLength} file steps + commit; seed ${seed}\n`,
  );
  const states = new Map<string, number>();
  const { failure } = await crashSearch({
    runs,
    withinPage,
    seed,
    maxLength,
    onProgress: (done, last) => {
      const kind = last.state.includes("bytes of the next write")
        ? "t1 with a torn write"
        : last.state.startsWith("t1 at")
          ? "t1 at a prefix"
          : last.state;
      states.set(kind, (states.get(kind) ?? 0) + 1);
      if (done % 10 === 0 || done === runs)
        process.stdout.write(
          `  ${done}/${runs} crashes: ${[...states].map(([k, n]) => `${k} ${n}`).join(", ")}\n`,
        );
    },
  });
  if (!failure) {
    process.stdout.write(
      `difftest --crash: every image validated and held a state the crash rule allows (seed ${seed})\n`,
    );
    return 0;
  }
  process.stdout.write(
    `difftest --crash: VIOLATION (seed ${seed}), killed after ${failure.killAfterMs} ms, ${failure.outcome.completed} steps done:\n` +
      `${crashListing(failure.steps)}\n${failure.outcome.problem}\n`,
  );
  return 1;
}

async function mixed(
  kernel: string,
  runs: number,
  perBoot: number,
  seed: number,
  maxLength: number,
): Promise<number> {
  process.stdout.write(
    `difftest --mixed: ${runs} sequences as chains written alternately by daxfs.ko (Linux ${kernel}) and daxfs-fuse, ${perBoot} per boot; seed ${seed}\n`,
  );
  const sequences = fc.sample(sequenceArb(maxLength), { seed, numRuns: runs });
  const started = Date.now();
  for (let at = 0; at < sequences.length; at += perBoot) {
    const levels = sequences.slice(at, at + perBoot).flatMap((steps) => roundLevels(steps));
    const problem = await runMixed(kernel, levels);
    if (problem) {
      process.stdout.write(
        `difftest --mixed: DIVERGENCE (seed ${seed}) in sequences ${at + 1}-${at + perBoot}:\n${mixedListing(levels)}\n${problem}\n`,
      );
      return 1;
    }
    process.stdout.write(
      `  ${Math.min(at + perBoot, runs)}/${runs} sequences, ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
  }
  process.stdout.write(`difftest --mixed: no divergence in ${runs} sequences (seed ${seed})\n`);
  return 0;
}

async function guestCrash(
  kernel: string,
  boots: number,
  perBoot: number,
  seed: number,
  maxLength: number,
): Promise<number> {
  process.stdout.write(
    `difftest --crash: quit QEMU (Linux ${kernel}) during ${boots} boots of ${perBoot} sequences of up to ${maxLength} file steps + commit; seed ${seed}\n`,
  );
  const started = Date.now();
  const { outcomes, failure } = await guestCrashSearch({
    kernel,
    seed,
    boots,
    perBoot,
    maxLength,
    onProgress: (o) =>
      process.stdout.write(
        `  ${o.where}: ${o.reported} steps reported, ${o.state}${o.problem ? " VIOLATION" : ""} (${Math.round((Date.now() - started) / 1000)} s)\n`,
      ),
  });
  if (!failure) {
    process.stdout.write(
      `difftest --crash: ${outcomes.length} images from ${boots} guest crashes validated, held a state the crash rule allows and recovered alike in the kernel and the model (seed ${seed})\n`,
    );
    return 0;
  }
  process.stdout.write(
    `difftest --crash: VIOLATION (seed ${seed}) at ${failure.outcome.where}, ${failure.outcome.reported} steps reported:\n` +
      `${crashListing(failure.steps)}\n${failure.outcome.problem}\n`,
  );
  return 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `difftest: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
