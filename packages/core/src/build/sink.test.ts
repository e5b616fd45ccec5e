import {
  closeSync,
  existsSync,
  ftruncateSync,
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
import { copyFileContent } from "./content.js";
import { type HostCalls, nodeHostCalls } from "./host-calls.js";
import { planImage } from "./plan.js";
import { type CopyFileRange, FileSink, ImageWriteError, MemorySink } from "./sink.js";
import { type BuildDir, type BuildFile, type FileContent, makeDir } from "./tree.js";
import {
  buildImage,
  buildSplitImage,
  replaceFileAtomically,
  writeImageFile,
  writeImageToMemory,
} from "./write.js";

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

/** Bytes of disk the file takes (st_blocks counts 512-byte units actually allocated). */
const allocated = (path: string) => statSync(path).blocks * 512;

/** A 64 MiB sparse host file around three data pieces, and 8 MiB of zero data. */
const PIECES: Array<[number, Buffer]> = [
  [0, Buffer.alloc(100, 7)],
  [20 << 20, Buffer.alloc(70_000, 8)],
  [(64 << 20) - 3, Buffer.from([1, 2, 3])],
];

/** The sparse files as a host tree, and the same bytes as an in-memory tree (the full build). */
function holeyTrees(): { pieces: typeof PIECES; host: BuildDir; memory: BuildDir } {
  const path = join(scratch, "holey");
  const fd = openSync(path, "w");
  for (const [at, bytes] of PIECES) writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
  const expected = Buffer.alloc(64 << 20);
  for (const [at, bytes] of PIECES) bytes.copy(expected, at);
  const file = (content: FileContent, size: number): BuildFile => ({
    kind: "file",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size,
    content,
  });
  const host = makeDir();
  host.children.set("holey", file({ kind: "host", path, offset: 0 }, 64 << 20));
  host.children.set("zeros", file(new Uint8Array(8 << 20), 8 << 20));
  const memory = makeDir();
  memory.children.set("holey", file(new Uint8Array(expected), 64 << 20));
  memory.children.set("zeros", file(new Uint8Array(8 << 20), 8 << 20));
  return { pieces: PIECES, host, memory };
}

describe("a sparse file sink (mkdaxfs --sparse)", () => {
  it("skips the blocks of zeros it is given, at image offsets, whatever the window's alignment", () => {
    // Slices at offsets that are not block multiples, through a window that is not one either:
    // a few data bytes in 1 MiB of zeros.
    const slices: Array<[number, number]> = [
      [10, 5000],
      [5000 + 10, 300_000],
      [400_003, 12_289],
      [500_000, 548_576],
    ];
    const data = new Map([
      [10, 1],
      [4095, 2],
      [300_000, 3],
      [412_290, 4],
      [1_048_575, 5],
    ]);
    const path = join(scratch, "sparse-window");
    const fd = openSync(path, "w");
    const memory = new Uint8Array(1 << 20);
    try {
      const sink = new FileSink(fd, { windowBytes: 3 * 4096 + 100, sparse: true });
      const mirror = new MemorySink(memory);
      for (const [offset, length] of slices) {
        for (let done = 0; done < length; ) {
          const n = Math.min(sink.maxSlice, length - done);
          // A view holds the window's earlier bytes: the caller fills all of it, zeros included.
          const view = sink.slice(offset + done, n).fill(0);
          for (const target of [view, mirror.slice(offset + done, n)])
            for (const [at, value] of data)
              if (at >= offset + done && at < offset + done + n) target[at - offset - done] = value;
          done += n;
        }
      }
      sink.flush();
      ftruncateSync(fd, memory.length);
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(path).equals(Buffer.from(memory))).toBe(true);
    // The data bytes lie in 4 blocks (0, 73, 100, 255); a full write would take 256.
    expect(allocated(path)).toBeLessThanOrEqual(4 * 4096);
  });

  it("writes the same image bytes as a full build, holes and zero data left out, no in-kernel copy", () => {
    const { pieces, host, memory } = holeyTrees();
    const noCopy: CopyFileRange = () => {
      throw new Error("an in-kernel copy would write the holes");
    };

    // Node's fs finds no holes: the zeros are read, and left out as they are seen.
    const image = join(scratch, "sparse.img");
    writeImageFile(planImage(host), image, { copyFileRange: noCopy, sparse: true });
    const full = Buffer.from(buildImage(memory));
    expect(readFileSync(image).equals(full)).toBe(true);
    expect(allocated(image)).toBeLessThan(1 << 20);

    // A host that offers SEEK_DATA/SEEK_HOLE: the holes are not even read.
    const extents = pieces.map(([at, bytes]) => [at - (at % 4096), at + bytes.length] as const);
    const reads: Array<[number, number]> = [];
    const seeking: HostCalls = {
      ...nodeHostCalls,
      pread: (fd, into, offset, length, position) => {
        reads.push([position, position + length]);
        return nodeHostCalls.pread(fd, into, offset, length, position);
      },
      seekData: (_fd, from) => {
        const next = extents.find(([, end]) => end > from);
        return next === undefined ? -1 : Math.max(from, next[0]);
      },
      seekHole: (_fd, from) => extents.find(([start, end]) => start <= from && from < end)?.[1] ?? from,
    };
    const seeked = join(scratch, "seeked.img");
    writeImageFile(planImage(host), seeked, { copyFileRange: noCopy, sparse: true, hostCalls: seeking });
    expect(readFileSync(seeked).equals(full)).toBe(true);
    expect(allocated(seeked)).toBeLessThan(1 << 20);
    for (const [from, to] of reads)
      expect(extents.some(([start, end]) => start <= from && to <= end)).toBe(true);
    expect(reads.reduce((sum, [from, to]) => sum + to - from, 0)).toBeLessThan(1 << 20);
  });

  it("split mode: the backing file keeps its holes too, with the same bytes", () => {
    const { host, memory } = holeyTrees();
    const plan = planImage(host, { branching: true, deltaSize: 1 << 20, split: {} });
    const backingPath = join(scratch, "backing");
    writeImageToMemory(plan, new Uint8Array(plan.totalSize), { backingPath, sparse: true });
    const full = buildSplitImage(memory, { branching: true, deltaSize: 1 << 20, split: {} });
    expect(readFileSync(backingPath).equals(Buffer.from(full.backing))).toBe(true);
    expect(allocated(backingPath)).toBeLessThan(1 << 20);
  });

  it("a full build of the same tree allocates the zeros (the default is unchanged)", () => {
    const root = makeDir();
    root.children.set("zeros", {
      kind: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 4 << 20,
      content: new Uint8Array(4 << 20),
    });
    const image = join(scratch, "zeros-full.img");
    writeImageFile(planImage(root), image);
    expect(allocated(image)).toBeGreaterThanOrEqual(4 << 20);
  });
});
