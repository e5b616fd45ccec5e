import { mkdtempSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { planImage } from "./plan.js";
import type { CopyFileRange } from "./sink.js";
import { type BuildDir, makeDir } from "./tree.js";
import { buildImage, writeImageFile } from "./write.js";

const scratch = mkdtempSync(join(tmpdir(), "daxfs-sink-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function treeWithHostFile(bytes: Buffer): { root: BuildDir; memory: BuildDir } {
  const path = join(scratch, `host-${bytes.length}`);
  writeFileSync(path, Buffer.concat([Buffer.from("prefix"), bytes]));
  const root = makeDir();
  root.children.set("big", {
    kind: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: bytes.length,
    content: { kind: "host", path, offset: 6 },
  });
  const memory = makeDir();
  memory.children.set("big", {
    kind: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: bytes.length,
    content: new Uint8Array(bytes),
  });
  return { root, memory };
}

describe("in-kernel copies of large host files", () => {
  const bytes = Buffer.from(Buffer.alloc(700_000).map((_, i) => (i * 7) % 256));

  it("use the provided copy_file_range at the right offsets", () => {
    const { root, memory } = treeWithHostFile(bytes);
    const calls: number[][] = [];
    // A stand-in copier: positioned read + write, in short pieces, recording its arguments.
    const copier: CopyFileRange = (inFd, inOffset, outFd, outOffset, length) => {
      calls.push([inOffset, outOffset, length]);
      const n = Math.min(length, 100_000);
      const chunk = Buffer.alloc(n);
      const got = readSync(inFd, chunk, 0, n, inOffset);
      writeSync(outFd, chunk, 0, got, outOffset);
      return got;
    };
    const path = join(scratch, "img-cfr");
    writeImageFile(planImage(root), path, { copyFileRange: copier });
    expect(calls.length).toBe(7);
    expect(calls[0]?.[0]).toBe(6);
    expect(readFileSync(path).equals(Buffer.from(buildImage(memory)))).toBe(true);
  });

  it("fall back to reads and writes when the copier is unsupported (EXDEV)", () => {
    const { root, memory } = treeWithHostFile(bytes);
    let calls = 0;
    const copier: CopyFileRange = () => {
      calls++;
      throw Object.assign(new Error("copy_file_range: EXDEV"), { code: "EXDEV" });
    };
    const path = join(scratch, "img-fallback");
    writeImageFile(planImage(root), path, { copyFileRange: copier });
    expect(calls).toBe(1);
    expect(readFileSync(path).equals(Buffer.from(buildImage(memory)))).toBe(true);
  });
});
