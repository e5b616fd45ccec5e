// Cross-implementation write test (NOTES.md "Semantics", last rule): sequences of file operations
// (a fixed tour through every kind, then fast-check sequences from a FIXED seed) are performed
// through a writable daxfs-fuse branch mount, committed through the control channel, and also on
// a plain host directory (the POSIX reference). Then the committed main must be the same tree in
// the image model, in a read-only daxfs-fuse mount and in the kernel module's mount in a QEMU
// guest: the kernel replays logs written by the TypeScript writer. One image per sequence, all
// in one guest boot. Reproduce or widen with DAXFS_CROSS_SEED / DAXFS_CROSS_RUNS.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage } from "@daxfs/core";
import { controlRequest, controlSocketPath } from "@daxfs/fuse-ref";
import { FuseHarness } from "@daxfs/fuse-ref/testing";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { walkScript } from "../kernel/walk.js";
import { GuestSession, mmapScript, planKernels, walkScenario } from "./guest.js";
import { applyOp, describeOp, materialize, type Op, opArb, seedTree, tourOps } from "./ops.js";
import { expectSameWalk, fsWalk, hostComparable, modelWalk, type WalkEntry } from "./walk.js";

const SEED = Number(process.env.DAXFS_CROSS_SEED ?? 20261123);
const RANDOM_RUNS = Number(process.env.DAXFS_CROSS_RUNS ?? 9);
const sequences: Op[][] = [
  tourOps(),
  ...fc.sample(fc.array(opArb, { minLength: 10, maxLength: 40 }), { seed: SEED, numRuns: RANDOM_RUNS }),
];

interface Prepared {
  ops: Op[];
  fuseOutcomes: string[];
  hostOutcomes: string[];
  host: WalkEntry[];
  branch: WalkEntry[];
  model: WalkEntry[];
  readOnly: WalkEntry[];
  bytes: Uint8Array;
}

const harness = new FuseHarness();
const hostRoot = mkdtempSync(join(tmpdir(), "daxfs-cross-host-"));
const prepared: (Prepared | Error)[] = [];

async function prepare(index: number, ops: Op[]): Promise<Prepared> {
  const tree = seedTree(index);
  const image = join(harness.dir, `w${index}.daxfs`);
  writeFileSync(image, buildImage(tree, { branching: true, deltaSize: 8 << 20 }));
  const host = join(hostRoot, `w${index}`);
  materialize(tree, host);
  const hostOutcomes = ops.map((op) => applyOp(host, op));

  // Odd sequences run on a two-level chain: the first half in branch "outer" (child of main),
  // the rest in "inner" (child of outer, mounted by a second process); committing inner applies
  // both logs to main (SPEC 3.9), so the kernel also checks the writer's chain merge.
  const nested = index % 2 === 1;
  const split = nested ? Math.floor(ops.length / 2) : ops.length;
  const outer = await harness.mount(image, ["--branch", "outer", "--parent", "main"]);
  const fuseOutcomes = ops.slice(0, split).map((op) => applyOp(outer.mountpoint, op));
  const inner = nested ? await harness.mount(image, ["--branch", "inner", "--parent", "outer"]) : null;
  const top = inner ?? outer;
  fuseOutcomes.push(...ops.slice(split).map((op) => applyOp(top.mountpoint, op)));
  const branch = fsWalk(top.mountpoint);
  const reply = await controlRequest(controlSocketPath(top.mountpoint), "commit");
  if (!reply.ok) throw new Error(`commit through the control channel failed: ${JSON.stringify(reply)}`);
  for (const mount of inner ? [inner, outer] : [outer]) {
    const code = await mount.stop();
    if (code !== 0) throw new Error(`daxfs-fuse (branch) exited ${code}: ${mount.output()}`);
  }

  const readOnly = await harness.mount(image);
  const readOnlyWalk = fsWalk(readOnly.mountpoint);
  const roCode = await readOnly.stop();
  if (roCode !== 0) throw new Error(`daxfs-fuse (main) exited ${roCode}: ${readOnly.output()}`);

  return {
    ops,
    fuseOutcomes,
    hostOutcomes,
    host: fsWalk(host),
    branch,
    model: modelWalk(image, "main"),
    readOnly: readOnlyWalk,
    bytes: new Uint8Array(readFileSync(image)),
  };
}

beforeAll(async () => {
  for (const [index, ops] of sequences.entries()) {
    try {
      prepared.push(await prepare(index, ops));
    } catch (error) {
      prepared.push(error instanceof Error ? error : new Error(String(error)));
    }
  }
}, 300_000);
afterAll(async () => {
  await harness.cleanup();
  rmSync(hostRoot, { recursive: true, force: true });
});

/** The sequence's result, or its preparation error (with the operations, to reproduce it). */
function result(index: number): Prepared {
  const p = prepared[index];
  if (p instanceof Error) throw new Error(`sequence ${index} (seed ${SEED}): ${p.message}`);
  if (!p) throw new Error(`sequence ${index} was not prepared`);
  return p;
}

function opsListing(p: Prepared): string {
  return p.ops
    .map((op, i) => `  ${describeOp(op)} -> fuse ${p.fuseOutcomes[i]}, host ${p.hostOutcomes[i]}`)
    .join("\n");
}

function withOps(index: number, check: (p: Prepared) => void): void {
  const p = result(index);
  try {
    check(p);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${message}\nsequence ${index} (seed ${SEED}):\n${opsListing(p)}`);
  }
}

const kernels = planKernels(["6.12"]);

for (const [index, ops] of sequences.entries()) {
  const what = `${index === 0 ? "the tour" : `seed ${SEED}`}, ${ops.length} operations, ${index % 2 ? "main/outer/inner" : "main/outer"}`;
  describe(`sequence ${index} (${what})`, () => {
    it("each operation on the daxfs-fuse branch has the host directory's outcome", () => {
      withOps(index, (p) => expect(p.fuseOutcomes).toEqual(p.hostOutcomes));
    });

    it("the committed main in the image model is the host directory's tree", () => {
      withOps(index, (p) =>
        expectSameWalk("host directory", hostComparable(p.host), "image model", hostComparable(p.model)),
      );
    });

    it("the branch mount before commit showed the tree the image model has in main after it", () => {
      withOps(index, (p) => expectSameWalk("image model", p.model, "branch mount", p.branch));
    });

    it("a read-only daxfs-fuse mount of main walks the image model's tree", () => {
      withOps(index, (p) => expectSameWalk("image model", p.model, "daxfs-fuse main", p.readOnly));
    });
  });
}

it("every kind of operation succeeded at least once on the host (the sequences are not all errors)", () => {
  const succeeded = new Set<string>();
  for (const index of sequences.keys()) {
    const p = result(index);
    p.ops.forEach((op, i) => {
      if (p.hostOutcomes[i] === "ok") succeeded.add(op.kind);
    });
  }
  const kinds = ["write", "pwrite", "append", "fill", "truncate", "mkdir", "rmdir", "unlink", "rename"];
  expect([...succeeded].sort()).toEqual(
    [...kinds, "symlink", "link", "chmod", "chown", "lchown", "populate"].sort(),
  );
});

describe("the kernel module replays the committed main logs", () => {
  for (const { kernel, reason } of kernels.missing) {
    if (kernels.mustRun)
      it(`on Linux ${kernel} (CI=true: must run)`, () => {
        throw new Error(reason);
      });
    else it.skip(`on Linux ${kernel} (skipped: ${reason})`, () => {});
  }

  for (const kernel of kernels.run) {
    describe(`Linux ${kernel}`, () => {
      const guest = new GuestSession(kernel);
      beforeAll(async () => {
        const images = sequences.map((_, index) => {
          const p = prepared[index];
          return { name: `w${index}`, bytes: p instanceof Error || !p ? new Uint8Array(4096) : p.bytes };
        });
        await guest.boot(
          images,
          images.map(({ name }) => walkScenario(name, walkScript, mmapScript)),
        );
      }, 600_000);

      for (const index of sequences.keys()) {
        it(`sequence ${index}: the kernel's mount of main (validate accepts it) walks the image model's tree`, () => {
          withOps(index, (p) =>
            expectSameWalk("image model", p.model, `daxfs.ko ${kernel}`, guest.walk(`w${index}`)),
          );
        });
      }

      for (const index of sequences.keys()) {
        it(`sequence ${index}: mmap of every replayed file equals read(), copy on write holds, SIGBUS past EOF`, () => {
          withOps(index, (p) => {
            const lines = guest.lines(`w${index}`);
            const files = p.model.filter((e) => e.type === "file" && (e.size ?? 0) > 0);
            expect(lines.filter((l) => l.startsWith("FAIL "))).toEqual([]);
            expect(lines).toContain(`MMAP-CHECKED ${files.length}`);
          });
        });
      }
    });
  }
});
