import {
  BranchState,
  DAXFS_DIRENT_STRIDE,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDirent,
  DaxfsPcacheHeader,
  DaxfsPcacheSlot,
  DaxfsSuper,
} from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { isDaxfsError } from "../errors.js";
import { canonicalLinkGroups, describeBuildTree, readBaseTree } from "../testing/read-tree.js";
import { planImage } from "./plan.js";
import { type BuildDir, makeDir, makeFile, makeSymlink } from "./tree.js";
import { buildImage, buildSplitImage } from "./write.js";

/** SPEC 2.11's source tree, inserted in the public example's readdir order. */
function workedExample(): BuildDir {
  const root = makeDir();
  const subdir = makeDir();
  subdir.children.set("nested.txt", makeFile("File in subdir\n"));
  root.children.set("modify_me.txt", makeFile("Original content\n"));
  root.children.set("subdir", subdir);
  root.children.set("hello.txt", makeFile("Hello from base image\n"));
  return root;
}

const base = 0x9000;
const inodeAt = (image: Uint8Array, ino: number) =>
  DaxfsBaseInode.decode(image, base + 4096 + (ino - 1) * 64);
const direntName = (image: Uint8Array, offset: number) => {
  const d = DaxfsDirent.decode(image, offset);
  return { ino: d.ino, name: Buffer.from(d.name.subarray(0, d.nameLen)).toString() };
};

describe("worked example (SPEC 2.11, names sorted by bytes)", () => {
  const image = buildImage(workedExample(), { branching: true });

  it("lays out inodes in sorted pre-order with block-aligned data", () => {
    // Sorted: hello.txt, modify_me.txt, subdir, subdir/nested.txt.
    const expected = [
      { ino: 1, mode: 0o40755, size: 813, dataOffset: 0x2000, nlink: 3 },
      { ino: 2, mode: 0o100644, size: 22, dataOffset: 0x3000, nlink: 1 },
      { ino: 3, mode: 0o100644, size: 17, dataOffset: 0x4000, nlink: 1 },
      { ino: 4, mode: 0o40755, size: 271, dataOffset: 0x5000, nlink: 2 },
      { ino: 5, mode: 0o100644, size: 15, dataOffset: 0x6000, nlink: 1 },
    ];
    for (const e of expected) {
      const slot = inodeAt(image, e.ino);
      expect({
        ino: slot.ino,
        mode: slot.mode,
        size: Number(slot.size),
        dataOffset: Number(slot.dataOffset),
        nlink: slot.nlink,
      }).toEqual(e);
    }
    const bs = DaxfsBaseSuper.decode(image, base);
    expect([
      bs.inodeCount,
      bs.rootInode,
      Number(bs.dataOffset),
      Number(bs.totalSize),
      Number(bs.inodeOffset),
    ]).toEqual([5, 1, 0x2000, 0x7000, 4096]);
    expect([0, 1, 2].map((i) => direntName(image, base + 0x2000 + i * DAXFS_DIRENT_STRIDE))).toEqual([
      { ino: 2, name: "hello.txt" },
      { ino: 3, name: "modify_me.txt" },
      { ino: 4, name: "subdir" },
    ]);
    expect(direntName(image, base + 0x5000)).toEqual({ ino: 5, name: "nested.txt" });
    expect(Buffer.from(image.subarray(base + 0x3000, base + 0x3000 + 22)).toString()).toBe(
      "Hello from base image\n",
    );
  });

  it("writes the superblock and the main branch record a first mount would", () => {
    const sb = DaxfsSuper.decode(image, 0);
    expect(image.length).toBe(0x4010000);
    expect(sb.baseOffset).toBe(0x9000n);
    expect(sb.baseSize).toBe(0x7000n);
    expect(sb.branchTableOffset).toBe(0x1000n);
    expect(sb.branchTableEntries).toBe(256);
    expect(sb.deltaRegionOffset).toBe(0x10000n);
    expect(sb.deltaRegionSize).toBe(0x4000000n);
    expect(sb.totalSize).toBe(0x4010000n);
    expect(sb.nextInodeId).toBe(6n);
    // After main: (SPEC 2.11 "after the first kernel mount of main").
    expect(sb.deltaAllocOffset).toBe(0x110000n);
    expect(sb.activeBranches).toBe(1);
    expect(sb.nextBranchId).toBe(2n);
    expect(sb.coord.commitSequence).toBe(1n);
    expect(sb.coord.coordLock).toBe(0);
    const main = DaxfsBranch.decode(image, 0x1000);
    expect(main.branchId).toBe(1n);
    expect(main.parentId).toBe(0n);
    expect(main.deltaLogOffset).toBe(0x10000n);
    expect(main.deltaLogSize).toBe(0n);
    expect(main.deltaLogCapacity).toBe(0x100000n);
    expect(main.state).toBe(BranchState.ACTIVE);
    expect(main.nextLocalIno).toBe(6n);
    expect(Buffer.from(main.name).toString("latin1")).toBe(`main${"\0".repeat(28)}`);
    // Every other slot FREE (all zero).
    expect(image.subarray(0x1000 + 128, 0x9000).every((b) => b === 0)).toBe(true);
  });
});

describe("static images (SPEC 2.7)", () => {
  it("have the base at 4096 and no branch table or delta region", () => {
    const image = buildImage(workedExample());
    const sb = DaxfsSuper.decode(image, 0);
    expect(image.length).toBe(4096 + 0x7000);
    expect([
      sb.baseOffset,
      sb.totalSize,
      sb.branchTableOffset,
      sb.deltaRegionOffset,
      sb.nextBranchId,
      sb.nextInodeId,
    ]).toEqual([4096n, BigInt(4096 + 0x7000), 0n, 0n, 0n, 6n]);
    expect([sb.branchTableEntries, sb.activeBranches]).toEqual([0, 0]);
    expect(sb.coord.commitSequence).toBe(0n);
  });
});

describe("directory arrays (NOTES.md 1)", () => {
  it("allocate count x 272 bytes, so 16 entries cross into a second block without overlapping", () => {
    const root = makeDir();
    for (let i = 0; i < 16; i++) root.children.set(`f${String(i).padStart(2, "0")}`, makeFile(`file ${i}`));
    const plan = planImage(root);
    const rootInode = plan.inodes[0];
    expect(rootInode?.size).toBe(16 * 271);
    // 16 x 271 = 4336 fits in 2 blocks, 16 x 272 = 4352 too; check the next item starts after the array.
    expect(plan.inodes[1]?.dataOffset).toBe((rootInode?.dataOffset ?? 0) + 8192);
    const image = buildImage(root);
    expect(Object.keys(readBaseTree(image).children ?? {})).toHaveLength(16);
  });

  it("keep every name of a 272-entry directory (the public builder loses some)", () => {
    const root = makeDir();
    for (let i = 0; i < 272; i++) root.children.set(`n${i}`, makeFile(String(i)));
    const tree = readBaseTree(buildImage(root));
    expect(Object.keys(tree.children ?? {})).toHaveLength(272);
    expect(tree.children?.n271?.data).toBe(Buffer.from("271").toString("hex"));
  });
});

describe("hard links and link counts (NOTES.md Validity)", () => {
  it("store one inode per distinct file with nlink = names, dirs 2 + subdirs, no zero slots", () => {
    const root = makeDir();
    const shared = makeFile("shared");
    const a = makeDir();
    a.children.set("link2", shared);
    root.children.set("a", a);
    root.children.set("link1", shared);
    root.children.set("b", makeDir());
    root.children.set("sym", makeSymlink("link1"));
    const image = buildImage(root);
    const bs = DaxfsBaseSuper.decode(image, 4096);
    expect(bs.inodeCount).toBe(5); // root, a, a/link2 (= link1), b, sym
    const plan = planImage(root);
    expect(plan.inodes.map((i) => i.path)).toEqual(["/", "/a", "/a/link2", "/b", "/sym"]);
    expect(plan.nameCount).toBe(6);
    expect(plan.inodes.map((i) => i.nlink)).toEqual([4, 2, 2, 2, 1]);
    expect(DaxfsSuper.decode(image, 0).nextInodeId).toBe(6n);
    const tree = readBaseTree(image);
    expect(tree.children?.link1?.linkGroup).toBe(tree.children?.a?.children?.link2?.linkGroup);
  });
});

describe("reproducibility", () => {
  it("does not depend on the order children were inserted", () => {
    const forward = workedExample();
    const reversed = makeDir();
    for (const [name, node] of [...forward.children].reverse()) reversed.children.set(name, node);
    expect(
      Buffer.from(buildImage(reversed, { branching: true })).equals(
        Buffer.from(buildImage(forward, { branching: true })),
      ),
    ).toBe(true);
  });
});

describe("bad input: one DaxfsError naming the path", () => {
  const cases: Array<[string, () => BuildDir, string, string]> = [
    ["a 256-byte name", () => withChild("x".repeat(256), makeFile("")), "ENAMETOOLONG", "/xxxx"],
    ["a name with a slash", () => withChild("a/b", makeFile("")), "EINVAL", "/a/b"],
    ["a '..' name", () => withChild("..", makeFile("")), "EINVAL", "/.."],
    ["an empty name", () => withChild("", makeFile("")), "EINVAL", "invalid name"],
    [
      "a lone surrogate",
      () => withChild("a\ud800", makeFile("")),
      "EINVAL",
      "/a\\ud800: name holds the lone surrogate",
    ],
    [
      "escaped bytes that spell valid UTF-8",
      () => withChild("\udcc3\udca9", makeFile("")),
      "EINVAL",
      "/\\xc3\\xa9: name holds escaped bytes that are valid UTF-8",
    ],
    [
      "an empty symlink target",
      () => withChild("s", makeSymlink("")),
      "EINVAL",
      "/s: invalid symlink target",
    ],
    [
      "a content/size mismatch",
      () => withChild("f", { ...makeFile("abc"), size: 4 }),
      "EINVAL",
      "/f: content is 3 bytes",
    ],
    ["a uid over 32 bits", () => withChild("f", makeFile("", { uid: 2 ** 32 })), "EINVAL", "/f: uid"],
    [
      "uid (uid_t)-1",
      () => withChild("f", makeFile("", { uid: 0xffffffff })),
      "EINVAL",
      "/f: uid 4294967295 ((uid_t)-1) is not a valid owner",
    ],
    [
      "gid (gid_t)-1 on a directory",
      () => withChild("d", { ...makeDir(), gid: 0xffffffff }),
      "EINVAL",
      "/d: gid 4294967295 ((gid_t)-1) is not a valid owner",
    ],
    [
      "a directory under two names",
      () => {
        const d = makeDir();
        const root = withChild("one", d);
        root.children.set("two", d);
        return root;
      },
      "EINVAL",
      "/two: directory /one appears under a second name",
    ],
  ];
  for (const [what, tree, code, message] of cases) {
    it(`rejects ${what}`, () => {
      let caught: unknown;
      try {
        planImage(tree());
      } catch (error) {
        caught = error;
      }
      expect(isDaxfsError(caught, code as never), String(caught)).toBe(true);
      expect((caught as Error).message).toContain(message);
    });
  }

  it("rejects a layout bigger than the requested size", () => {
    expect(() => planImage(workedExample(), { size: 0x7000 })).toThrow(
      /image size 32768 exceeds requested size 28672/,
    );
    expect(planImage(workedExample(), { size: 4096 + 0x7000 }).totalSize).toBe(4096 + 0x7000);
  });

  it("rejects a delta region that cannot hold main's log", () => {
    expect(() => planImage(workedExample(), { branching: true, deltaSize: 65536 })).toThrow(
      /cannot hold the main branch/,
    );
  });
});

function withChild(
  name: string,
  node: BuildDir["children"] extends Map<string, infer N> ? N : never,
): BuildDir {
  const root = makeDir();
  root.children.set(name, node);
  return root;
}

describe("split mode (SPEC 2.9)", () => {
  it("puts file data in the backing file and pre-warms slot p with backing page p", () => {
    const root = workedExample();
    root.children.set("big", makeFile(new Uint8Array(5 * 4096 + 7).map((_, i) => i % 251)));
    const { image, backing } = buildSplitImage(root, { split: {} });
    const sb = DaxfsSuper.decode(image, 0);
    // backing: big (6 pages) + hello + modify_me + nested = 9 pages -> 8 slots, but at least 16.
    expect(backing.length).toBe(9 * 4096);
    expect(sb.pcacheSlotCount).toBe(16);
    expect(sb.pcacheHashShift).toBe(4);
    const pcacheOffset = Number(sb.pcacheOffset);
    const header = DaxfsPcacheHeader.decode(image, pcacheOffset);
    expect([header.slotCount, Number(header.slotMetaOffset), Number(header.slotDataOffset)]).toEqual([
      16, 4096, 8192,
    ]);
    expect(Number(sb.pcacheSize)).toBe(8192 + 16 * 4096);
    expect(Number(sb.deltaRegionOffset)).toBe(pcacheOffset + Number(sb.pcacheSize));
    for (let page = 0; page < 16; page++) {
      const slot = DaxfsPcacheSlot.decode(image, pcacheOffset + 4096 + page * 16);
      if (page < 9) {
        expect(slot.stateTag).toBe((BigInt(page) << 2n) | 2n);
        expect(slot.refBit).toBe(1);
        const data = image.subarray(
          pcacheOffset + 8192 + page * 4096,
          pcacheOffset + 8192 + (page + 1) * 4096,
        );
        expect(Buffer.from(data).equals(Buffer.from(backing.subarray(page * 4096, (page + 1) * 4096)))).toBe(
          true,
        );
      } else {
        expect(slot.stateTag).toBe(0n);
      }
    }
    expect(DaxfsBaseSuper.decode(image, 0x9000).flags).toBe(1);
    const expected = canonicalLinkGroups(describeBuildTree(root));
    expect(canonicalLinkGroups(readBaseTree(image, backing))).toEqual(expected);
  });

  it("refuses a slot count that is not a power of two", () => {
    expect(() => planImage(workedExample(), { split: { pcacheSlots: 24 } })).toThrow(
      "--pcache-slots must be a power of 2",
    );
  });
});

// biome-ignore lint/suspicious/noExplicitAny: fields of the compiled Kaitai parser's objects.
type KaitaiObject = Record<string, any>;

describe("the independent Kaitai parser (format/daxfs.ksy)", () => {
  it("reads the worked example's tree and main branch as the builder laid them out", async () => {
    const { loadKaitaiParser } = await import("../../../../format/src/kaitai.js");
    const { Daxfs, KaitaiStream } = await loadKaitaiParser();
    const root = workedExample();
    root.children.set("link", makeSymlink("hello.txt"));
    // The compiled parser is untyped JavaScript.
    type Constructor = new (input: unknown) => KaitaiObject;
    const stream = new (KaitaiStream as unknown as Constructor)(buildImage(root, { branching: true }));
    const parsed = new (Daxfs as unknown as Constructor)(stream);
    const inodes = parsed.base.inodes;
    expect(inodes.map((i: { ino: number }) => i.ino)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(inodes[0].dirents.map((d: { name: string; ino: number }) => [d.name, d.ino])).toEqual([
      ["hello.txt", 2],
      ["link", 3],
      ["modify_me.txt", 4],
      ["subdir", 5],
    ]);
    expect(Buffer.from(inodes[1].data).toString()).toBe("Hello from base image\n");
    expect(inodes[2].target).toBe("hello.txt");
    expect(inodes[4].dirents.map((d: { name: string }) => d.name)).toEqual(["nested.txt"]);
    expect(parsed.branches[0].name).toBe("main");
    const main = parsed.branches[0];
    expect([main.branchId, main.ofsDeltaLog, main.lenDeltaLog, main.deltaLogCapacity]).toEqual([
      1, 0x11000, 0, 0x100000,
    ]); // one more block: the symlink
  });
});
