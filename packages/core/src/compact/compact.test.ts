// Compaction (docs/space.md "Compaction"): random trees, then random branch sessions (POSIX calls
// through BranchFiles, each session committed or aborted), then compactImage. The result must show
// main's tree exactly as before (names, modes, owners, mtimes, link counts and groups, bytes,
// targets), validate clean, have an empty main and no other branch, use only the extensions its
// tree needs, and hold less than before once the logs held garbage.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BranchState, DaxfsSuper, SuperFeature } from "@daxfs/format";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { abortBranch, branchContext, commitBranch, createBranch } from "../branch/lifecycle.js";
import { BranchFiles } from "../branch/posix.js";
import { deltaUsage } from "../branch/space.js";
import { BranchWriter } from "../branch/writer.js";
import { buildImage } from "../build/write.js";
import { DaxfsError } from "../errors.js";
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../file-type.js";
import { DaxfsImage } from "../image.js";
import { FileImage } from "../image-source.js";
import { buildTree, entryName } from "../testing/arbitraries.js";
import { testDir, testFile } from "../testing/tree.js";
import { validate } from "../validate/index.js";
import type { BranchView } from "../view.js";
import { compactImage } from "./compact.js";

const scratch = mkdtempSync(join(tmpdir(), "daxfs-compact-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let serial = 0;
const scratchPath = (what: string) => join(scratch, `${what}-${serial++}.img`);

/** The tree with every attribute compaction keeps; link groups named by their first path. */
function describeTree(view: BranchView): unknown {
  const groups = new Map<number, string>();
  const out: Record<string, unknown> = {};
  for (const { path, ino, stat } of view.walk()) {
    const type = stat.mode & S_IFMT;
    if (type !== S_IFDIR && !groups.has(ino)) groups.set(ino, path);
    out[path] = {
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
      nlink: stat.nlink,
      // A directory's st_size is its representation's (count x 271 in a base), not content.
      size: type === S_IFDIR ? undefined : stat.size,
      mtime: stat.mtime,
      group: groups.get(ino),
      data:
        type === S_IFDIR
          ? undefined
          : type === S_IFLNK
            ? view.readlink(ino)
            : Buffer.from(view.read(ino, 0, stat.size)).toString("hex"),
    };
  }
  return out;
}

type Op =
  | { kind: "create" | "mkdir"; at: number; name: string; mode: number; uid: number }
  | { kind: "write"; at: number; offset: number; length: number; fill: number }
  | { kind: "truncate"; at: number; size: number }
  | { kind: "symlink"; at: number; name: string; target: string }
  | { kind: "unlink" | "rmdir"; at: number }
  | { kind: "rename" | "link"; at: number; to: number; name: string }
  | { kind: "chmod"; at: number; mode: number }
  | { kind: "chown"; at: number; uid: number; gid: number }
  | { kind: "utimens"; at: number; mtime: bigint };

const index = fc.nat(1000);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constantFrom("create" as const, "mkdir" as const),
    at: index,
    name: entryName,
    mode: fc.integer({ min: 0, max: 0o7777 }),
    uid: fc.nat(3),
  }),
  fc.record({
    kind: fc.constant("write" as const),
    at: index,
    offset: fc.nat(9000),
    length: fc.integer({ min: 1, max: 5000 }),
    fill: fc.nat(255),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: index, size: fc.nat(9000) }),
  fc.record({ kind: fc.constant("symlink" as const), at: index, name: entryName, target: entryName }),
  fc.record({ kind: fc.constantFrom("unlink" as const, "rmdir" as const), at: index }),
  fc.record({
    kind: fc.constantFrom("rename" as const, "link" as const),
    at: index,
    to: index,
    name: entryName,
  }),
  fc.record({ kind: fc.constant("chmod" as const), at: index, mode: fc.integer({ min: 0, max: 0o7777 }) }),
  fc.record({ kind: fc.constant("chown" as const), at: index, uid: fc.nat(70000), gid: fc.nat(70000) }),
  fc.record({
    kind: fc.constant("utimens" as const),
    at: index,
    mtime: fc.bigInt({ min: 0n, max: 2n ** 62n }),
  }),
);

interface Session {
  nested: boolean;
  ops: Op[];
  commit: boolean;
}
const sessionArb: fc.Arbitrary<Session> = fc.record({
  nested: fc.boolean(),
  ops: fc.array(opArb, { maxLength: 12 }),
  commit: fc.boolean(),
});

const join2 = (dir: string, name: string) => (dir === "/" ? `/${name}` : `${dir}/${name}`);

/** Calls that changed a branch, over all runs: the sessions must not all be refused. */
let applied = 0;

/** Applies one op; what POSIX refuses (EEXIST, ENOTEMPTY, ...) is skipped, as a shell would go on. */
function apply(files: BranchFiles, view: BranchView, op: Op): void {
  const all = [...view.walk()];
  const pick = (i: number) => all[i % all.length] as (typeof all)[number];
  const dirs = all.filter((e) => (e.stat.mode & S_IFMT) === S_IFDIR);
  const dirAt = (i: number) => (dirs[i % dirs.length] as (typeof dirs)[number]).path;
  const target = pick(op.at);
  // write(2) and ftruncate(2) need a regular file open for writing: the front end's check.
  const regularFiles = all.filter((e) => (e.stat.mode & S_IFMT) === S_IFREG);
  const regular = regularFiles[op.at % Math.max(regularFiles.length, 1)];
  try {
    switch (op.kind) {
      case "create":
        files.create(join2(dirAt(op.at), op.name), op.mode, { uid: op.uid, gid: op.uid });
        break;
      case "mkdir":
        files.mkdir(join2(dirAt(op.at), op.name), op.mode, { uid: op.uid, gid: op.uid });
        break;
      case "write":
        if (regular) files.write(regular.ino, op.offset, new Uint8Array(op.length).fill(op.fill));
        break;
      case "truncate":
        if (regular) files.truncate(regular.ino, op.size, regular.path);
        break;
      case "symlink":
        files.symlink(op.target, join2(dirAt(op.at), op.name), { uid: 0, gid: 0 });
        break;
      case "unlink":
        files.unlink(target.path);
        break;
      case "rmdir":
        files.rmdir(target.path);
        break;
      case "rename":
        files.rename(target.path, join2(dirAt(op.to), op.name));
        break;
      case "link":
        files.link(target.path, join2(dirAt(op.to), op.name));
        break;
      case "chmod":
        files.chmod(target.path, op.mode);
        break;
      case "chown":
        files.chown(target.path, op.uid, op.gid);
        break;
      case "utimens":
        files.utimens(target.path, undefined, op.mtime);
        break;
    }
    applied++;
  } catch (error) {
    if (!(error instanceof DaxfsError) || error.code === "EIO" || error.code === "EUCLEAN") throw error;
  }
}

/** Runs the sessions on the image file at `path`; ends with one committed garbage session. */
function runSessions(path: string, sessions: Session[]): void {
  const source = FileImage.open(path, { writable: true });
  try {
    const ctx = branchContext(source);
    const image = DaxfsImage.open(source);
    const session = (
      name: string,
      body: (files: BranchFiles, view: BranchView) => void,
      commit: boolean,
      nested: boolean,
    ) => {
      const outer = createBranch(ctx, `${name}-o`, "main");
      const record = nested ? createBranch(ctx, name, `${name}-o`) : outer;
      const view = image.view(record.name);
      body(new BranchFiles(view, BranchWriter.forRecord(ctx, record)), view);
      // Both take the whole chain: a commit merges it into main, an abort drops it.
      if (commit) commitBranch(ctx, record.id);
      else abortBranch(ctx, record.id);
    };
    for (const [i, s] of sessions.entries()) {
      session(
        `s${i}`,
        (files, view) => {
          for (const op of s.ops) apply(files, view, op);
        },
        s.commit,
        s.nested,
      );
    }
    // Garbage main's log keeps: a 256 KiB file written three times, then removed.
    session(
      "garbage",
      (files) => {
        const ino = files.create("/.garbage", 0o644, { uid: 0, gid: 0 });
        for (let i = 0; i < 3; i++) files.write(ino, 0, new Uint8Array(256 << 10).fill(i + 1));
        files.unlink("/.garbage");
      },
      true,
      false,
    );
  } finally {
    source.close();
  }
}

/** Bytes an image's tree occupies: its base plus the published entries of its live logs. */
function heldBytes(image: DaxfsImage): number {
  const logs = image.branches().filter((r) => r.state === BranchState.ACTIVE);
  return (image.geometry.base?.size ?? 0) + logs.reduce((sum, r) => sum + r.logSize, 0);
}

describe("compactImage", () => {
  it("folds main into a new base: same tree, valid, empty main, only needed extensions, smaller", () => {
    fc.assert(
      fc.property(buildTree(4), fc.array(sessionArb, { maxLength: 4 }), (tree, sessions) => {
        const input = scratchPath("in");
        writeFileSync(input, buildImage(tree, { branching: true, deltaSize: 8 << 20 }));
        runSessions(input, sessions);
        const before = DaxfsImage.openFile(input);
        const expected = describeTree(before.view("main"));
        const heldBefore = heldBytes(before);
        const usedBefore = deltaUsage(before)?.used;
        const deltaBefore = before.deltaRegion?.size;
        before.close();

        const output = scratchPath("out");
        const result = compactImage(input, { output });
        const after = DaxfsImage.openFile(output);
        try {
          expect(describeTree(after.view("main"))).toEqual(expected);
          expect(validate(after.source).problems).toEqual([]);
          // Same mode and delta region; main is the only record and its log is empty.
          expect(after.deltaRegion?.size).toBe(deltaBefore);
          const records = after.branches();
          expect(records.map((r) => [r.name, r.state, r.logSize])).toEqual([["main", BranchState.ACTIVE, 0]]);
          // All of the region is free but main's first extent.
          expect(deltaUsage(after)?.used).toBe(records[0]?.logCapacity);
          // Extensions: BASE_MTIME exactly when some time is kept; never LINK or UTIMES.
          const flags = DaxfsSuper.decode(readFileSync(output), 0).flags;
          const timed = Object.values(expected as Record<string, { mtime: bigint }>).some(
            (e) => e.mtime !== 0n,
          );
          expect(flags).toBe(timed ? SuperFeature.BASE_MTIME : 0);
          expect(heldBytes(after)).toBeLessThan(heldBefore);
          expect(deltaUsage(after)?.used).toBeLessThanOrEqual(usedBefore as number);
          expect(result.bytesAfter).toBe(readFileSync(output).length);
        } finally {
          after.close();
        }
      }),
      { numRuns: Number(process.env.DAXFS_PROPERTY_RUNS ?? 20) },
    );
    expect(applied).toBeGreaterThan(20);
  });

  it("keeps a static image static, and the tree with --zero-times is plain v5", () => {
    const tree = testDir({ a: { ...testFile("x"), mtime: 5_000_000_000n }, d: testDir() });
    const input = scratchPath("static");
    writeFileSync(input, buildImage(tree));
    const output = scratchPath("static-out");
    compactImage(input, { output });
    const image = DaxfsImage.openFile(output);
    expect(image.branching).toBe(false);
    image.close();
    compactImage(input, { output, zeroTimes: true });
    expect(DaxfsSuper.decode(readFileSync(output), 0).flags).toBe(0);
    // In place: the input itself is replaced by the result.
    compactImage(input, { mode: "branching", deltaSize: 2 << 20 });
    const inPlace = DaxfsImage.openFile(input);
    expect(inPlace.deltaRegion?.size).toBe(2 << 20);
    expect(validate(inPlace.source).problems).toEqual([]);
    inPlace.close();
  });

  it("refuses ACTIVE branches unless forced, naming them, and writes nothing", () => {
    const input = scratchPath("active");
    writeFileSync(input, buildImage(testDir({ f: testFile("1") }), { branching: true, deltaSize: 2 << 20 }));
    const source = FileImage.open(input, { writable: true });
    const ctx = branchContext(source);
    createBranch(ctx, "agent", "main");
    createBranch(ctx, "scratch", "agent");
    source.close();
    const original = readFileSync(input);
    const output = scratchPath("active-out");
    expect(() => compactImage(input, { output })).toThrow(
      `${input}: active branches would be lost: agent, scratch (commit or abort them, or --force)`,
    );
    expect(() => readFileSync(output)).toThrow(/ENOENT/);
    expect(readFileSync(input).equals(original)).toBe(true);
    const forced = compactImage(input, { force: true });
    expect(forced.droppedBranches).toEqual(["agent", "scratch"]);
    const image = DaxfsImage.openFile(input);
    expect(image.branches().map((r) => r.name)).toEqual(["main"]);
    image.close();
  });

  it("gives the whole region back: a branch can then fill all of it but main's log", () => {
    const input = scratchPath("full");
    const region = 8 << 20;
    writeFileSync(
      input,
      buildImage(testDir({ keep: testFile("k") }), { branching: true, deltaSize: region }),
    );
    const chunk = new Uint8Array(1 << 20).fill(7);
    /** A branch writes /big, `megabytes` MiB; then commits (after `then`) or aborts. The errno, if any. */
    const fill = (megabytes: number, commit: boolean, then?: (files: BranchFiles) => void) => {
      const source = FileImage.open(input, { writable: true });
      try {
        const ctx = branchContext(source);
        const record = createBranch(ctx, `fill-${serial++}`, "main");
        const view = DaxfsImage.open(source).view(record.name);
        const files = new BranchFiles(view, BranchWriter.forRecord(ctx, record));
        try {
          const ino = files.create("/big", 0o644, { uid: 0, gid: 0 });
          for (let i = 0; i < megabytes; i++) files.write(ino, i << 20, chunk);
          then?.(files);
        } catch (error) {
          abortBranch(ctx, record.id);
          if (error instanceof DaxfsError) return error.code;
          throw error;
        }
        if (commit) commitBranch(ctx, record.id);
        else abortBranch(ctx, record.id);
        return undefined;
      } finally {
        source.close();
      }
    };
    // 2 MiB committed, then removed: main's log keeps it and grew past its first 1 MiB, so a
    // branch of 6 MiB no longer fits.
    expect(fill(2, true, (files) => files.unlink("/big"))).toBeUndefined();
    expect(fill(6, false)).toBe("ENOSPC");
    compactImage(input);
    const after = DaxfsImage.openFile(input);
    expect(deltaUsage(after)).toMatchObject({ size: region, used: 1 << 20 });
    after.close();
    // Now the branch log may take all but main's 1 MiB: 6 MiB of data plus entry headers fit.
    expect(fill(6, false)).toBeUndefined();
    const source = FileImage.open(input);
    expect(validate(source).problems).toEqual([]);
    source.close();
  });
});
