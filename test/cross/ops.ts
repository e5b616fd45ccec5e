// File operations for the cross write test: a fast-check model of what a program does to a tree
// (create, write at offsets incl. sparse and append, large multi-FUSE-write fills, truncate both
// ways, mkdir, rmdir, unlink, rename incl. over existing names, symlink, hard link, chmod, chown, lchown),
// applied through node:fs to any directory: a daxfs-fuse branch mount or a host directory.
import * as fs from "node:fs";
import { join } from "node:path";
import { type BuildDir, type BuildFile, type BuildNode, makeDir, makeFile, makeSymlink } from "@daxfs/core";
import { errno } from "@daxfs/fuse-ref/testing";
import fc from "fast-check";
import { patternBytes } from "../kernel/tree.js";

/** 255 bytes of UTF-8 (NAME_MAX) in 128 characters: lengths are counted in bytes. */
export const LONG_NAME = `${"ÿ".repeat(127)}x`;

/** A small name space, so operations keep hitting existing entries (and each other). */
export const PATHS = [
  "a",
  "big",
  "ü",
  "d",
  "d/a",
  "d/日本",
  "e",
  "e/f",
  "s",
  "h1",
  "d/h2",
  LONG_NAME,
] as const;

export type Op =
  | { kind: "write"; path: string; data: Uint8Array }
  | { kind: "pwrite"; path: string; offset: number; data: Uint8Array }
  | { kind: "append"; path: string; data: Uint8Array }
  | { kind: "fill"; path: string; offset: number; length: number; seed: number }
  | { kind: "truncate"; path: string; size: number }
  | { kind: "mkdir"; path: string; mode: number }
  | { kind: "rmdir"; path: string }
  | { kind: "unlink"; path: string }
  | { kind: "rename"; from: string; to: string }
  | { kind: "symlink"; target: string; path: string }
  | { kind: "link"; from: string; to: string }
  | { kind: "chmod"; path: string; mode: number }
  | { kind: "chown"; path: string; uid: number; gid: number }
  | { kind: "lchown"; path: string; uid: number; gid: number }
  /** Creates `count` small files `NNN` in directory `path`, then unlinks every `step`-th one. */
  | { kind: "populate"; path: string; count: number; step: number };

const pathArb = fc.constantFrom(...PATHS);
const dataArb = fc.uint8Array({ minLength: 0, maxLength: 6000 });
const offsetArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 9000 }), weight: 6 },
  { arbitrary: fc.integer({ min: 9000, max: 70_000 }), weight: 3 },
  // Far past the end: a sparse file of megabytes whose log holds only the written bytes.
  { arbitrary: fc.integer({ min: 1 << 20, max: 3 << 20 }), weight: 1 },
);
const idArb = fc.constantFrom(-1, 0, 7, 1000, 65534);

export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("write" as const), path: pathArb, data: dataArb }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constant("pwrite" as const),
      path: pathArb,
      offset: offsetArb,
      data: dataArb,
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant("append" as const), path: pathArb, data: dataArb }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("fill" as const),
      path: pathArb,
      offset: offsetArb,
      length: fc.integer({ min: 1, max: 300_000 }),
      seed: fc.integer({ min: 1, max: 1 << 30 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("truncate" as const),
      path: pathArb,
      size: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 5000, max: 80_000 })),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("mkdir" as const),
      path: pathArb,
      mode: fc.constantFrom(0o755, 0o700, 0o750),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant("rmdir" as const), path: pathArb }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("unlink" as const), path: pathArb }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant("rename" as const), from: pathArb, to: pathArb }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("link" as const), from: pathArb, to: pathArb }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("symlink" as const),
      target: fc.constantFrom(...PATHS, "../a", "/etc/passwd", "日本/ü", "x".repeat(300)),
      path: pathArb,
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("chmod" as const),
      path: pathArb,
      mode: fc.constantFrom(0o600, 0o644, 0o755, 0o700, 0o000, 0o4755, 0o1777, 0o640),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("chown" as const), path: pathArb, uid: idArb, gid: idArb }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("lchown" as const), path: pathArb, uid: idArb, gid: idArb }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("populate" as const),
      path: pathArb,
      count: fc.integer({ min: 1, max: 300 }),
      step: fc.integer({ min: 1, max: 5 }),
    }),
    weight: 1,
  },
);

/** A fixed tour through every kind of operation, so each kind is exercised whatever the seed gives. */
export function tourOps(): Op[] {
  const text = (s: string) => new TextEncoder().encode(s);
  return [
    { kind: "pwrite", path: "big", offset: 5000, data: text("MIDDLE OF A BASE FILE") },
    { kind: "append", path: "big", data: text("appended") },
    // Through one name of a hard-linked base file: the other name sees it.
    { kind: "pwrite", path: "d/h2", offset: 4000, data: text("via the second name") },
    // A directory created by the log, with more entries than one dirent block and holes in it.
    { kind: "mkdir", path: "many", mode: 0o755 },
    { kind: "populate", path: "many", count: 300, step: 7 },
    { kind: "populate", path: "d", count: 150, step: 2 },
    { kind: "pwrite", path: "ü", offset: 20_000, data: text("sparse: a hole before me") },
    { kind: "write", path: "e", data: text("replaced soon") },
    { kind: "rename", from: "ü", to: "e" },
    { kind: "truncate", path: "a", size: 3 },
    { kind: "truncate", path: "a", size: 9000 },
    { kind: "pwrite", path: "a", offset: 4090, data: text("across a block boundary") },
    { kind: "fill", path: "d/日本", offset: 100, length: 300_000, seed: 5 },
    { kind: "truncate", path: "d/日本", size: 131_073 },
    { kind: "mkdir", path: "ü", mode: 0o750 },
    { kind: "rename", from: "d/a", to: "ü/moved" },
    { kind: "rename", from: "h1", to: "d/h2" },
    { kind: "unlink", path: "h1" },
    { kind: "rename", from: "d/h2", to: "h1" },
    { kind: "symlink", target: "../big", path: "d/a" },
    // Hard links (extension LINK): dpkg's link-then-replace, a link to a symlink, a directory.
    { kind: "link", from: "a", to: "a-old" },
    { kind: "write", path: "a.new", data: text("replacement") },
    { kind: "rename", from: "a.new", to: "a" },
    { kind: "link", from: "d/a", to: "e/symlink-link" },
    { kind: "link", from: "d", to: "d-link" },
    { kind: "link", from: "a", to: "a-old" },
    { kind: "pwrite", path: "a-old", offset: 2, data: text("through the old name") },
    { kind: "chmod", path: "big", mode: 0o4755 },
    { kind: "chmod", path: "h1", mode: 0o2755 },
    // chown of a set-user-ID / set-group-ID executable clears those bits, even for root.
    { kind: "chown", path: "big", uid: 7, gid: -1 },
    { kind: "chown", path: "h1", uid: -1, gid: 50 },
    { kind: "chown", path: "d", uid: 1000, gid: 100 },
    { kind: "lchown", path: "s", uid: 7, gid: 8 },
    { kind: "chmod", path: "s", mode: 0o600 },
    { kind: "mkdir", path: "e/f", mode: 0o755 },
    { kind: "rmdir", path: "d" },
    { kind: "mkdir", path: "empty", mode: 0o700 },
    { kind: "rename", from: "d", to: "empty" },
    { kind: "rename", from: "ü", to: "empty" },
    { kind: "unlink", path: "ü/moved" },
    { kind: "rmdir", path: "ü" },
    { kind: "unlink", path: "empty/日本" },
    { kind: "rename", from: "big", to: "empty/a" },
  ];
}

function writeAll(fd: number, data: Uint8Array, position: number | null): void {
  let done = 0;
  while (done < data.length) {
    done += fs.writeSync(fd, data, done, data.length - done, position === null ? null : position + done);
  }
}

function withFd(path: string, flags: number, body: (fd: number) => void): void {
  const fd = fs.openSync(path, flags, 0o644);
  try {
    body(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Runs one operation under `root`; the outcome is "ok" or the errno name. */
export function applyOp(root: string, op: Op): string {
  const at = (p: string) => join(root, p);
  const { O_WRONLY, O_CREAT, O_APPEND } = fs.constants;
  const code = errno(() => {
    switch (op.kind) {
      case "write":
        return fs.writeFileSync(at(op.path), op.data);
      case "pwrite":
        return withFd(at(op.path), O_WRONLY | O_CREAT, (fd) => writeAll(fd, op.data, op.offset));
      case "append":
        return withFd(at(op.path), O_WRONLY | O_CREAT | O_APPEND, (fd) => writeAll(fd, op.data, null));
      case "fill":
        return withFd(at(op.path), O_WRONLY | O_CREAT, (fd) =>
          writeAll(fd, patternBytes(op.length, op.seed), op.offset),
        );
      case "truncate":
        return fs.truncateSync(at(op.path), op.size);
      case "mkdir":
        return fs.mkdirSync(at(op.path), op.mode);
      case "rmdir":
        return fs.rmdirSync(at(op.path));
      case "unlink":
        return fs.unlinkSync(at(op.path));
      case "rename":
        return fs.renameSync(at(op.from), at(op.to));
      case "symlink":
        return fs.symlinkSync(op.target, at(op.path));
      case "link":
        return fs.linkSync(at(op.from), at(op.to));
      case "chmod":
        return fs.chmodSync(at(op.path), op.mode);
      case "chown":
        return fs.chownSync(at(op.path), op.uid, op.gid);
      case "lchown":
        return fs.lchownSync(at(op.path), op.uid, op.gid);
      case "populate": {
        const names = Array.from({ length: op.count }, (_, i) =>
          join(at(op.path), String(i).padStart(3, "0")),
        );
        for (const [i, name] of names.entries()) fs.writeFileSync(name, `file ${i}\n`, { flag: "wx" });
        for (const [i, name] of names.entries()) if (i % op.step === 0) fs.unlinkSync(name);
        return;
      }
    }
  });
  return code === "no error" ? "ok" : code;
}

/** A short, readable spelling of an operation for failure messages. */
export function describeOp(op: Op): string {
  const { kind, ...rest } = op;
  const fields = Object.entries(rest).map(([k, v]) =>
    v instanceof Uint8Array ? `${k}=<${v.length} bytes>` : `${k}=${JSON.stringify(v)}`,
  );
  return `${kind}(${fields.join(", ")})`;
}

/**
 * Creates `tree` under the empty host directory `root`: the POSIX reference starts from the same
 * tree the image holds (same names, contents, modes, owners; a BuildFile under several names is
 * one inode, so it is hard-linked).
 */
export function materialize(tree: BuildDir, root: string): void {
  const firstName = new Map<BuildFile, string>();
  const attrs: { path: string; node: BuildNode }[] = [{ path: root, node: tree }];
  const pending: { path: string; dir: BuildDir }[] = [{ path: root, dir: tree }];
  fs.mkdirSync(root, { recursive: true });
  while (pending.length > 0) {
    const { path, dir } = pending.pop() as { path: string; dir: BuildDir };
    for (const [name, node] of dir.children) {
      const child = join(path, name);
      if (node.kind === "dir") {
        fs.mkdirSync(child);
        pending.push({ path: child, dir: node });
      } else if (node.kind === "symlink") fs.symlinkSync(node.target, child);
      else {
        const first = firstName.get(node);
        if (first) {
          fs.linkSync(first, child);
          continue;
        }
        firstName.set(node, child);
        if (!(node.content instanceof Uint8Array)) throw new Error("materialize: in-memory content only");
        fs.writeFileSync(child, node.content);
      }
      attrs.push({ path: child, node });
    }
  }
  // Owner first: chown clears set-user-ID bits, so the mode is set after it.
  for (const { path, node } of attrs) {
    fs.lchownSync(path, node.uid, node.gid);
    if (node.kind !== "symlink") fs.chmodSync(path, node.mode & 0o7777);
  }
}

/** The tree every image starts from: base files the operations overwrite, cut, rename and link. */
export function seedTree(index: number): BuildDir {
  const root = makeDir();
  root.children.set("a", makeFile("seed a\n"));
  root.children.set(
    "big",
    makeFile(patternBytes(10_000 + index * 1000, index + 1), { mode: 0o640, uid: 1000, gid: 100 }),
  );
  const d = makeDir({ mode: 0o750, uid: 5, gid: 6 });
  d.children.set("日本", makeFile(patternBytes(5000, 77)));
  d.children.set("a", makeFile(new Uint8Array(0), { mode: 0o600 }));
  root.children.set("d", d);
  root.children.set("s", makeSymlink("a", { uid: 3, gid: 4 }));
  const shared = makeFile(patternBytes(4097, 3), { uid: 2, gid: 3 });
  root.children.set("h1", shared);
  d.children.set("h2", shared);
  return root;
}
