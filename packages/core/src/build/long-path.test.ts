import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nodeHostCalls } from "./host-calls.js";
import { ANCHOR_BYTES, withShortPath } from "./long-path.js";
import { scanDirectory } from "./scan.js";
import type { BuildDir, BuildFile } from "./tree.js";
import { isHostContent } from "./tree.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-long-path-"));
// GNU rm walks with openat; Node's rmSync fails on paths over PATH_MAX.
afterAll(() => execFileSync("rm", ["-rf", work]));

/**
 * `depth` directories of 200-byte names under `root`, then `below` (Python run with `fd` open on
 * the deepest), made with openat as GNU tar would.
 */
function deepTree(root: string, depth: number, below: string): void {
  const script = `import os, sys
os.mkdir(sys.argv[1]); fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(${depth}):
    os.mkdir("d" * 200, dir_fd=fd); n = os.open("d" * 200, os.O_RDONLY, dir_fd=fd); os.close(fd); fd = n
${below}`;
  execFileSync("python3", ["-c", script, root]);
}

describe("paths longer than PATH_MAX", () => {
  it("withShortPath keeps short paths and names a long one through its parent, closed after", () => {
    expect(withShortPath(work, (name) => name)).toBe(work);
    const open = () => readdirSync("/proc/self/fd").length;
    const before = open();
    const long = `${work}${"/.".repeat(ANCHOR_BYTES / 2)}/x`;
    let during = 0;
    const short = withShortPath(long, (name) => {
      during = open();
      return name;
    });
    expect(short).toMatch(/^\/proc\/self\/fd\/\d+\/x$/);
    expect(during).toBe(before + 1);
    expect(open()).toBe(before);
  });

  it("scanDirectory reads a tree whose paths exceed PATH_MAX", () => {
    const root = join(work, "deep");
    // 6 KiB paths, a leaf file and a FIFO.
    deepTree(
      root,
      30,
      `f = os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o640, dir_fd=fd); os.write(f, b"leaf\\n"); os.close(f)
os.mkfifo("pipe", dir_fd=fd)`,
    );
    const warnings: string[] = [];
    const tree = scanDirectory(root, { onWarning: (message) => warnings.push(message) });
    // Messages name the real path, not the descriptor it was reached through.
    expect(warnings).toEqual([
      `skipping ${root}/${"d".repeat(200).concat("/").repeat(30)}pipe: FIFO (DAXFS stores files, directories and symlinks only)`,
    ]);
    let dir: BuildDir = tree;
    for (let depth = 0; depth < 30; depth++) {
      const next = dir.children.get("d".repeat(200));
      expect(next?.kind).toBe("dir");
      dir = next as BuildDir;
    }
    const leaf = dir.children.get("leaf") as BuildFile;
    expect(leaf.kind).toBe("file");
    expect(leaf.mode & 0o777).toBe(0o640);
    expect(isHostContent(leaf.content)).toBe(true);
    // The scan stores the real path; the writer opens it through withShortPath.
    if (!isHostContent(leaf.content)) throw new Error("unreachable");
    expect(leaf.content.path).toBe(`${root}/${"d".repeat(200).concat("/").repeat(30)}leaf`);
    expect(withShortPath(leaf.content.path, (name) => readFileSync(name, "utf8"))).toBe("leaf\n");
  });

  it("scanDirectory holds one descriptor at a time, however many deep directories there are", () => {
    // 400 directories side by side whose paths cross ANCHOR_BYTES, each reached through its own
    // parent: anchors held for the whole scan ran out of descriptors (EMFILE) under `ulimit -n 256`.
    const root = join(work, "wide");
    deepTree(
      root,
      14,
      `for i in range(400):
    name = "s%03d" % i + "x" * 245
    os.mkdir(name, dir_fd=fd); os.mkdir(name + "/sub", dir_fd=fd)
    f = os.open(name + "/sub/f", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=fd); os.write(f, b"f"); os.close(f)`,
    );
    const open = () => readdirSync("/proc/self/fd").length;
    const before = open();
    let most = 0;
    const tree = scanDirectory(root, {
      hostCalls: {
        ...nodeHostCalls,
        lstat: (path) => {
          most = Math.max(most, open());
          return nodeHostCalls.lstat(path);
        },
      },
    });
    expect(most - before).toBeLessThanOrEqual(1);
    expect(open()).toBe(before);
    let dir: BuildDir = tree;
    for (let depth = 0; depth < 14; depth++) dir = dir.children.get("d".repeat(200)) as BuildDir;
    expect(dir.children.size).toBe(400);
    const file = (
      (dir.children.get(`s399${"x".repeat(245)}`) as BuildDir).children.get("sub") as BuildDir
    ).children.get("f") as BuildFile;
    if (!isHostContent(file.content)) throw new Error("unreachable");
    expect(withShortPath(file.content.path, (name) => readFileSync(name, "utf8"))).toBe("f");
  });
});
