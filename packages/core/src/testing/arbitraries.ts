// fast-check generators of build trees: unicode, non-UTF-8 and 255-byte names, empty files, deep nesting, hard
// links, symlinks, every permission bit and 32-bit ids. Shared by the core builder's and mkdaxfs's
// property tests.
import fc from "fast-check";
import type { BuildDir, BuildFile, BuildNode, BuildSymlink } from "../build/tree.js";
import { decodeName, nameByteLength, nameTextProblem } from "../names.js";

/**
 * Arbitrary bytes without NUL and without `excluded` (a name excludes '/'), in the string form
 * names.ts gives them: invalid UTF-8 (Latin-1 names, stray continuation bytes) is the point.
 */
export function byteString(maxLength: number, excluded: number[] = []): fc.Arbitrary<string> {
  const byte = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 0xff }) },
    { weight: 1, arbitrary: fc.constantFrom(0x5c, 0x0a, 0x1b, 0x7f, 0x20, 0x2e) },
  );
  return fc
    .array(
      byte.filter((b) => !excluded.includes(b)),
      { minLength: 1, maxLength },
    )
    .map((bytes) => decodeName(Uint8Array.from(bytes)));
}

/** Valid entry names: 1..255 bytes, no '/', no NUL, not '.' or '..'; UTF-8 or not. */
export const entryName: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 12, unit: "grapheme" }) },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9._-]{1,20}$/) },
    { weight: 2, arbitrary: byteString(16, [0x2f]) },
    // Exactly 255 bytes, ASCII and multi-byte.
    {
      weight: 1,
      arbitrary: fc.constantFrom("n".repeat(255), `${"é".repeat(127)}x`, `${"😀".repeat(63)}abc`),
    },
  )
  .filter(
    (s) =>
      nameByteLength(s) <= 255 &&
      !s.includes("/") &&
      !s.includes("\0") &&
      s !== "." &&
      s !== ".." &&
      nameTextProblem(s) === undefined,
  );

// 0xffffffff is (uid_t)-1, no owner: invalid in an image (NOTES.md "Validity"), so the largest id is 0xfffffffe.
const anyId = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 65535 }), fc.constant(0xfffffffe));
/** Ids a host disk can store too (chown(2) takes every id but (uid_t)-1): the same set. */
export const hostId = anyId;
const permissions = fc.integer({ min: 0, max: 0o7777 });

const fileNode = (id: fc.Arbitrary<number>): fc.Arbitrary<BuildFile> =>
  fc
    .record({
      mode: permissions,
      uid: id,
      gid: id,
      content: fc.oneof(
        { weight: 2, arbitrary: fc.constant(new Uint8Array(0)) },
        { weight: 5, arbitrary: fc.uint8Array({ maxLength: 64 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 4090, maxLength: 9000 }) },
      ),
    })
    .map(({ mode, uid, gid, content }) => ({ kind: "file", mode, uid, gid, size: content.length, content }));

const symlinkNode = (id: fc.Arbitrary<number>): fc.Arbitrary<BuildSymlink> =>
  fc
    .record({
      uid: id,
      gid: id,
      target: fc.oneof(
        fc
          .string({ minLength: 1, maxLength: 40, unit: "grapheme" })
          .filter((s) => !s.includes("\0") && Buffer.from(s).toString() === s),
        byteString(40),
      ),
    })
    .map(({ uid, gid, target }) => ({ kind: "symlink", mode: 0o777, uid, gid, target }));

interface TreeShape {
  dir: BuildDir;
}

/** A random tree; `maxDepth` bounds nesting (one deep chain is always possible). */
export function buildTree(maxDepth = 6, id: fc.Arbitrary<number> = anyId): fc.Arbitrary<BuildDir> {
  const { dir } = fc.letrec<TreeShape>((tie) => ({
    dir: fc
      .record({
        mode: permissions,
        uid: id,
        gid: id,
        entries: fc.uniqueArray(
          fc.tuple(
            entryName,
            fc.oneof(
              { depthSize: "small", maxDepth, withCrossShrink: true },
              fileNode(id) as fc.Arbitrary<BuildNode>,
              symlinkNode(id) as fc.Arbitrary<BuildNode>,
              tie("dir") as fc.Arbitrary<BuildNode>,
            ),
          ),
          { maxLength: 6, selector: ([name]) => name },
        ),
      })
      .map(
        ({ mode, uid, gid, entries }) =>
          ({ kind: "dir", mode, uid, gid, children: new Map(entries) }) as BuildDir,
      ),
  }));
  return fc
    .tuple(dir, fc.array(fc.tuple(fc.nat(), entryName), { maxLength: 4 }))
    .map(([root, links]) => addHardLinks(root, links));
}

/** Adds extra names for existing files: (file index, new name in a directory chosen by index). */
function addHardLinks(root: BuildDir, links: Array<[number, string]>): BuildDir {
  const files: BuildFile[] = [];
  const dirs: BuildDir[] = [];
  const walk = (dir: BuildDir) => {
    dirs.push(dir);
    for (const child of dir.children.values()) {
      if (child.kind === "file") files.push(child);
      else if (child.kind === "dir") walk(child);
    }
  };
  walk(root);
  for (const [index, name] of links) {
    const file = files[index % Math.max(files.length, 1)];
    const dir = dirs[index % dirs.length] as BuildDir;
    if (file && !dir.children.has(name)) dir.children.set(name, file);
  }
  return root;
}

/** A chain of `depth` nested directories ending in one file. */
export function deepChain(depth: number): BuildDir {
  const root: BuildDir = { kind: "dir", mode: 0o755, uid: 0, gid: 0, children: new Map() };
  let dir = root;
  for (let i = 0; i < depth; i++) {
    const next: BuildDir = { kind: "dir", mode: 0o700, uid: i, gid: i, children: new Map() };
    dir.children.set(`d${i}`, next);
    dir = next;
  }
  dir.children.set("leaf", {
    kind: "file",
    mode: 0o600,
    uid: 1,
    gid: 1,
    size: 4,
    content: new TextEncoder().encode("leaf"),
  });
  return root;
}
