import { lstatSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyFileContent } from "./content.js";
import { mtimeMsOf } from "./host-calls.js";
import { scanDirectory, storedMtime } from "./scan.js";
import { MemorySink } from "./sink.js";
import type { BuildFile } from "./tree.js";
import { isHostContent } from "./tree.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-scan-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("scanDirectory's one lstat per entry", () => {
  it("mtimeMsOf gives Stats#mtimeMs exactly, also before the epoch and with odd nanoseconds", () => {
    const file = join(work, "times");
    writeFileSync(file, "x");
    // Seconds as numbers (utimes takes them with a fraction): ns fractions, the epoch, before it.
    for (const seconds of [1_700_000_000.123457, 1, 0, -1.25, -86_400.000001, 2_000_000_000.999999]) {
      utimesSync(file, seconds, seconds);
      const ns = lstatSync(file, { bigint: true }).mtimeNs;
      expect(mtimeMsOf(ns)).toBe(lstatSync(file).mtimeMs);
    }
  });

  it("records the stored time in ns and the identity the copy checks against", () => {
    const root = join(work, "tree");
    mkdirSync(root);
    const file = join(root, "f");
    writeFileSync(file, "hello");
    utimesSync(file, 1_600_000_000.5, 1_600_000_000.5);
    const tree = scanDirectory(root);
    const node = tree.children.get("f") as BuildFile;
    const stat = lstatSync(file, { bigint: true });
    expect(node.mtime).toBe(stat.mtimeNs);
    expect(node.size).toBe(5);
    expect(node.uid).toBe(Number(stat.uid));
    expect(node.mode).toBe(Number(stat.mode));
    if (!isHostContent(node.content)) throw new Error("expected host content");
    expect(node.content.scanned).toEqual({
      ino: Number(stat.ino),
      size: 5,
      mtimeMs: lstatSync(file).mtimeMs,
    });
    // Unchanged: the copy passes its check. Same size, another mtime: the copy fails.
    copyFileContent(node, new MemorySink(new Uint8Array(5)), 0, file);
    utimesSync(file, 1_600_000_001, 1_600_000_001);
    expect(() => copyFileContent(node, new MemorySink(new Uint8Array(5)), 0, file)).toThrow(
      `${file}: file changed while being copied`,
    );
  });
});

describe("storedMtime", () => {
  it("stores times before 1970 as 0 and after 2262 as S64_MAX ns, never wrapped around 64 bits", () => {
    const max = (1n << 63n) - 1n;
    expect(storedMtime(-1n, {})).toBe(0n);
    expect(storedMtime(max, {})).toBe(max);
    expect(storedMtime(max + 1n, {})).toBe(max);
    // A year-4147 time (2^37 s) in ns is past 2^64: it must not come back as some other date.
    expect(storedMtime(2n ** 37n * 1_000_000_000n, {})).toBe(max);
    expect(storedMtime(2n ** 70n, { clampTime: 5n })).toBe(5n);
    expect(storedMtime(2n ** 70n, { zeroTimes: true })).toBe(0n);
  });
});
