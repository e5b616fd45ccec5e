import { spawnSync } from "node:child_process";
import {
  chmodSync,
  closeSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HostStat, nodeHostCalls } from "@daxfs/core";
import { afterAll, describe, expect, it } from "vitest";
import { loadHostCalls } from "./host-calls.js";
import { buildToTarget } from "./mkdaxfs.js";

const work = mkdtempSync(join(tmpdir(), "host-calls-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every field but `dev`, which each implementation encodes its own way (it is only compared). */
function comparable(stat: HostStat): Omit<HostStat, "dev"> {
  const { dev: _dev, ...rest } = stat;
  return rest;
}

/** A tree with every kind of entry the scan meets, odd times, a set-id mode and a byte name. */
function oddTree(): string {
  const root = join(work, "tree");
  mkdirSync(root);
  writeFileSync(join(root, "file"), "0123456789abcdef");
  utimesSync(join(root, "file"), 1_700_000_000.123457, 1_700_000_000.123457);
  writeFileSync(join(root, "old"), "x");
  utimesSync(join(root, "old"), -86_400.25, -86_400.25);
  chmodSync(join(root, "old"), 0o6755);
  linkSync(join(root, "file"), join(root, "hard"));
  symlinkSync("file", join(root, "link"));
  mkdirSync(join(root, "dir"));
  // Over 4 GiB, sparse: the size's high word.
  writeFileSync(join(root, "dir", "huge"), "");
  truncateSync(join(root, "dir", "huge"), 5 * 2 ** 30 + 7);
  writeFileSync(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x66, 0xff, 0x6f])]), "latin");
  expect(spawnSync("mkfifo", [join(root, "fifo")]).status).toBe(0);
  return root;
}

describe("loadHostCalls (statx, open, pread through koffi)", () => {
  const native = loadHostCalls();
  const root = oddTree();
  const names: Array<string | Buffer> = ["file", "old", "hard", "link", "dir", "dir/huge", "fifo"].map(
    (name) => join(root, name),
  );
  names.push(Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0x66, 0xff, 0x6f])]));

  it("lstat gives what Node's lstat gives, for every kind of entry", () => {
    expect(native).toBeDefined();
    if (!native) return;
    for (const name of names)
      expect(comparable(native.lstat(name))).toEqual(comparable(nodeHostCalls.lstat(name)));
    // Hard links share device and inode; another file on the same device has another inode.
    const [file, hard, old] = [
      native.lstat(names[0] as string),
      native.lstat(names[2] as string),
      native.lstat(names[1] as string),
    ];
    expect([hard.dev, hard.ino]).toEqual([file.dev, file.ino]);
    expect(old.dev).toBe(file.dev);
    expect(old.ino).not.toBe(file.ino);
  });

  it("fails with the errno names Node's fs uses", () => {
    if (!native) throw new Error("no native calls");
    for (const [path, code] of [
      [join(root, "missing"), "ENOENT"],
      [join(root, "file", "below"), "ENOTDIR"],
    ] as const) {
      expect(() => native.lstat(path)).toThrow(expect.objectContaining({ code }));
      expect(() => nodeHostCalls.lstat(path)).toThrow(expect.objectContaining({ code }));
      expect(() => native.open(path)).toThrow(expect.objectContaining({ code }));
    }
  });

  it("reads into a view at an offset and fstats the open file like Node", () => {
    if (!native) throw new Error("no native calls");
    const path = join(root, "file");
    const fd = native.open(path);
    try {
      const window = Buffer.alloc(64, 0xee);
      const view = window.subarray(8, 40);
      expect(native.pread(fd, view, 4, 10, 3)).toBe(10);
      expect(window.subarray(12, 22).toString()).toBe("3456789abc");
      expect(window[11]).toBe(0xee);
      expect(window[22]).toBe(0xee);
      expect(native.pread(fd, view, 0, 32, 16)).toBe(0);
      expect(comparable(native.fstat(fd))).toEqual(comparable(nodeHostCalls.lstat(path)));
    } finally {
      native.close(fd);
    }
    expect(readFileSync(path, "utf8")).toBe("0123456789abcdef");
  });

  it("builds the same image bytes as Node's fs calls", async () => {
    const source = join(work, "source");
    mkdirSync(join(source, "a", "b"), { recursive: true });
    for (let i = 0; i < 50; i++)
      writeFileSync(join(source, "a", i % 2 ? "b" : "", `f${i}`), `file ${i}\n`.repeat(i * 40));
    linkSync(join(source, "a", "f0"), join(source, "a", "f0-again"));
    symlinkSync("a/f0", join(source, "top-link"));
    const images: Buffer[] = [];
    for (const hostCalls of [nodeHostCalls, undefined]) {
      const output = join(work, `image-${images.length}`);
      const options = {
        directory: source,
        tars: [],
        output,
        branching: true,
        validate: false,
        allRoot: false,
        exclude: [],
        strict: false,
      };
      await buildToTarget(options, { hostCalls });
      images.push(readFileSync(output));
    }
    expect(images[1]?.equals(images[0] as Buffer)).toBe(true);
  });

  it("finds a sparse file's data extents (SEEK_DATA/SEEK_HOLE), -1 past the last", () => {
    const path = join(work, "holes");
    writeFileSync(path, "");
    truncateSync(path, 8 << 20);
    const fd = openSync(path, "r+");
    try {
      writeSync(fd, Buffer.alloc(4096, 1), 0, 4096, 1 << 20);
      const calls = loadHostCalls();
      if (!calls?.seekData || !calls.seekHole) throw new Error("native host calls without lseek");
      expect(calls.seekData(fd, 0)).toBe(1 << 20);
      expect(calls.seekHole(fd, 1 << 20)).toBe((1 << 20) + 4096);
      expect(calls.seekData(fd, (1 << 20) + 4096)).toBe(-1);
      // Past the end: no data, and the hole found is where the search began (the caller reads on).
      expect(calls.seekHole(fd, 9 << 20)).toBe(9 << 20);
    } finally {
      closeSync(fd);
    }
  });
});
