import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ANCHOR_BYTES, DirectoryAnchors } from "./long-path.js";
import { scanDirectory } from "./scan.js";
import type { BuildDir, BuildFile } from "./tree.js";
import { isHostContent } from "./tree.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-long-path-"));
// GNU rm walks with openat; Node's rmSync fails on paths over PATH_MAX.
afterAll(() => execFileSync("rm", ["-rf", work]));

/** 30 directories of 200-byte names (6 KiB paths) and a leaf file, made with openat as GNU tar would. */
function deepTree(root: string): void {
  execFileSync("python3", [
    "-c",
    `import os, sys
os.mkdir(sys.argv[1]); fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(30):
    os.mkdir("d" * 200, dir_fd=fd); n = os.open("d" * 200, os.O_RDONLY, dir_fd=fd); os.close(fd); fd = n
f = os.open("leaf", os.O_CREAT | os.O_WRONLY, 0o640, dir_fd=fd); os.write(f, b"leaf\\n"); os.close(f)
os.mkfifo("pipe", dir_fd=fd)`,
    root,
  ]);
}

describe("paths longer than PATH_MAX", () => {
  it("shorten keeps short paths and anchors long ones to an open directory", () => {
    const anchors = new DirectoryAnchors();
    expect(anchors.shorten(work)).toBe(work);
    expect(anchors.open).toBe(0);
    const long = `${work}${"/.".repeat(ANCHOR_BYTES / 2)}`;
    const short = anchors.shorten(long);
    expect(short).toMatch(/^\/proc\/self\/fd\/\d+$/);
    expect(anchors.open).toBe(1);
    anchors.close();
    expect(anchors.open).toBe(0);
  });

  it("scanDirectory reads a tree whose paths exceed PATH_MAX", () => {
    const root = join(work, "deep");
    deepTree(root);
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
    // The writer opens the file by the name the scan stored: it must be one the kernel accepts.
    if (!isHostContent(leaf.content)) throw new Error("unreachable");
    expect(Buffer.byteLength(leaf.content.path)).toBeLessThan(4096);
    expect(readFileSync(leaf.content.path, "utf8")).toBe("leaf\n");
  });
});
