import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileImage, type ImageSource, MemoryImage } from "../image-source.js";
import {
  COORD_EPOCH_OFFSET,
  COORD_LOCK_OFFSET,
  COORD_OWNER_BOOT_OFFSET,
  COORD_OWNER_PID_OFFSET,
  COORD_OWNER_START_OFFSET,
  CoordinationLock,
  localBootId,
  processStartTime,
} from "./coord-lock.js";
import { branchContext, createBranch } from "./lifecycle.js";
import { readU32, writeU32, writeU64 } from "./records.js";
import { makeBranchingImage } from "./test-fixture.js";

function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(child.stdout);
}

function pretendHeld(source: MemoryImage, pid: number, start: number): void {
  writeU32(source, COORD_LOCK_OFFSET, 1);
  writeU32(source, COORD_OWNER_PID_OFFSET, pid);
  writeU64(source, COORD_OWNER_START_OFFSET, start);
  writeU32(source, COORD_OWNER_BOOT_OFFSET, localBootId());
}

describe("MemoryImage.compareExchange32", () => {
  it("swaps only on a match and returns the value found", () => {
    const source = new MemoryImage(new Uint8Array(16));
    expect(source.compareExchange32(4, 0, 0xffff_fffe)).toBe(0);
    expect(source.compareExchange32(4, 0, 1)).toBe(0xffff_fffe);
    expect(readU32(source, 4)).toBe(0xffff_fffe);
    expect(() => source.compareExchange32(2, 0, 1)).toThrow(/unaligned/);
    expect(() => new MemoryImage(new Uint8Array(8), false).compareExchange32(0, 0, 1)).toThrow(/read-only/);
  });
});

describe("CoordinationLock", () => {
  it("takes the word 0 -> 1, records the owner, and releases to 0; re-entrant", () => {
    const source = new MemoryImage(makeBranchingImage());
    const lock = new CoordinationLock(source);
    lock.withLock(() => {
      expect(readU32(source, COORD_LOCK_OFFSET)).toBe(1);
      expect(readU32(source, COORD_OWNER_PID_OFFSET)).toBe(process.pid);
      lock.withLock(() => expect(lock.held).toBe(true));
      expect(readU32(source, COORD_LOCK_OFFSET)).toBe(1);
    });
    expect(readU32(source, COORD_LOCK_OFFSET)).toBe(0);
    expect(readU32(source, COORD_OWNER_PID_OFFSET)).toBe(0);
    expect(readU32(source, COORD_EPOCH_OFFSET)).toBe(1);
  });

  it("takes over from a holder process that died", () => {
    const source = new MemoryImage(makeBranchingImage());
    pretendHeld(source, deadPid(), 12345);
    const lock = new CoordinationLock(source, { timeoutMs: 2000 });
    lock.withLock(() => expect(readU32(source, COORD_OWNER_PID_OFFSET)).toBe(process.pid));
    expect(readU32(source, COORD_LOCK_OFFSET)).toBe(0);
  });

  it("waits for a live holder and gives up with EBUSY", () => {
    const source = new MemoryImage(makeBranchingImage());
    pretendHeld(source, process.ppid, processStartTime(process.ppid));
    const lock = new CoordinationLock(source, { timeoutMs: 150, staleAfterMs: 10_000 });
    expect(() => lock.acquire()).toThrow(expect.objectContaining({ code: "EBUSY" }));
    expect(readU32(source, COORD_LOCK_OFFSET)).toBe(1);
  });

  it("breaks a holder it cannot check (another kernel, no owner) once the epoch stays put", () => {
    const source = new MemoryImage(makeBranchingImage());
    writeU32(source, COORD_LOCK_OFFSET, 1); // e.g. the public module, which records no owner
    const lock = new CoordinationLock(source, { staleAfterMs: 50, timeoutMs: 5000 });
    lock.withLock(() => expect(readU32(source, COORD_EPOCH_OFFSET)).toBe(1));
    expect(readU32(source, COORD_LOCK_OFFSET)).toBe(0);
  });

  it("works on a plain file through the lock-file fallback and leaves no lock file", () => {
    const dir = mkdtempSync(join(tmpdir(), "daxfs-lock-"));
    try {
      const path = join(dir, "image");
      writeFileSync(path, makeBranchingImage({ deltaSize: 4 * 1024 * 1024 }));
      const source = FileImage.open(path, { writable: true });
      expect((source as ImageSource).compareExchange32).toBeUndefined();
      const child = createBranch(branchContext(source), "dev", "main");
      expect(child.id).toBe(2);
      expect(readU32(source, COORD_LOCK_OFFSET)).toBe(0);
      expect(existsSync(`${path}.coord-lock`)).toBe(false);
      // A lock file left by a dead process is removed.
      writeFileSync(`${path}.coord-lock`, `${deadPid()}\n`);
      expect(createBranch(branchContext(source), "dev2", "main").id).toBe(3);
      source.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
