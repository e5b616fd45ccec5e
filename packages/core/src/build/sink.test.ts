import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { copyFileContent } from "./content.js";
import { planImage } from "./plan.js";
import { type CopyFileRange, FileSink, ImageWriteError } from "./sink.js";
import { type BuildDir, makeDir } from "./tree.js";
import { buildImage, replaceFileAtomically, writeImageFile } from "./write.js";

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

// /dev/full fails every write with ENOSPC: a full file system under the image, without mounting one.
describe("a full file system under the image", () => {
  it("is the image's error, not the source file's, while a host file is copied", () => {
    const { root } = treeWithHostFile(Buffer.alloc(64 << 10, 9));
    const file = root.children.get("big");
    if (file?.kind !== "file") throw new Error("fixture");
    const full = openSync("/dev/full", "w");
    try {
      const sink = new FileSink(full, { windowBytes: 4096 });
      expect(() => copyFileContent(file, sink, 0, "big")).toThrow(ImageWriteError);
    } finally {
      closeSync(full);
    }
  });

  it("names the image being written: PATH: no space left on device, and leaves nothing", () => {
    const image = join(scratch, "full.img");
    const fill = () => {
      const full = openSync("/dev/full", "w");
      try {
        const sink = new FileSink(full);
        sink.slice(0, 4096).fill(1);
        sink.flush();
      } finally {
        closeSync(full);
      }
    };
    expect(() => replaceFileAtomically(image, 4096, fill)).toThrow(`${image}: no space left on device`);
    expect(existsSync(image)).toBe(false);
  });

  it("copy_file_range's ENOSPC is the image's too", () => {
    const { root } = treeWithHostFile(Buffer.alloc(512 << 10, 3));
    const enospc: CopyFileRange = () => {
      throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    };
    expect(() =>
      writeImageFile(planImage(root), join(scratch, "cfr.img"), { copyFileRange: enospc }),
    ).toThrow(`${join(scratch, "cfr.img")}: no space left on device`);
  });
});
