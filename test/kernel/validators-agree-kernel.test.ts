// NOTES.md "Validity": the TS validator and the kernel's `validate` option define validity
// identically, in both directions (issue 9 item 8). One QEMU boot per kernel mounts (a) the
// regression images of fixtures/validators/ (README there) and (b) a fixed-seed set of damaged
// branching and static images from @daxfs/core's fuzz generator, each with and without
// `validate`; every verdict must equal the TS validator's. Needs the QEMU bench
// (test/qemu/README.md); without it the suite is reported as skipped, not passed.
import { MemoryImage, validate } from "@daxfs/core";
import { branchingDamageSeed, damagedImages, damageSeed, fuzzSeedImages } from "@daxfs/core/testing";
import { DaxfsSuper } from "@daxfs/format";
import { beforeAll, describe, expect, it } from "vitest";
import { type GuestRun, installedKernels, runGuest } from "../qemu/bench.js";
import { mainLogImage, mergedLogImage } from "./fixture.js";
import { refusedCases, validatorFixtures } from "./validator-fixtures.js";
import { coreWalk, parseWalk, walkScript } from "./walk.js";

const kernels = installedKernels();
const fixtures = validatorFixtures();
const publicImage = fixtures.find((f) => f.name === "public_module_mounted_main")!;
const COUNT = Number(process.env.DAXFS_AGREE_FUZZ ?? 120);
const SEED = Number(process.env.DAXFS_AGREE_FUZZ_SEED ?? 20261201);

/** Seeds the kernel can mount (split images are unsupported there, not invalid). */
function kernelSeeds() {
  const images = fuzzSeedImages().filter((s) => !s.backing);
  images.push(
    { name: "mainlog", bytes: mainLogImage(1 << 20) },
    { name: "mergedlog", bytes: mergedLogImage() },
  );
  const branching = images.filter((s) => DaxfsSuper.decode(s.bytes, 0).branchTableEntries > 0);
  return {
    anywhere: images.map((s) => damageSeed(s.name, s.bytes)),
    branching: branching.map((s) => branchingDamageSeed(`${s.name}-branching`, s.bytes)),
  };
}

/** Damage anywhere in the metadata, and as many images damaged in the branching metadata only. */
const seeds = kernelSeeds();
const damaged = [
  ...damagedImages(seeds.anywhere, COUNT, SEED),
  ...damagedImages(seeds.branching, COUNT, SEED + 1000).map((d) => ({ ...d, name: `b${d.name}` })),
];
const tsProblems = new Map(
  damaged.map((d) => [d.name, validate(new MemoryImage(d.bytes, false), { maxProblems: 20 }).problems]),
);

/** Mount each image with and without `validate`; print the verdict and the kernel's line. */
function verdictScript(names: string[], exercise: boolean): string {
  return `exercise() {
  # The first MiB of each file: a damaged log may leave a sparse file of terabytes.
  find "$1" -type f -exec head -c 1048576 {} + >/dev/null 2>&1 || return 1
  ls -lR "$1" >/dev/null 2>&1 || return 1
  find "$1" -type l -exec readlink {} ';' >/dev/null 2>&1 || return 1
}
for f in ${names.join(" ")}; do
  if err=$(daxmount $f /mnt/$f validate 2>&1); then
    ${exercise ? 'if exercise /mnt/$f; then echo "VALID-OK $f"; else echo "VALID-ERRORS $f"; fi' : 'echo "VALID-OK $f"'}
    umount /mnt/$f
  else
    echo "VALIDATE-REFUSED $f|$(last_kmsg)|$err"
  fi
  if err=$(daxmount $f /mnt/$f 2>&1); then exercise /mnt/$f; echo "TRUSTED-MOUNTED $f"; umount /mnt/$f; else echo "TRUSTED-REFUSED $f|$(last_kmsg)|$err"; fi
done`;
}

/** The structure a kernel refusal line names: "daxfs: validate: <structure>: ...". */
function kernelStructure(line: string): string | undefined {
  return /daxfs: validate: ([^:]+):/.exec(line)?.[1];
}

describe.skipIf(kernels.length === 0).each(kernels)("validators agree on Linux %s", (kernel) => {
  let run: GuestRun;
  beforeAll(async () => {
    run = await runGuest({
      kernel,
      images: [...fixtures, ...damaged.map((d) => ({ name: d.name, bytes: d.bytes }))],
      scenarios: [
        {
          name: "cases",
          script: verdictScript(
            fixtures.map((f) => f.name),
            false,
          ),
        },
        {
          name: "public",
          script: `daxmount ${publicImage.name} /mnt/p validate\n${walkScript("/mnt/p")}\numount /mnt/p`,
        },
        {
          name: "fuzz",
          script: verdictScript(
            damaged.map((d) => d.name),
            true,
          ),
        },
      ],
      timeoutSec: 420,
    });
  }, 600_000);

  const lines = (name: string) => {
    const r = run.scenarios.get(name);
    if (!r) throw new Error(`scenario ${name} did not run; console:\n${run.console.slice(-3000)}`);
    return r.lines;
  };
  const verdict = (scenario: string, image: string, kind: "VALID" | "TRUSTED") =>
    lines(scenario).find(
      (l) =>
        (kind === "VALID" ? /^(VALID-OK|VALID-ERRORS|VALIDATE-REFUSED) / : /^TRUSTED-/).test(l) &&
        l.split("|")[0]!.endsWith(` ${image}`),
    );

  it("refuses each regression image under validate, naming a structure the TS validator names", () => {
    for (const c of refusedCases(fixtures)) {
      const line = verdict("cases", c.name, "VALID");
      expect(line, c.name).toMatch(/^VALIDATE-REFUSED .*Invalid argument/);
      const structure = kernelStructure(line!);
      expect(
        c.problems.map((p) => p.structure),
        `${c.name}: kernel said ${line}`,
      ).toContain(structure);
    }
  });

  it("refuses a damaged main record at every mount, never serving the base alone", () => {
    for (const c of refusedCases(fixtures).filter((c) => c.problems[0]!.structure.startsWith("branch 0")))
      expect(verdict("cases", c.name, "TRUSTED"), c.name).toMatch(
        /^TRUSTED-REFUSED .*bad main branch record/,
      );
  });

  it("accepts the public tools' image after a public mount of main, and reads it as @daxfs/core does", () => {
    expect(verdict("cases", publicImage.name, "VALID")).toBe(`VALID-OK ${publicImage.name}`);
    expect(verdict("cases", publicImage.name, "TRUSTED")).toBe(`TRUSTED-MOUNTED ${publicImage.name}`);
    const walked = parseWalk(lines("public")).map(({ blocks, ...rest }) => rest);
    expect(walked.length).toBeGreaterThan(10);
    expect(walked).toEqual(coreWalk(publicImage.bytes, true));
  });

  it("gives every damaged image the TS validator's verdict, in both directions", () => {
    const disagreements: string[] = [];
    let refused = 0;
    for (const d of damaged) {
      const problems = tsProblems.get(d.name)!;
      const line = verdict("fuzz", d.name, "VALID");
      if (!line) throw new Error(`${d.name}: no verdict`);
      const kernelRefused = line.startsWith("VALIDATE-REFUSED");
      if (kernelRefused) refused++;
      if (kernelRefused !== problems.length > 0 || line.startsWith("VALID-ERRORS"))
        disagreements.push(
          `${d.name} (seed ${d.seed}): kernel ${line}; TS ${problems.length ? problems.map((p) => `${p.structure}.${p.field}: ${p.message}`).join("; ") : "valid"}`,
        );
    }
    expect(disagreements).toEqual([]);
    // The generator must produce both kinds, or the agreement is not tested.
    expect(refused).toBeGreaterThan(damaged.length / 4);
    expect(refused).toBeLessThan(damaged.length);
  });

  it("mounts or refuses every damaged image without validate, never crashing", () => {
    for (const d of damaged) expect(verdict("fuzz", d.name, "TRUSTED"), d.name).toBeDefined();
    expect(run.console).not.toMatch(/Oops|BUG:|WARNING:|general protection/);
  });
});
