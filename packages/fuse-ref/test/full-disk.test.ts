// A branching image whose file system fills up: the writer gets ENOSPC and the daemon lives on
// (allocating-image.ts). Without it, a store into a hole of the shared mapping is a SIGBUS that
// kills daxfs-fuse (and, in the unit test below, this test process). Needs root for tmpfs.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaxfsError, FileImage, MemoryImage, validate } from "@daxfs/core";
import { mapFile } from "@daxfs/linux";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AllocatingImage } from "../src/allocating-image.js";
import type { BranchFs } from "../src/branch-fs.js";
import { fuseOperations } from "../src/fuse-ops.js";
import { dir, errno, FuseHarness, file, type RunningMount } from "../src/testing/index.js";

const canMount = process.getuid?.() === 0 && existsSync("/dev/fuse");

describe("fuse-ops error mapping", () => {
  /** The status a write replies with when BranchFs.write throws `error`. */
  function replyTo(error: Error): { code: number; logged: string[] } {
    const logged: string[] = [];
    const fs = {
      write: () => {
        throw error;
      },
    } as unknown as BranchFs;
    let code = 0;
    fuseOperations(fs, (m) => logged.push(m)).write("/f", 3, Buffer.from("x"), 1, 0, (status: number) => {
      code = status;
    });
    return { code, logged };
  }
  const systemError = (code: string) => Object.assign(new Error(code), { code, syscall: "write" });

  it("a full file system under the plain-file mode is ENOSPC for the writer, not an internal error", () => {
    expect(replyTo(systemError("ENOSPC"))).toEqual({ code: -28, logged: [] });
    expect(replyTo(new DaxfsError("ENOSPC", "img: cannot allocate")).code).toBe(-28);
  });

  it("other failures stay EIO and are logged as bugs", () => {
    const { code, logged } = replyTo(systemError("EBADF"));
    expect(code).toBe(-5);
    expect(logged[0]).toMatch(/^daxfs-fuse: internal error/);
  });
});

describe.runIf(canMount)("a full file system under a writable image", () => {
  const harness = new FuseHarness();
  // Made when the tests run, not when they are collected (a filtered run made none).
  let small = "";
  beforeAll(() => {
    small = mkdtempSync(join(tmpdir(), "daxfs-full-"));
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small]);
    if (mounted.status !== 0) throw new Error(`mount tmpfs: ${mounted.stderr}`);
  });
  afterAll(async () => {
    await harness.cleanup();
    spawnSync("umount", [small]);
    rmSync(small, { recursive: true, force: true });
  });

  it("AllocatingImage turns a write the file system cannot hold into ENOSPC", () => {
    const path = join(small, "sparse");
    const fd = openSync(path, "w+");
    writeFileSync(path, Buffer.alloc(0));
    spawnSync("truncate", ["-s", "4M", path]);
    const mapping = mapFile(path, { writable: true });
    const image = new AllocatingImage(new MemoryImage(mapping.bytes, true, path), fd);
    const block = Buffer.alloc(64 * 1024, 0x5a);
    let written = 0;
    let failure: unknown = null;
    try {
      for (; written + block.length <= image.size; written += block.length) image.write(written, block);
    } catch (error) {
      failure = error;
    } finally {
      image.close();
      mapping.close();
      closeSync(fd);
      rmSync(path);
    }
    expect(failure).toBeInstanceOf(DaxfsError);
    expect((failure as DaxfsError).code).toBe("ENOSPC");
    // Words, not "(ENOSPC)": daxfs-branch adds the code after a message from the control socket.
    expect((failure as DaxfsError).message).toMatch(
      /^\S+sparse: cannot allocate \d+ bytes at \d+ of the image: no space left on device$/,
    );
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThanOrEqual(1 << 20);
  });

  it("daxfs-fuse serves a sparse image on a full file system: ENOSPC for the writer, the mount lives", async () => {
    const built = harness.image(dir({ a: file("hi\n") }), 8 << 20);
    const image = join(small, "image.daxfs");
    // Holes where the image is zero, as `mkdaxfs --sparse` or another tool leaves them.
    const copied = spawnSync("cp", ["--sparse=always", built, image]);
    expect(copied.status).toBe(0);
    const mount = await harness.mount(image, ["--branch", "w", "--parent", "main"]);
    expect(mount.output()).toMatch(/the image is sparse and cannot be allocated whole/);
    expect(errno(() => writeFileSync(join(mount.mountpoint, "big"), Buffer.alloc(2 << 20, 1)))).toBe(
      "ENOSPC",
    );
    expect(mount.process.exitCode).toBeNull();
    expect(mount.process.signalCode).toBeNull();
    expect(readdirSync(mount.mountpoint)).toContain("a");
  });
});

/**
 * Repeats `op(i)` until it fails (at most `tries` times) and returns the errno it failed with, or
 * "no error". Small entries fit in log pages already allocated, so one call alone may well succeed.
 */
function firstFailure(op: (i: number) => unknown, tries = 3000): string {
  for (let i = 0; i < tries; i++) {
    const code = errno(() => op(i));
    if (code !== "no error") return code;
  }
  return "no error";
}

/** The image validates (and is closed again: an open file keeps the tmpfs from unmounting). */
function expectValid(image: string): void {
  const source = FileImage.open(image);
  try {
    expect(validate(source).problems).toEqual([]);
  } finally {
    source.close();
  }
}

/** What the writes of expectEveryWriteRefused start from, made while there is room. */
function prepareBranch(mount: RunningMount): void {
  writeFileSync(join(mount.mountpoint, "moved-0"), "m");
  writeFileSync(join(mount.mountpoint, "mapped"), "");
  truncateSync(join(mount.mountpoint, "mapped"), 1 << 20);
}

/** Every kind of write into a branch whose space ran out fails for the writer alone: ENOSPC. */
function expectEveryWriteRefused(mount: RunningMount): void {
  const at = (name: string) => join(mount.mountpoint, name);
  const failures = {
    write: errno(() => writeFileSync(at("big"), Buffer.alloc(2 << 20, 1))),
    create: firstFailure((i) => closeSync(openSync(at(`new-${i}`), "w"))),
    mkdir: firstFailure((i) => mkdirSync(at(`dir-${i}`))),
    "truncate up": firstFailure((i) => truncateSync(at("a"), (i + 1) << 20)),
    rename: firstFailure((i) => renameSync(at(`moved-${i}`), at(`moved-${i + 1}`))),
    symlink: firstFailure((i) => symlinkSync("a", at(`link-${i}`))),
    "hard link": firstFailure((i) => linkSync(at("a"), at(`hard-${i}`))),
    // Stores into a shared mapping of a file in the mount reach daxfs-fuse at msync.
    "mmap store": errno(() => {
      const mapping = mapFile(at("mapped"), { writable: true });
      try {
        mapping.bytes.fill(7);
        mapping.flush();
      } finally {
        mapping.close();
      }
    }),
  };
  // ENOSPC, not EIO: the writer learns why (a mapping's stores fail at msync).
  expect(failures).toEqual(Object.fromEntries(Object.keys(failures).map((kind) => [kind, "ENOSPC"])));
  expect(mount.process.exitCode).toBeNull();
  expect(mount.process.signalCode).toBeNull();
  // Reads go on.
  expect(readFileSync(at("a"), "utf8").slice(0, 3)).toBe("hi\n");
  expect(readdirSync(mount.mountpoint)).toContain("mapped");
}

describe.runIf(canMount)(
  "a branch whose space runs out: every writer is refused, nothing else breaks",
  () => {
    const harness = new FuseHarness();
    // Made when the tests run, not when they are collected (a filtered run made none).
    let small = "";
    beforeAll(() => {
      small = mkdtempSync(join(tmpdir(), "daxfs-full-"));
      const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", small]);
      if (mounted.status !== 0) throw new Error(`mount tmpfs: ${mounted.stderr}`);
    });
    afterAll(async () => {
      await harness.cleanup();
      spawnSync("umount", [small]);
      rmSync(small, { recursive: true, force: true });
    });

    it("the host file system: ENOSPC for each kind of write, and writes again once space is freed", async () => {
      const image = join(small, "image.daxfs");
      expect(
        spawnSync("cp", ["--sparse=always", harness.image(dir({ a: file("hi\n") })), image]).status,
      ).toBe(0);
      const mount = await harness.mount(image, ["--branch", "w", "--parent", "main"]);
      prepareBranch(mount);
      // Whatever room is left goes to a file beside the image.
      const filler = join(small, "filler");
      const fd = openSync(filler, "w");
      try {
        for (;;) writeSync(fd, Buffer.alloc(64 << 10));
      } catch (error) {
        expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
      } finally {
        closeSync(fd);
      }
      expectEveryWriteRefused(mount);
      rmSync(filler);
      writeFileSync(join(mount.mountpoint, "again"), Buffer.alloc(64 << 10, 2));
      expect(readFileSync(join(mount.mountpoint, "again")).equals(Buffer.alloc(64 << 10, 2))).toBe(true);
      expect(await mount.stop()).toBe(0);
      expectValid(image);
    });

    it("the image's own delta region: ENOSPC for each kind of write, the daemon lives", async () => {
      // 2 MiB of delta region: main's 1 MiB log, and what is left for the branch.
      const image = harness.image(dir({ a: file("hi\n") }), 2 << 20);
      const mount = await harness.mount(image, ["--branch", "w", "--parent", "main"]);
      prepareBranch(mount);
      expectEveryWriteRefused(mount);
      expect(await mount.stop()).toBe(0);
      expectValid(image);
    });
  },
);
