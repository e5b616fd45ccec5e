// Fuzzing the validator (issue 4): mutate valid images and check that validate never throws,
// finishes within a time bound, keeps its problem cap, and that every image it accepts can be
// walked and read in full through the image model. A failing image is written to fixtures/ (gzip)
// and from then on replayed by the regression test below. CI runs a fixed seed and a modest
// budget; DAXFS_FUZZ_RUNS=N raises the number of runs per seed image.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MemoryImage } from "../image-source.js";
import { damageSeed, fuzzSeedImages, mutate, mutationArb, type Seed } from "../testing/index.js";
import { validate } from "./validate.js";
import { walkAndReadAll } from "./walk-check.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const RUNS = Number(process.env.DAXFS_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.DAXFS_FUZZ_SEED ?? 20261123);
/** Wall-clock bound for one validate of these small images; generous for a loaded CI machine. */
const VALIDATE_BOUND_MS = 2000;
const MAX_PROBLEMS = 50;

function seeds(): Seed[] {
  const all = fuzzSeedImages().map(({ name, bytes, backing }) => damageSeed(name, bytes, backing));
  for (const seed of all) {
    expect(
      validate(new MemoryImage(seed.bytes), { backingSize: seed.backing?.length }).problems,
      `seed ${seed.name} is valid`,
    ).toEqual([]);
  }
  return all;
}

function saveFixture(bytes: Uint8Array, why: string): string {
  mkdirSync(FIXTURES, { recursive: true });
  const name = `fuzz-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.bin.gz`;
  writeFileSync(new URL(name, FIXTURES), gzipSync(bytes));
  writeFileSync(new URL(`${name}.txt`, FIXTURES), `${why}\n`);
  return name;
}

/**
 * The properties every image must satisfy; throws (after saving the image) when one fails.
 * Returns whether validate accepted the image.
 */
function checkImage(bytes: Uint8Array, save: boolean, backing?: Uint8Array): boolean {
  try {
    const started = performance.now();
    const report = validate(new MemoryImage(bytes, false), {
      maxProblems: MAX_PROBLEMS,
      backingSize: backing?.length,
    });
    const elapsed = performance.now() - started;
    if (elapsed > VALIDATE_BOUND_MS) throw new Error(`validate took ${elapsed.toFixed(0)} ms`);
    if (report.problems.length > MAX_PROBLEMS) throw new Error("problem cap exceeded");
    if (report.problems.length === 0)
      walkAndReadAll(new MemoryImage(bytes, false), backing && new MemoryImage(backing, false));
    return report.problems.length === 0;
  } catch (error) {
    if (save) {
      const name = saveFixture(
        bytes,
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      );
      throw new Error(`${(error as Error).message} (image saved as fixtures/${name})`);
    }
    throw error;
  }
}

describe("validate fuzzing", () => {
  const all = seeds();
  for (const seed of all) {
    it(`mutated ${seed.name} images: validate never throws, is bounded, and accepted images read fully`, () => {
      // A validator that refused every image, or found nothing wrong in any, must fail here.
      const verdicts = { accepted: 0, refused: 0 };
      fc.assert(
        fc.property(fc.array(mutationArb(seed), { minLength: 1, maxLength: 4 }), (mutations) => {
          if (checkImage(mutate(seed, mutations), true, seed.backing)) verdicts.accepted++;
          else verdicts.refused++;
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      expect(verdicts.accepted).toBeGreaterThan(0);
      expect(verdicts.refused).toBeGreaterThan(0);
    });
  }

  it("replays every saved fixture", () => {
    let files: string[] = [];
    try {
      files = readdirSync(FIXTURES).filter((f) => f.endsWith(".bin.gz"));
    } catch {
      files = [];
    }
    for (const name of files) checkImage(gunzipSync(readFileSync(new URL(name, FIXTURES))), false);
    // The seeds themselves are accepted and readable.
    for (const seed of all) expect(checkImage(seed.bytes, false, seed.backing), seed.name).toBe(true);
  });
});
