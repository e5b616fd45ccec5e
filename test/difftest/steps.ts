// The differential test's operation language (docs/testing.md "Differential testing"): steps a
// program does to a writable branch — path calls (test/cross/ops.ts's Op, reused), calls on open
// file descriptors (three slots: open with any flags, pwrite incl. O_APPEND, read, ftruncate,
// fsync, close; an unlinked file stays open), MAP_SHARED mappings (mmapWrite stores through one
// and msyncs, mmapRead loads), renameat2(RENAME_NOREPLACE) — and branch steps on the chain: a child
// of the top branch, commit, abort, unmount of the top, remount of the top, a sibling of the chain
// under main, a write to it (ESTALE once main moved), and a switch to it. One fast-check arbitrary generates sequences; every driver runs the same sequence.
import fc from "fast-check";
import { describeOp, LONG_NAME, type Op } from "../cross/ops.js";

export type Slot = 0 | 1 | 2;

/** open(2) flags, by name so scripts read well; every driver maps them the same way. */
export const OPEN_FLAGS = ["r", "w", "rw", "create", "append", "trunc", "excl"] as const;
export type OpenFlags = (typeof OPEN_FLAGS)[number];

export type FdStep =
  | { kind: "open"; slot: Slot; path: string; flags: OpenFlags }
  | { kind: "close"; slot: Slot }
  | { kind: "fwrite"; slot: Slot; offset: number; data: Uint8Array }
  | { kind: "fread"; slot: Slot; offset: number; length: number }
  | { kind: "ftruncate"; slot: Slot; size: number }
  | { kind: "fsync"; slot: Slot };

export type BranchStep =
  /** A child of the top branch becomes the top (at most 3 levels below main; else "skip"). */
  | { kind: "child" }
  /** Commits the top branch: the whole chain reaches main; a new branch of main becomes the top. */
  | { kind: "commit" }
  /** Aborts the chain up to main; a new branch of main becomes the top. */
  | { kind: "abort" }
  /** A sibling branch of the chain under main (replacing any earlier one). */
  | { kind: "sibling" }
  /** pwrite to "a" in the sibling: ok while main has not moved since it was made, then ESTALE. */
  | { kind: "siblingWrite"; data: Uint8Array }
  /**
   * Unmounts the top branch, which drops it (docs/semantics.md "Branches"): its parent becomes the
   * top, or, when it was a child of main, a new child of main.
   */
  | { kind: "unmount" }
  /**
   * The top branch's mount is made again without ending the branch: daxfs.ko `mount -o remount`,
   * daxfs-fuse killed and the branch re-attached by name, the model a new view and writer.
   */
  | { kind: "remount" }
  /**
   * The sibling and the top change places (the work moves to the other branch), when the chain is
   * one level and the sibling is not stale; otherwise "skip".
   */
  | { kind: "switch" };

/**
 * Calls through a MAP_SHARED mapping of the whole file: mmapWrite opens O_RDWR, stores the part of
 * `data` that falls inside the file (a mapping cannot grow it), msyncs, unmaps and answers
 * "ok <bytes stored>"; mmapRead opens O_RDONLY and answers like read. A directory cannot be
 * mapped (ENODEV).
 */
export type MapStep =
  | { kind: "mmapWrite"; path: string; offset: number; data: Uint8Array }
  | { kind: "mmapRead"; path: string; offset: number; length: number };

/** renameat2(2) with RENAME_NOREPLACE: EEXIST when `to` exists. */
export type NoReplaceStep = { kind: "renameNoreplace"; from: string; to: string };

/** Path calls: a subset of test/cross/ops.ts's Op that every driver implements. */
export type PathStep =
  | Extract<
      Op,
      {
        kind:
          | "write"
          | "pwrite"
          | "append"
          | "truncate"
          | "mkdir"
          | "rmdir"
          | "unlink"
          | "rename"
          | "symlink"
          | "link";
      }
    >
  | Extract<Op, { kind: "chmod" | "chown" | "lchown" }>
  | { kind: "read"; path: string };

export type Step = PathStep | FdStep | MapStep | NoReplaceStep | BranchStep;

export const BRANCH_KINDS = new Set<Step["kind"]>([
  "child",
  "commit",
  "abort",
  "sibling",
  "siblingWrite",
  "unmount",
  "remount",
  "switch",
]);

/**
 * Names inside the tree only: symlink targets are relative and never leave it (a host directory
 * must not be able to reach the host's /etc through a generated symlink).
 */
export const STEP_PATHS = ["a", "big", "ü", "d", "d/a", "d/日本", "e", "e/f", "s", "h1", "d/h2", LONG_NAME];
const TARGETS = ["a", "d", "d/a", "big", "e/f", "nowhere", "日本/ü", "s"];

const pathArb = fc.constantFrom(...STEP_PATHS);
const slotArb = fc.constantFrom<Slot>(0, 1, 2);
const smallData = fc.uint8Array({ minLength: 1, maxLength: 300 });
const dataArb = fc.oneof(
  { arbitrary: smallData, weight: 3 },
  { arbitrary: fc.uint8Array({ minLength: 300, maxLength: 9000 }), weight: 1 },
);
/** Offsets near page edges (page-crossing writes), inside and past the seed files, far past (sparse). */
const offsetArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 100 }), weight: 3 },
  { arbitrary: fc.constantFrom(4090, 4096, 8190, 12_285), weight: 2 },
  { arbitrary: fc.integer({ min: 0, max: 20_000 }), weight: 3 },
  { arbitrary: fc.integer({ min: 1 << 20, max: 2 << 20 }), weight: 1 },
);
const sizeArb = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 5000, max: 70_000 }));
const idArb = fc.constantFrom(-1, 0, 7, 1000);
const rec = <T>(weight: number, arbitrary: fc.Arbitrary<T>) => ({ arbitrary, weight });

export const stepArb: fc.Arbitrary<Step> = fc.oneof(
  rec(
    3,
    fc.record({
      kind: fc.constant("open" as const),
      slot: slotArb,
      path: pathArb,
      flags: fc.constantFrom(...OPEN_FLAGS),
    }),
  ),
  rec(1, fc.record({ kind: fc.constant("close" as const), slot: slotArb })),
  rec(
    4,
    fc.record({ kind: fc.constant("fwrite" as const), slot: slotArb, offset: offsetArb, data: dataArb }),
  ),
  rec(
    2,
    fc.record({
      kind: fc.constant("fread" as const),
      slot: slotArb,
      offset: offsetArb,
      length: fc.integer({ min: 1, max: 9000 }),
    }),
  ),
  rec(1, fc.record({ kind: fc.constant("ftruncate" as const), slot: slotArb, size: sizeArb })),
  rec(1, fc.record({ kind: fc.constant("fsync" as const), slot: slotArb })),
  rec(1, fc.record({ kind: fc.constant("write" as const), path: pathArb, data: dataArb })),
  rec(
    2,
    fc.record({ kind: fc.constant("pwrite" as const), path: pathArb, offset: offsetArb, data: dataArb }),
  ),
  rec(1, fc.record({ kind: fc.constant("append" as const), path: pathArb, data: smallData })),
  rec(2, fc.record({ kind: fc.constant("truncate" as const), path: pathArb, size: sizeArb })),
  rec(1, fc.record({ kind: fc.constant("read" as const), path: pathArb })),
  rec(
    2,
    fc.record({
      kind: fc.constant("mkdir" as const),
      path: pathArb,
      mode: fc.constantFrom(0o755, 0o700, 0o750),
    }),
  ),
  rec(2, fc.record({ kind: fc.constant("rmdir" as const), path: pathArb })),
  rec(2, fc.record({ kind: fc.constant("unlink" as const), path: pathArb })),
  rec(3, fc.record({ kind: fc.constant("rename" as const), from: pathArb, to: pathArb })),
  rec(1, fc.record({ kind: fc.constant("renameNoreplace" as const), from: pathArb, to: pathArb })),
  rec(
    2,
    fc.record({ kind: fc.constant("mmapWrite" as const), path: pathArb, offset: offsetArb, data: dataArb }),
  ),
  rec(
    1,
    fc.record({
      kind: fc.constant("mmapRead" as const),
      path: pathArb,
      offset: offsetArb,
      length: fc.integer({ min: 1, max: 9000 }),
    }),
  ),
  rec(2, fc.record({ kind: fc.constant("link" as const), from: pathArb, to: pathArb })),
  rec(
    1,
    fc.record({ kind: fc.constant("symlink" as const), target: fc.constantFrom(...TARGETS), path: pathArb }),
  ),
  rec(
    1,
    fc.record({
      kind: fc.constant("chmod" as const),
      path: pathArb,
      mode: fc.constantFrom(0o600, 0o644, 0o755, 0o000, 0o4755, 0o2755, 0o1777),
    }),
  ),
  rec(1, fc.record({ kind: fc.constant("chown" as const), path: pathArb, uid: idArb, gid: idArb })),
  rec(1, fc.record({ kind: fc.constant("lchown" as const), path: pathArb, uid: idArb, gid: idArb })),
  rec(1, fc.constant({ kind: "child" as const })),
  rec(1, fc.constant({ kind: "commit" as const })),
  rec(1, fc.constant({ kind: "abort" as const })),
  rec(1, fc.constant({ kind: "sibling" as const })),
  rec(1, fc.record({ kind: fc.constant("siblingWrite" as const), data: smallData })),
  rec(1, fc.constant({ kind: "unmount" as const })),
  rec(1, fc.constant({ kind: "remount" as const })),
  rec(1, fc.constant({ kind: "switch" as const })),
);

export const sequenceArb = (maxLength = 30) => fc.array(stepArb, { minLength: 1, maxLength, size: "max" });

/** One line per step, as printed for a divergence (data shown as its length). */
export function describeStep(step: Step): string {
  return describeOp(step as Op);
}

// ---- fixtures: a sequence as JSON (bytes as base64) ----

export function stepsToJson(steps: Step[]): unknown[] {
  return steps.map((step) =>
    "data" in step ? { ...step, data: Buffer.from(step.data).toString("base64") } : { ...step },
  );
}

export function stepsFromJson(json: unknown): Step[] {
  if (!Array.isArray(json)) throw new Error("difftest fixture: steps must be an array");
  return json.map((raw, i) => {
    if (typeof raw !== "object" || raw === null || typeof (raw as { kind?: unknown }).kind !== "string")
      throw new Error(`difftest fixture: step ${i} has no kind`);
    const step = raw as Record<string, unknown>;
    return (typeof step.data === "string"
      ? { ...step, data: new Uint8Array(Buffer.from(step.data, "base64")) }
      : step) as unknown as Step;
  });
}
