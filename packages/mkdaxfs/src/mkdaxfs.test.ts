import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildToTarget, type MkdaxfsOptions } from "./mkdaxfs.js";

const work = mkdtempSync(join(tmpdir(), "mkdaxfs-alloc-"));
const source = join(work, "src");
mkdirSync(source);
writeFileSync(join(source, "a"), "hi\n");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const options = (output: string, extra: Partial<MkdaxfsOptions> = {}): MkdaxfsOptions => ({
  directory: source,
  tars: [],
  output,
  branching: true,
  deltaSize: 8 << 20,
  validate: false,
  allRoot: false,
  exclude: [],
  strict: false,
  ...extra,
});

/** Bytes of the file that are holes (st_blocks counts 512-byte units actually allocated). */
const holes = (path: string) => {
  const stat = statSync(path);
  return Math.max(0, stat.size - stat.blocks * 512);
};

describe("image files are allocated up front (a mapping of them cannot SIGBUS)", () => {
  it("every block by default; holes with --sparse", async () => {
    const full = join(work, "full.img");
    const warnings: string[] = [];
    await buildToTarget(options(full), { onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([]);
    expect(holes(full)).toBe(0);
    const sparse = join(work, "sparse.img");
    await buildToTarget(options(sparse, { sparse: true }));
    expect(holes(sparse)).toBeGreaterThanOrEqual(7 << 20); // the unwritten delta region
  });

  it.runIf(process.getuid?.() === 0)(
    "a file system too small for the whole image: a warning, the image stays sparse and nothing fills the disk",
    async () => {
      const small = join(work, "small");
      mkdirSync(small);
      const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small]);
      expect(mounted.status).toBe(0);
      try {
        const image = join(small, "img");
        const warnings: string[] = [];
        await buildToTarget(options(image), { onWarning: (m) => warnings.push(m) });
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(
          /img: the image's \d+ bytes cannot be allocated up front \(no space left on device for its \d+ unallocated bytes\); it is left sparse$/,
        );
        expect(holes(image)).toBeGreaterThan(7 << 20);
        // The attempt was not made, so the file system is not left full.
        expect(spawnSync("df", ["--output=avail", "-B1", small], { encoding: "utf8" }).stdout).toMatch(
          /\n[1-9]\d*\n$/,
        );
      } finally {
        spawnSync("umount", [small]);
      }
    },
  );
});

/** Bytes of disk the file takes. */
const allocated = (path: string) => statSync(path).blocks * 512;

/** Whether two files hold the same bytes, read 16 MiB at a time (images of 1 GiB). */
function sameBytes(a: string, b: string): boolean {
  if (statSync(a).size !== statSync(b).size) return false;
  const [fa, fb] = [openSync(a, "r"), openSync(b, "r")];
  const [ba, bb] = [Buffer.alloc(16 << 20), Buffer.alloc(16 << 20)];
  try {
    for (let at = 0; ; at += ba.length) {
      const n = readSync(fa, ba, 0, ba.length, at);
      if (readSync(fb, bb, 0, bb.length, at) !== n) return false;
      if (n === 0) return true;
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** A sparse file of `size` bytes with a few data pieces (a leading, a middle and a trailing one). */
function sparseFile(path: string, size: number): void {
  const fd = openSync(path, "w");
  try {
    writeSync(fd, Buffer.alloc(5000, 1), 0, 5000, 0);
    writeSync(fd, Buffer.from("middle"), 0, 6, Math.floor(size / 3));
    writeSync(fd, Buffer.from("end"), 0, 3, size - 3);
  } finally {
    closeSync(fd);
  }
}

describe("--sparse keeps a source's holes and zeros as holes of the image, with the same bytes", () => {
  it("a 1 GiB sparse file (-d)", async () => {
    const tree = join(work, "sparse-src");
    mkdirSync(tree);
    sparseFile(join(tree, "big"), 1 << 30);
    const sparse = join(work, "big-sparse.img");
    await buildToTarget(options(sparse, { directory: tree, branching: false, sparse: true }));
    expect(allocated(sparse)).toBeLessThan(1 << 20);
    const full = join(work, "big-full.img");
    await buildToTarget(options(full, { directory: tree, branching: false }));
    expect(allocated(full)).toBeGreaterThanOrEqual(1 << 30);
    expect(sameBytes(sparse, full)).toBe(true);
    rmSync(full);
  });

  it("a sparse tar member (GNU tar -S)", async () => {
    const tree = join(work, "sparse-tar-src");
    mkdirSync(tree);
    sparseFile(join(tree, "member"), 256 << 20);
    const archive = join(work, "sparse.tar");
    const made = spawnSync("tar", ["-S", "-cf", archive, "-C", tree, "member"]);
    expect(made.status).toBe(0);
    // The member is stored sparse: the archive holds its data, not its 256 MiB.
    expect(statSync(archive).size).toBeLessThan(1 << 20);
    const sparse = join(work, "tar-sparse.img");
    await buildToTarget(options(sparse, { directory: undefined, tars: [archive], sparse: true }));
    expect(allocated(sparse)).toBeLessThan(1 << 20);
    const full = join(work, "tar-full.img");
    await buildToTarget(options(full, { directory: undefined, tars: [archive] }));
    expect(readFileSync(sparse).equals(readFileSync(full))).toBe(true);
  });
});
