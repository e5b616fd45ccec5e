// Test trees in the builder's own shape (build/tree.ts), so one tree feeds the real builder
// (buildImage) and the hand-rolled test builders (test-image.ts, raw-log.ts) alike.
import {
  type BuildDir,
  type BuildFile,
  type BuildNode,
  type BuildSymlink,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
} from "../build/tree.js";

export interface TestAttrs {
  /** Permission bits (the type bits are added). */
  perm?: number;
  uid?: number;
  gid?: number;
}

export const testDir = (children: Record<string, BuildNode> = {}, attrs: TestAttrs = {}): BuildDir => ({
  kind: "dir",
  mode: S_IFDIR | (attrs.perm ?? 0o755),
  uid: attrs.uid ?? 0,
  gid: attrs.gid ?? 0,
  children: new Map(Object.entries(children)),
});

/** A file; put the same object under several names for a hard link. */
export function testFile(data: Uint8Array | string, attrs: TestAttrs = {}): BuildFile {
  const content = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return {
    kind: "file",
    mode: S_IFREG | (attrs.perm ?? 0o644),
    uid: attrs.uid ?? 0,
    gid: attrs.gid ?? 0,
    size: content.length,
    content,
  };
}

export const testSymlink = (target: string, attrs: TestAttrs = {}): BuildSymlink => ({
  kind: "symlink",
  mode: S_IFLNK | (attrs.perm ?? 0o777),
  uid: attrs.uid ?? 0,
  gid: attrs.gid ?? 0,
  target,
});

/** A small tree with every kind of inode: nested dirs, a hard link, a symlink, an empty dir and file. */
export function sampleTree(): BuildDir {
  const shared = testFile("shared bytes\n");
  return testDir({
    "hello.txt": testFile("hello, world\n"),
    empty: testFile(""),
    link: testSymlink("hello.txt"),
    hard1: shared,
    docs: testDir({
      "readme.md": testFile("# readme\n".repeat(600)),
      nested: testDir({ deep: testDir({ "leaf.bin": testFile(new Uint8Array(5000).fill(7)) }) }),
      hard2: shared,
    }),
    "empty-dir": testDir(),
  });
}
