import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadCopyFileRange } from "./copy-range.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function bytes(size: number): Buffer {
  const out = Buffer.alloc(size);
  let x = 12345;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe("loadCopyFileRange", () => {
  const copy = loadCopyFileRange();

  it("copies a range across pipe-size boundaries to an unaligned offset, and stops at the source's end", () => {
    expect(copy).toBeDefined();
    if (!copy) return;
    const dir = mkdtempSync(join(tmpdir(), "copy-range-"));
    dirs.push(dir);
    const data = bytes(3 * (1 << 20) + 12345);
    writeFileSync(join(dir, "in"), data);
    const inFd = openSync(join(dir, "in"), "r");
    const outFd = openSync(join(dir, "out"), "w");
    try {
      const head = Buffer.from("header");
      writeFileSync(outFd, head);
      // From source offset 100 to destination 16384 + 7, more than the rest of the source.
      expect(copy(inFd, 100, outFd, 16391, data.length)).toBe(data.length - 100);
      expect(copy(inFd, data.length, outFd, 16391 + data.length, 10)).toBe(0);
    } finally {
      closeSync(inFd);
      closeSync(outFd);
    }
    const out = readFileSync(join(dir, "out"));
    expect(out.length).toBe(16391 + data.length - 100);
    expect(out.subarray(0, 6).toString()).toBe("header");
    expect(out.subarray(6, 16391).every((b) => b === 0)).toBe(true);
    expect(out.subarray(16391).equals(data.subarray(100))).toBe(true);
  });

  it("reports a bad descriptor with its errno code", () => {
    expect(() => copy?.(-1, 0, -1, 0, 4096)).toThrow(expect.objectContaining({ code: "EBADF" }));
  });
});
