// Model test: random sequences of file operations run on a branch mount and, as the POSIX
// reference, on a host directory; every call must give the same result (errno or data), and in
// the end the mount, the host directory and the image model (core's BranchView read from the
// image file) must hold the same tree (NOTES.md "Semantics": POSIX inside a branch).
import * as fs from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuildNode, DaxfsImage, FileImage, validate } from "@daxfs/core";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import { controlRequest, controlSocketPath } from "../src/control.js";
import { dir, errno, FuseHarness, file, type RunningMount, symlink } from "../src/testing/index.js";

const RUNS = 60;
const names = ["a", "b", "d", "d/a", "d/e", "e", "s"] as const;
const pathArb = fc.constantFrom(...names);
const bytesArb = fc.uint8Array({ minLength: 0, maxLength: 3000 });

type Op =
  | { kind: "write"; path: string; data: Uint8Array }
  | { kind: "pwrite"; path: string; offset: number; data: Uint8Array }
  | { kind: "append"; path: string; data: Uint8Array }
  | { kind: "truncate"; path: string; size: number }
  | { kind: "mkdir"; path: string }
  | { kind: "rmdir"; path: string }
  | { kind: "unlink"; path: string }
  | { kind: "rename"; from: string; to: string }
  | { kind: "symlink"; target: string; path: string }
  | { kind: "chmod"; path: string; mode: number }
  | { kind: "read"; path: string }
  | { kind: "readdir"; path: string };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), path: pathArb, data: bytesArb }),
  fc.record({
    kind: fc.constant("pwrite" as const),
    path: pathArb,
    offset: fc.integer({ min: 0, max: 20_000 }),
    data: bytesArb,
  }),
  fc.record({ kind: fc.constant("append" as const), path: pathArb, data: bytesArb }),
  fc.record({
    kind: fc.constant("truncate" as const),
    path: pathArb,
    size: fc.integer({ min: 0, max: 10_000 }),
  }),
  fc.record({ kind: fc.constant("mkdir" as const), path: pathArb }),
  fc.record({ kind: fc.constant("rmdir" as const), path: pathArb }),
  fc.record({ kind: fc.constant("unlink" as const), path: pathArb }),
  fc.record({ kind: fc.constant("rename" as const), from: pathArb, to: pathArb }),
  fc.record({ kind: fc.constant("symlink" as const), target: pathArb, path: pathArb }),
  fc.record({
    kind: fc.constant("chmod" as const),
    path: pathArb,
    mode: fc.constantFrom(0o600, 0o644, 0o755, 0o700),
  }),
  fc.record({ kind: fc.constant("read" as const), path: pathArb }),
  fc.record({ kind: fc.constant("readdir" as const), path: pathArb }),
);

/** Runs one op under `root`; the outcome is what a caller can observe. */
function apply(root: string, op: Op): unknown {
  const at = (p: string) => join(root, p);
  let result: unknown;
  const code = errno(() => {
    switch (op.kind) {
      case "write":
        return fs.writeFileSync(at(op.path), op.data);
      case "pwrite": {
        const fd = fs.openSync(at(op.path), fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
        try {
          fs.writeSync(fd, op.data, 0, op.data.length, op.offset);
        } finally {
          fs.closeSync(fd);
        }
        return;
      }
      case "append":
        return fs.appendFileSync(at(op.path), op.data);
      case "truncate":
        return fs.truncateSync(at(op.path), op.size);
      case "mkdir":
        return fs.mkdirSync(at(op.path), 0o755);
      case "rmdir":
        return fs.rmdirSync(at(op.path));
      case "unlink":
        return fs.unlinkSync(at(op.path));
      case "rename":
        return fs.renameSync(at(op.from), at(op.to));
      case "symlink":
        return fs.symlinkSync(op.target, at(op.path));
      case "chmod":
        return fs.chmodSync(at(op.path), op.mode);
      case "read":
        result = Buffer.from(fs.readFileSync(at(op.path))).toString("base64");
        return;
      case "readdir":
        result = fs.readdirSync(at(op.path)).sort();
        return;
    }
  });
  return { code, result };
}

interface TreeEntry {
  path: string;
  type: string;
  mode?: number;
  content?: string;
}

/** The tree under `root` as a sorted list (host or mount), read through the kernel. */
function snapshot(root: string): TreeEntry[] {
  const out: TreeEntry[] = [];
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const stat = fs.lstatSync(join(root, path));
      if (stat.isDirectory()) {
        out.push({ path, type: "dir", mode: stat.mode & 0o7777 });
        walk(path);
      } else if (stat.isSymbolicLink())
        out.push({ path, type: "symlink", content: fs.readlinkSync(join(root, path)) });
      else
        out.push({
          path,
          type: "file",
          mode: stat.mode & 0o7777,
          content: fs.readFileSync(join(root, path)).toString("base64"),
        });
    }
  };
  walk("");
  return out;
}

/** The same listing computed by the image model from the image file alone. */
function modelSnapshot(image: string, branch: string, under: string): TreeEntry[] {
  const opened = DaxfsImage.openFile(image);
  try {
    const view = opened.view(branch);
    const out: TreeEntry[] = [];
    for (const { path, ino, stat } of view.walk()) {
      if (!path.startsWith(`${under}/`) || path === "/") continue;
      const rel = path.slice(under.length + 1);
      const type = stat.mode & 0o170000;
      if (type === 0o040000) out.push({ path: rel, type: "dir", mode: stat.mode & 0o7777 });
      else if (type === 0o120000) out.push({ path: rel, type: "symlink", content: view.readlink(ino) });
      else
        out.push({
          path: rel,
          type: "file",
          mode: stat.mode & 0o7777,
          content: Buffer.from(view.read(ino, 0, stat.size)).toString("base64"),
        });
    }
    return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
  } finally {
    opened.close();
  }
}

const seed = (): Record<string, BuildNode> => ({
  a: file("seed a\n"),
  d: dir({ e: file("seed d/e") }),
  s: symlink("a"),
});
function seedHost(root: string): void {
  fs.mkdirSync(join(root, "d"), { recursive: true });
  fs.writeFileSync(join(root, "a"), "seed a\n");
  fs.writeFileSync(join(root, "d/e"), "seed d/e");
  fs.symlinkSync("a", join(root, "s"));
}

/** The image file, as the mount left it, passes the validator (issue 6: after every operation). */
function expectImageValid(after: string): void {
  const source = FileImage.open(image);
  try {
    expect(validate(source).problems, `validate after ${after}`).toEqual([]);
  } finally {
    source.close();
  }
}

const harness = new FuseHarness();
const hostRoot = mkdtempSync(join(tmpdir(), "daxfs-model-host-"));
let mount: RunningMount;
let image: string;
beforeAll(async () => {
  const runs: Record<string, BuildNode> = {};
  for (let i = 0; i < RUNS * 4; i++) runs[`run${i}`] = dir(seed());
  image = harness.image(dir(runs), 64 * 1024 * 1024);
  mount = await harness.mount(image, ["--branch", "model", "--parent", "main"]);
});
afterAll(async () => {
  await harness.cleanup();
  rmSync(hostRoot, { recursive: true, force: true });
});

it("random operation sequences: mount = POSIX host directory = image model", () => {
  let run = 0;
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
      // Shrinking replays sequences: each attempt gets a fresh seeded directory on both sides.
      const name = `run${run++}`;
      if (run > RUNS * 4) return true;
      const host = join(hostRoot, name);
      seedHost(host);
      const mounted = join(mount.mountpoint, name);
      for (const op of ops) {
        expect(apply(mounted, op), JSON.stringify(op)).toEqual(apply(host, op));
        expectImageValid(JSON.stringify(op));
      }
      const seen = snapshot(mounted);
      expect(seen).toEqual(snapshot(host));
      expect(modelSnapshot(image, "model", `/${name}`)).toEqual(seen);
    }),
    { numRuns: RUNS, endOnFailure: true },
  );
});

it("after commit, main holds exactly the tree the branch showed", async () => {
  const before = snapshot(mount.mountpoint);
  expect(await controlRequest(controlSocketPath(mount.mountpoint), "commit")).toMatchObject({
    ok: true,
    branch: "main",
  });
  expect(snapshot(mount.mountpoint)).toEqual(before);
  expect(modelSnapshot(image, "main", "")).toEqual(before);
});
