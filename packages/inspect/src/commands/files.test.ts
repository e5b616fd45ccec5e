import { execFileSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, DaxfsImage, MemoryImage } from "@daxfs/core";
import { testDir as dir, testFile as file, testSymlink as symlink } from "@daxfs/core/testing";
import { DAXFS_BASE_INODE_SIZE, DaxfsBaseInode, DaxfsBaseSuper, DaxfsSuper } from "@daxfs/format";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../main.js";
import { extractCommand } from "./files.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-extract-"));
// GNU rm walks with openat; Node's rmSync fails on the deep tree below (paths over PATH_MAX).
afterAll(() => execFileSync("rm", ["-rf", work]));

async function extract(image: string, target: string, ...path: string[]) {
  let stderr = "";
  const code = await main([image, "extract", target, ...path], {
    stdout: () => {},
    stdoutBytes: () => {},
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stderr };
}

function imageOf(name: string, root: ReturnType<typeof dir>): string {
  const path = join(work, name);
  writeFileSync(path, buildImage(root));
  return path;
}

const isRoot = process.getuid?.() === 0;

describe("extract", () => {
  // As GNU tar -x and fsck.erofs --extract do for the superuser; an unprivileged run cannot chown.
  it.runIf(isRoot)("as root restores owners, then modes (setuid survives the chown)", async () => {
    const image = imageOf(
      "owners.img",
      dir(
        {
          d: dir({ f: file("x", { uid: 1234, gid: 5678, perm: 0o4755 }) }, { uid: 42, gid: 43, perm: 0o750 }),
          l: symlink("d/f", { uid: 7, gid: 8 }),
        },
        { uid: 5, gid: 6, perm: 0o711 },
      ),
    );
    const out = join(work, "owners");
    expect(await extract(image, out)).toEqual({ code: 0, stderr: "" });
    const owner = (path: string) => {
      const stat = lstatSync(join(out, path));
      return [stat.uid, stat.gid, stat.mode & 0o7777];
    };
    expect(owner("d/f")).toEqual([1234, 5678, 0o4755]);
    expect(owner("d")).toEqual([42, 43, 0o750]);
    expect(owner("l").slice(0, 2)).toEqual([7, 8]);
    expect(owner("")).toEqual([5, 6, 0o711]);
  });

  it("writes nothing from a corrupt image: a bad symlink, file extent or directory last in the walk", async () => {
    for (const [name, last, field] of [
      ["symlink", symlink("target"), "size"],
      ["file", file("data"), "dataOffset"],
      ["directory", dir({ x: file("x") }), "size"],
    ] as const) {
      const bytes = buildImage(dir({ a: dir({ f: file("abc") }), z: last }));
      // /z's inode slot: base + inode table + (ino - 1) slots; a field set far past the image.
      const ino = DaxfsImage.open(new MemoryImage(bytes)).view("main").resolve("/z");
      const base = Number(DaxfsSuper.decode(bytes, 0).baseOffset);
      const slot =
        base + Number(DaxfsBaseSuper.decode(bytes, base).inodeOffset) + (ino - 1) * DAXFS_BASE_INODE_SIZE;
      new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(
        slot + DaxfsBaseInode.offsets[field],
        1n << 40n,
        true,
      );
      const image = join(work, `corrupt-${name}.img`);
      writeFileSync(image, bytes);
      const out = join(work, `corrupt-${name}`);
      const result = await extract(image, out);
      expect(result.code, name).toBe(1);
      expect(result.stderr, name).toMatch(/^daxfs-inspect: [^\n]*\n$/);
      expect(existsSync(out), name).toBe(false);
    }
  });

  // A filesystem that fills up needs a small one of our own: a 64 KiB tmpfs (root only).
  it.runIf(isRoot)("fails on a full disk, naming the file by its real path, however deep", async () => {
    let tree = dir({ big: file(new Uint8Array(200_000).fill(1)) });
    for (let depth = 0; depth < 20; depth++) tree = dir({ ["d".repeat(200)]: tree });
    const image = imageOf("full.img", tree);
    const small = join(work, "small");
    execFileSync("mkdir", [small]);
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", small]);
    try {
      const out = join(small, "out");
      // write(2) took 64 KiB of the first chunk and the rest was dropped: exit 0, a cut file.
      expect(await extract(image, out)).toEqual({
        code: 2,
        stderr: `daxfs-inspect: ${out}/${"d".repeat(200).concat("/").repeat(20)}big: no space left on device\n`,
      });
    } finally {
      execFileSync("umount", [small]);
    }
  });

  it("writes the part of the tree at PATH: a directory's contents into DIR, anything else under its name", async () => {
    const image = imageOf(
      "part.img",
      dir({
        usr: dir({
          lib: dir({ "libc.so": file("elf", { perm: 0o755 }), sub: dir({ x: file("x") }) }, { perm: 0o750 }),
        }),
        lib: symlink("usr/lib"),
      }),
    );
    const find = (out: string) =>
      execFileSync("find", [out, "-mindepth", "1", "-printf", "%P %y %m\n"], { encoding: "utf8" })
        .split("\n")
        .sort()
        .join(" | ");
    // Through the symlink in the middle, and with the link's own name followed by a slash.
    for (const path of ["/usr/lib", "/lib/"]) {
      const out = join(work, `part${path.replaceAll("/", "-")}`);
      expect(await extract(image, out, path)).toEqual({ code: 0, stderr: "" });
      expect(find(out), path).toBe(" | libc.so f 755 | sub d 755 | sub/x f 644");
      expect(lstatSync(out).mode & 0o777, path).toBe(0o750);
    }
    const one = join(work, "part-file");
    expect(await extract(image, one, "/lib/libc.so")).toEqual({ code: 0, stderr: "" });
    expect(find(one)).toBe(" | libc.so f 755");
    const link = join(work, "part-link");
    expect(await extract(image, link, "/lib")).toEqual({ code: 0, stderr: "" });
    expect(find(link)).toBe(" | lib l 777");
    const missing = join(work, "part-missing");
    expect(await extract(image, missing, "/usr/nope")).toEqual({
      code: 1,
      stderr: `daxfs-inspect: ${image}: no entry "nope" in /usr\n`,
    });
    expect(existsSync(missing)).toBe(false);
  });

  it("never writes through a name already in DIR (two image names one on a case-folding host)", () => {
    const outside = join(work, "outside");
    writeFileSync(outside, "keep");
    const image = buildImage(dir({ L: symlink(outside), l: file("overwritten") }));
    const view = DaxfsImage.open(new MemoryImage(image)).view("main");
    // As a case-insensitive destination sees the tree: "l" lands on "L", the symlink made first.
    const walk = view.walk.bind(view);
    view.walk = (start) =>
      [...walk(start)].map((entry) => (entry.path === "/l" ? { ...entry, path: "/L" } : entry));
    const out = join(work, "folded");
    expect(() => extractCommand(view, out, { json: true, write: () => {} })).toThrow(/EEXIST/);
    expect(readFileSync(outside, "utf8")).toBe("keep");
  });

  it("writes a hard-linked symlink as one inode under each of its names", async () => {
    const shared = symlink("target");
    const out = join(work, "linked-symlinks");
    const image = imageOf("linked-symlinks.img", dir({ s1: shared, a: dir({ s2: shared }) }));
    expect(await extract(image, out)).toEqual({ code: 0, stderr: "" });
    const [first, second] = [lstatSync(join(out, "s1")), lstatSync(join(out, "a/s2"))];
    expect(first.isSymbolicLink() && second.isSymbolicLink()).toBe(true);
    expect([second.ino, second.nlink]).toEqual([first.ino, 2]);
  });

  it("restores atime and mtime: files, symlinks (lutimes) and directories after their contents", async () => {
    // Stored times in ns; extract keeps them to the microsecond.
    const at = (seconds: number, micros = 0) => BigInt(seconds) * 1_000_000_000n + BigInt(micros) * 1000n;
    const shared = { ...file("x"), mtime: at(1_796_121_444, 364_615) };
    const image = imageOf(
      "times.img",
      dir(
        {
          // A directory whose mtime would move with every name written in it, a hard link last.
          d: {
            ...dir({ f: shared, sub: { ...dir({ g: file("g") }), mtime: at(1_200_000_000) } }),
            mtime: at(900_000_000),
          },
          l: { ...symlink("nowhere"), mtime: at(1_100_000_000) },
          z: dir({ again: shared }),
        },
        {},
      ),
    );
    const out = join(work, "times");
    expect(await extract(image, out)).toEqual({ code: 0, stderr: "" });
    const times = (path: string) => {
      const stat = lstatSync(join(out, path), { bigint: true });
      return [stat.atimeNs, stat.mtimeNs];
    };
    expect(times("d/f")).toEqual([at(1_796_121_444, 364_615), at(1_796_121_444, 364_615)]);
    expect(times("z/again")).toEqual(times("d/f"));
    expect(times("d/sub")).toEqual([at(1_200_000_000), at(1_200_000_000)]);
    expect(times("d")).toEqual([at(900_000_000), at(900_000_000)]);
    expect(times("l")).toEqual([at(1_100_000_000), at(1_100_000_000)]);
  });

  it("a target whose parent exists but cannot hold it is one error line, not a hang", async () => {
    const image = imageOf("plain.img", dir({ f: file("x") }));
    const dangling = join(work, "dangling");
    symlinkSync(join(work, "nowhere"), dangling);
    // mkdirSync's recursive mode loops for ever on both (ENOENT for the child, EEXIST for the parent).
    for (const target of ["/proc/daxfs-extract-test", join(dangling, "out")])
      expect(await extract(image, target)).toEqual({
        code: 2,
        stderr: `daxfs-inspect: ${target}: no such file or directory\n`,
      });
    // Missing parents are still made.
    const deep = join(work, "new/parents/out");
    expect(await extract(image, deep)).toEqual({ code: 0, stderr: "" });
    expect(readFileSync(join(deep, "f"), "utf8")).toBe("x");
  });

  it("writes a tree whose paths exceed PATH_MAX", async () => {
    let tree = dir({ leaf: file("leaf\n", { perm: 0o640 }) });
    for (let depth = 0; depth < 30; depth++) tree = dir({ ["d".repeat(200)]: tree });
    const out = join(work, "deep");
    expect(await extract(imageOf("deep.img", tree), out)).toEqual({ code: 0, stderr: "" });
    const leaf = execFileSync("find", [out, "-name", "leaf", "-printf", "%d %m %s"], { encoding: "utf8" });
    expect(leaf).toBe("31 640 5");
  });

  it("holds one directory open at a time below PATH_MAX, however many deep directories there are", () => {
    // 400 directories side by side whose paths cross 3 KiB: a descriptor kept for each until the
    // end ran out of them (EMFILE) under `ulimit -n 256`. Counted at every file read.
    const siblings: Record<string, ReturnType<typeof dir>> = {};
    for (let i = 0; i < 400; i++)
      siblings[`s${String(i).padStart(3, "0")}${"x".repeat(245)}`] = dir({ sub: dir({ f: file(`${i}`) }) });
    let tree = dir(siblings);
    for (let depth = 0; depth < 14; depth++) tree = dir({ ["d".repeat(200)]: tree });
    const view = DaxfsImage.open(new MemoryImage(buildImage(tree))).view("main");
    const open = () => readdirSync("/proc/self/fd").length;
    const before = open();
    let most = 0;
    const read = view.read.bind(view);
    view.read = (ino, offset, length) => {
      most = Math.max(most, open());
      return read(ino, offset, length);
    };
    const out = join(work, "wide");
    extractCommand(view, out, { json: true, write: () => {} });
    expect(most - before).toBeLessThanOrEqual(3);
    expect(open()).toBe(before);
    const leaf = execFileSync("find", [out, "-name", "f", "-path", "*/s399*"], { encoding: "buffer" });
    expect(readFileSync(leaf.subarray(0, -1), "utf8")).toBe("399");
  });
});
