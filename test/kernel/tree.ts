// The source tree of the kernel read tests: files of many sizes (page boundaries, a multi-MiB
// file), nested directories, a directory past the 136/272-entry dirent boundaries, symlinks,
// hard links, modes and owners. Built with @daxfs/core's builder; the expected walk comes
// from the same tree, so the guest's answers are checked against the source, not the image.
import { createHash } from "node:crypto";
import { type BuildDir, type BuildFile, type BuildNode, makeDir, makeFile, makeSymlink } from "@daxfs/core";

/** Deterministic bytes (xorshift), so big files need no fixture on disk. */
export function patternBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed | 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sourceTree(options: { bigFileBytes?: number } = {}): BuildDir {
  const root = makeDir({ mode: 0o755 });
  const sizes = [0, 1, 100, 4095, 4096, 4097, 8191, 65536 + 3, 1048576 + 5];
  const files = makeDir({ mode: 0o750, uid: 1000, gid: 100 });
  for (const size of sizes)
    files.children.set(
      `f${size}`,
      makeFile(patternBytes(size, size + 7), { mode: 0o644, uid: 1000, gid: 100 }),
    );
  files.children.set("setuid", makeFile("#!/bin/sh\n", { mode: 0o4755 }));
  files.children.set("readonly", makeFile("ro\n", { mode: 0o444, uid: 65534, gid: 65534 }));
  files.children.set("name with spaces", makeFile("spaces\n"));
  files.children.set("ünïcödé", makeFile("utf-8\n"));
  files.children.set("x".repeat(255), makeFile("long name\n"));
  if (options.bigFileBytes) files.children.set("big", makeFile(patternBytes(options.bigFileBytes, 99)));
  root.children.set("files", files);

  let deep = root;
  for (let depth = 0; depth < 6; depth++) {
    const next = makeDir({ mode: depth % 2 ? 0o700 : 0o755, uid: depth, gid: depth * 2 });
    deep.children.set(`d${depth}`, next);
    deep.children.set(`file-at-${depth}`, makeFile(`depth ${depth}\n`));
    deep = next;
  }
  root.children.set("sticky", makeDir({ mode: 0o1777 }));
  root.children.set("empty", makeDir({ mode: 0o555 }));

  const many = makeDir();
  for (let i = 0; i < 300; i++)
    many.children.set(`entry-${String(i).padStart(3, "0")}-${"n".repeat(i % 40)}`, makeFile(`${i}\n`));
  root.children.set("many", many);

  const links = makeDir();
  links.children.set("relative", makeSymlink("../files/f4096"));
  links.children.set("absolute", makeSymlink("/etc/passwd", { uid: 7, gid: 8 }));
  links.children.set("dangling", makeSymlink("no/such/file"));
  links.children.set("long", makeSymlink(`${"a/".repeat(600)}end`));
  links.children.set("dir", makeSymlink("../d0"));
  root.children.set("links", links);

  const shared = makeFile(patternBytes(5000, 3), { mode: 0o640, uid: 2, gid: 3 });
  root.children.set("hard-a", shared);
  links.children.set("hard-b", shared);
  many.children.set("hard-c", shared);
  return root;
}

export interface ExpectedEntry {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  nlink: number;
  sha256?: string;
  target?: string;
}

function modeOf(node: BuildNode): number {
  const type = node.kind === "dir" ? 0o040000 : node.kind === "file" ? 0o100000 : 0o120000;
  return type | (node.mode & 0o7777);
}

function contentOf(file: BuildFile): Uint8Array {
  const c = file.content;
  if (c instanceof Uint8Array) return c;
  if (typeof c === "function") return c(0, file.size);
  throw new Error("host content is not used by the kernel tests");
}

/** Every path under root ("." first) with the attributes stat and readlink must report. */
export function expectedWalk(root: BuildDir): ExpectedEntry[] {
  const names = new Map<BuildNode, number>();
  const countNames = (dir: BuildDir) => {
    for (const child of dir.children.values()) {
      names.set(child, (names.get(child) ?? 0) + 1);
      if (child.kind === "dir") countNames(child);
    }
  };
  countNames(root);
  const out: ExpectedEntry[] = [];
  const visit = (path: string, node: BuildNode) => {
    const base = { path, mode: modeOf(node), uid: node.uid, gid: node.gid };
    if (node.kind === "dir") {
      const subdirs = [...node.children.values()].filter((c) => c.kind === "dir").length;
      out.push({ ...base, size: node.children.size * 271, nlink: 2 + subdirs });
      for (const [name, child] of node.children) visit(`${path}/${name}`, child);
    } else if (node.kind === "file") {
      const bytes = contentOf(node);
      out.push({
        ...base,
        size: bytes.length,
        nlink: names.get(node) ?? 1,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      });
    } else {
      out.push({ ...base, size: Buffer.byteLength(node.target), nlink: 1, target: node.target });
    }
  };
  visit(".", root);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
