import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SyscallError } from "./errors.js";
import { MAX_VIEW_BYTES, mapFd, mapFile } from "./mmap.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "daxfs-mmap-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runChild(script: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("error", reject);
    child.on("exit", resolve);
  });
}

describe("mapFile", () => {
  it("gives two mappings of one file that see each other's writes, and writes reach the file", () => {
    const path = join(dir, "img");
    writeFileSync(path, new Uint8Array(8192));
    const a = mapFile(path, { writable: true });
    const b = mapFile(path, { writable: true });
    try {
      expect(a.size).toBe(8192);
      expect(a.bytes.byteOffset === b.bytes.byteOffset && a.bytes.buffer === b.bytes.buffer).toBe(false);
      a.bytes[5000] = 0xab;
      expect(b.bytes[5000]).toBe(0xab);
      b.bytes.set([1, 2, 3], 10);
      expect(Array.from(a.bytes.subarray(10, 13))).toEqual([1, 2, 3]);
      a.flush();
      const onDisk = readFileSync(path);
      expect(onDisk[5000]).toBe(0xab);
      expect(onDisk[11]).toBe(2);
    } finally {
      a.close();
      b.close();
    }
  });

  it("makes Atomics.compareExchange act on the shared memory of both mappings", () => {
    const path = join(dir, "img");
    writeFileSync(path, new Uint8Array(4096));
    const a = mapFile(path, { writable: true });
    const b = mapFile(path, { writable: true });
    try {
      const lockA = new Int32Array(a.bytes.buffer, a.bytes.byteOffset + 96 + 16, 1);
      const lockB = new Int32Array(b.bytes.buffer, b.bytes.byteOffset + 96 + 16, 1);
      expect(Atomics.compareExchange(lockA, 0, 0, 1)).toBe(0); // taken through a
      expect(Atomics.compareExchange(lockB, 0, 0, 1)).toBe(1); // b sees it held
      Atomics.store(lockB, 0, 0); // released through b
      expect(Atomics.compareExchange(lockA, 0, 0, 1)).toBe(0);
      const seq = new BigInt64Array(b.bytes.buffer, b.bytes.byteOffset + 96, 1);
      Atomics.add(seq, 0, 7n);
      expect(new BigInt64Array(a.bytes.buffer, a.bytes.byteOffset + 96, 1)[0]).toBe(7n);
    } finally {
      a.close();
      b.close();
    }
  });

  it("keeps a counter exact when two processes increment it with compareExchange loops", async () => {
    const path = join(dir, "counter");
    writeFileSync(path, new Uint8Array(4096));
    const script = fileURLToPath(new URL("./fixtures/cas-counter.ts", import.meta.url));
    const perChild = 200_000;
    const codes = await Promise.all([
      runChild(script, [path, String(perChild)]),
      runChild(script, [path, String(perChild)]),
    ]);
    expect(codes).toEqual([0, 0]);
    expect(new DataView(readFileSync(path).buffer).getInt32(0, true)).toBe(2 * perChild);
  });

  it("maps read-only when asked, and a missing file is a SyscallError naming it", () => {
    const path = join(dir, "img");
    writeFileSync(path, Uint8Array.from([9, 8, 7]));
    const ro = mapFile(path, { writable: false });
    expect(Array.from(ro.bytes)).toEqual([9, 8, 7]);
    expect(ro.writable).toBe(false);
    ro.close();
    ro.close(); // idempotent

    const missing = join(dir, "nope");
    const err = (() => {
      try {
        mapFile(missing, { writable: false });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SyscallError);
    expect(err).toMatchObject({ code: "ENOENT", errno: 2, syscall: "open", path: missing });
    expect((err as Error).message).toContain(missing);
  });

  it("returns an empty view for an empty file and refuses views beyond 4 GiB", () => {
    const path = join(dir, "empty");
    writeFileSync(path, new Uint8Array(0));
    expect(mapFile(path, { writable: false }).bytes.length).toBe(0);
    expect(() => mapFile(path, { writable: false, size: MAX_VIEW_BYTES + 4096 })).toThrow(/EFBIG/);
  });
});

describe("mapFd", () => {
  it("maps a window at an unaligned offset", () => {
    const path = join(dir, "img");
    const content = new Uint8Array(3 * 4096).map((_, i) => i % 251);
    writeFileSync(path, content);
    const fd = openSync(path, "r+");
    try {
      const m = mapFd(fd, 100, { writable: true, offset: 4096 + 10 });
      expect(m.bytes.length).toBe(100);
      expect(Array.from(m.bytes.subarray(0, 4))).toEqual(Array.from(content.subarray(4106, 4110)));
      m.bytes[0] = 0;
      m.close();
      expect(readFileSync(path)[4106]).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it("reports a bad descriptor as EBADF from mmap", () => {
    expect(() => mapFd(-1, 4096, { writable: false })).toThrow(
      expect.objectContaining({ code: "EBADF", syscall: "mmap" }),
    );
  });
});
