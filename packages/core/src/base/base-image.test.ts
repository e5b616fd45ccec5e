import {
  DAXFS_BRANCHING_BASE_OFFSET,
  DAXFS_DIRENT_STRIDE,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsDirent,
  FileType,
} from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { CorruptImageError, DaxfsError } from "../errors.js";
import { MemoryImage } from "../image-source.js";
import { buildTestImage, testDir, testFile, testSymlink } from "../testing/index.js";
import { BaseImage } from "./base-image.js";

const shared = testFile("linked content");
const tree = testDir({
  "hello.txt": testFile("hello world\n", { uid: 1000, gid: 100 }),
  sub: testDir({ "nested.txt": testFile("nested"), deeper: testDir() }),
  link: testSymlink("hello.txt"),
  a: shared,
  b: shared,
  empty: testFile(""),
});

function open(
  image = buildTestImage(tree, { zeroSlots: 2 }),
  backing?: Uint8Array,
): { base: BaseImage; inodes: Map<string, number>; bytes: Uint8Array } {
  const base = new BaseImage(
    new MemoryImage(image.bytes),
    DAXFS_BRANCHING_BASE_OFFSET,
    image.bytes.length - DAXFS_BRANCHING_BASE_OFFSET,
    backing ? new MemoryImage(backing) : undefined,
  );
  return { base, inodes: image.inodes, bytes: image.bytes };
}

function inodeAt(_bytes: Uint8Array, ino: number): number {
  return DAXFS_BRANCHING_BASE_OFFSET + 4096 + (ino - 1) * DaxfsBaseInode.size;
}

describe("BaseImage", () => {
  it("reads the superblock, inodes and zero slots", () => {
    const { base, inodes } = open();
    expect(base.inodeCount).toBe(inodes.size - 1 + 2); // a and b share one inode; two zero slots
    expect(base.readInode(1)).toMatchObject({ ino: 1, mode: FileType.DIR | 0o755, nlink: 3 });
    expect(base.readInode(inodes.get("/hello.txt") as number)).toMatchObject({
      size: 12,
      uid: 1000,
      gid: 100,
      nlink: 1,
    });
    expect(base.readInode(base.inodeCount)).toBeNull();
    expect(base.readInode(base.inodeCount + 1)).toBeNull();
    expect(base.readInode(0)).toBeNull();
  });

  it("reads directories with the 272-byte stride and size / 271 entries", () => {
    const { base, inodes } = open();
    expect(base.readInode(1)?.size).toBe(6 * 271);
    expect(base.readDirents(1).map((e) => e.name)).toEqual(["a", "b", "empty", "hello.txt", "link", "sub"]);
    expect(base.readDirents(inodes.get("/sub/deeper") as number)).toEqual([]);
    expect(base.lookup(inodes.get("/sub") as number, "nested.txt")?.ino).toBe(inodes.get("/sub/nested.txt"));
    expect(() => base.readDirents(inodes.get("/hello.txt") as number)).toThrow(
      expect.objectContaining({ code: "ENOTDIR" }),
    );
  });

  it("reads hard-linked files through one inode, symlinks and file data", () => {
    const { base, inodes } = open();
    expect(inodes.get("/a")).toBe(inodes.get("/b"));
    expect(base.readInode(inodes.get("/a") as number)?.nlink).toBe(2);
    expect(base.readSymlink(inodes.get("/link") as number)).toBe("hello.txt");
    const hello = inodes.get("/hello.txt") as number;
    expect(new TextDecoder().decode(base.readFile(hello, 0, 100))).toBe("hello world\n");
    expect(new TextDecoder().decode(base.readFile(hello, 6, 3))).toBe("wor");
    expect(base.readFile(hello, 50, 3)).toHaveLength(0);
    expect(base.readFile(inodes.get("/empty") as number, 0, 10)).toHaveLength(0);
  });

  it("reads regular-file data of a split image from the backing file only", () => {
    const image = buildTestImage(tree, { split: true });
    const { base, inodes } = open(image, image.backing);
    expect(new TextDecoder().decode(base.readFile(inodes.get("/sub/nested.txt") as number, 0, 6))).toBe(
      "nested",
    );
    expect(base.readSymlink(inodes.get("/link") as number)).toBe("hello.txt");
    const without = open(image).base;
    expect(() => without.readFile(inodes.get("/sub/nested.txt") as number, 0, 6)).toThrow(
      expect.objectContaining({ code: "EIO" }),
    );
    const truncated = open(image, image.backing?.subarray(0, 10)).base;
    expect(() => truncated.readFile(inodes.get("/sub/nested.txt") as number, 0, 6)).toThrow(
      CorruptImageError,
    );
  });

  const corruptions: [string, (bytes: Uint8Array, inodes: Map<string, number>) => number, RegExp][] = [
    [
      "bad base magic",
      (b) => {
        b.set([0], DAXFS_BRANCHING_BASE_OFFSET);
        return DAXFS_BRANCHING_BASE_OFFSET;
      },
      /bad magic/,
    ],
    [
      "inode table past the base",
      (b) => {
        const sb = DaxfsBaseSuper.decode(b, DAXFS_BRANCHING_BASE_OFFSET);
        DaxfsBaseSuper.encode(b, DAXFS_BRANCHING_BASE_OFFSET, { ...sb, inodeCount: 10_000_000 });
        // Problems name the offending field (base/base-super.ts), here inode_count.
        return DAXFS_BRANCHING_BASE_OFFSET + DaxfsBaseSuper.offsets.inodeCount;
      },
      /does not fit/,
    ],
  ];
  for (const [what, corrupt, message] of corruptions) {
    it(`rejects ${what} at open`, () => {
      const image = buildTestImage(tree);
      const at = corrupt(image.bytes, image.inodes);
      let error: unknown;
      try {
        open(image);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CorruptImageError);
      expect((error as CorruptImageError).offset).toBe(at);
      expect((error as Error).message).toMatch(message);
    });
  }

  it("rejects corrupt inodes, dirents, targets and data with the absolute offset", () => {
    const image = buildTestImage(tree);
    const { base, inodes, bytes } = open(image);
    const hello = inodes.get("/hello.txt") as number;
    const helloAt = inodeAt(bytes, hello);
    // Data running past the base.
    DaxfsBaseInode.encode(bytes, helloAt, { ...DaxfsBaseInode.decode(bytes, helloAt), size: 1n << 40n });
    expect(() => base.readFile(hello, 0, 1)).toThrow(expect.objectContaining({ offset: helloAt }));
    // Slot number mismatch.
    const link = inodes.get("/link") as number;
    DaxfsBaseInode.encode(bytes, inodeAt(bytes, link), {
      ...DaxfsBaseInode.decode(bytes, inodeAt(bytes, link)),
      ino: 77,
    });
    expect(() => base.readInode(link)).toThrow(/records inode 77/);
    // Dirent naming inode 0, a bad name, a size that is not a multiple of 271.
    const fresh = open(buildTestImage(tree));
    const rootData =
      DAXFS_BRANCHING_BASE_OFFSET +
      Number(DaxfsBaseInode.decode(fresh.bytes, inodeAt(fresh.bytes, 1)).dataOffset);
    const second = rootData + DAXFS_DIRENT_STRIDE;
    DaxfsDirent.encode(fresh.bytes, second, { ...DaxfsDirent.decode(fresh.bytes, second), ino: 0 });
    expect(() => fresh.base.readDirents(1)).toThrow(
      expect.objectContaining({ offset: second, message: expect.stringMatching(/outside/) }),
    );
    const named = open(buildTestImage(tree));
    named.bytes[rootData + 16] = 0x2f;
    expect(() => named.base.readDirents(1)).toThrow(/contains '\/'/);
    const sized = open(buildTestImage(tree));
    DaxfsBaseInode.encode(sized.bytes, inodeAt(sized.bytes, 1), {
      ...DaxfsBaseInode.decode(sized.bytes, inodeAt(sized.bytes, 1)),
      size: 272n,
    });
    expect(() =>
      new BaseImage(
        new MemoryImage(sized.bytes),
        DAXFS_BRANCHING_BASE_OFFSET,
        sized.bytes.length - DAXFS_BRANCHING_BASE_OFFSET,
      ).readDirents(1),
    ).toThrow(/not a multiple of 271/);
    // Symlink target without its NUL.
    const linked = open(buildTestImage(tree));
    const linkInfo = linked.base.readInode(link);
    linked.bytes[DAXFS_BRANCHING_BASE_OFFSET + (linkInfo?.dataOffset ?? 0) + 9] = 0x41;
    expect(() => linked.base.readSymlink(link)).toThrow(/NUL-terminated/);
  });

  it("reports wrong types as typed errors, not corruption", () => {
    const { base, inodes } = open();
    expect(() => base.readSymlink(inodes.get("/hello.txt") as number)).toThrow(DaxfsError);
    expect(() => base.readFile(1, 0, 1)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => base.readFile(9999, 0, 1)).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
