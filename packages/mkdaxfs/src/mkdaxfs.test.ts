import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DaxfsError } from "@daxfs/core";
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
        // -o a symlink from a roomy file system into the small one: the room is the image file's own.
        const link = join(work, "img-link");
        writeFileSync(join(small, "linked"), "previous image");
        symlinkSync(join(small, "linked"), link);
        const linked: string[] = [];
        await buildToTarget(options(link), { onWarning: (m) => linked.push(m) });
        expect(linked).toEqual([
          expect.stringMatching(/\(no space left on device for its \d+ unallocated bytes\)/),
        ]);
        expect(holes(join(small, "linked"))).toBeGreaterThan(7 << 20);
      } finally {
        spawnSync("umount", [small]);
      }
    },
  );
});

describe("a build killed half-way (Ctrl-C, SIGTERM, SIGKILL)", () => {
  it("leaves no temporary file beside -o, and a previous image there as it was", () => {
    // The image is written into an unnamed file (O_TMPFILE) that gets its name only once complete;
    // a named temporary file would stay behind, as big as the image, on a disk that may be filling.
    const script = fileURLToPath(new URL("./testing/killed-build.ts", import.meta.url));
    const out = join(work, "killed");
    mkdirSync(out);
    const image = join(out, "img");
    writeFileSync(image, "previous image");
    // Every workspace package from its sources (not a dist/ that may be stale).
    const tsconfig = fileURLToPath(new URL("./testing/tsconfig.sources.json", import.meta.url));
    const child = spawnSync(process.execPath, ["--import", "tsx", script, source, image], {
      encoding: "utf8",
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
    });
    expect(child.signal).toBe("SIGKILL");
    expect(readdirSync(out)).toEqual(["img"]);
    expect(readFileSync(image, "utf8")).toBe("previous image");
  });
});

describe("the spool of tar input in $TMPDIR", () => {
  it("a TMPDIR that cannot hold it is one line naming it, not an internal error", async () => {
    const layer = join(work, "layer.tar.gz");
    expect(spawnSync("tar", ["-czf", layer, "-C", source, "."]).status).toBe(0);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = "/nonexistent/tmp";
    try {
      await expect(
        buildToTarget(options(join(work, "from-tar.img"), { directory: undefined, tars: [layer] })),
      ).rejects.toThrow(
        new DaxfsError(
          "ENOENT",
          "/nonexistent/tmp: no such file or directory (TMPDIR, where tar input is spooled)",
        ),
      );
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(readdirSync(work)).not.toContain("from-tar.img");
  });

  it.skipIf(process.getuid?.() !== 0)(
    "a TMPDIR that fills up is one line naming it (mounts a tmpfs)",
    async () => {
      const big = join(work, "big-src");
      mkdirSync(big);
      writeFileSync(join(big, "random"), randomBytes(1 << 20)); // does not compress below the tmpfs
      const layer = join(work, "big.tar.gz");
      expect(spawnSync("tar", ["-czf", layer, "-C", big, "."]).status).toBe(0);
      const small = mkdtempSync(join(tmpdir(), "mkdaxfs-small-tmp-"));
      expect(spawnSync("mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", small]).status).toBe(0);
      const saved = process.env.TMPDIR;
      process.env.TMPDIR = small;
      try {
        await expect(
          buildToTarget(options(join(work, "full-tmp.img"), { directory: undefined, tars: [layer] })),
        ).rejects.toThrow(
          new DaxfsError("ENOSPC", `${small}: no space left on device (TMPDIR, where tar input is spooled)`),
        );
        expect(readdirSync(small)).toEqual([]); // the spool is removed
      } finally {
        if (saved === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = saved;
        spawnSync("umount", [small]);
        rmSync(small, { recursive: true, force: true });
      }
      expect(readdirSync(work)).not.toContain("full-tmp.img");
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
