import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BRANCH_TABLE_OFFSET,
  DAXFS_BRANCHING_BASE_OFFSET,
  DAXFS_DIRENT_STRIDE,
  DAXFS_STATIC_BASE_OFFSET,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDeltaHdr,
  DaxfsDirent,
  DaxfsSuper,
  DeltaType,
} from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { FileImage, MemoryImage } from "../image-source.js";
import { formatProblem } from "../problems.js";
import {
  buildTestImageWithLogs as buildTestImage,
  createEntry,
  deleteEntry,
  testDir as dir,
  testFile as file,
  renameEntry,
  sampleTree,
  symlinkEntry,
  writeEntry,
} from "../testing/index.js";
import { validate } from "./validate.js";

const view = (bytes: Uint8Array) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

function problemsOf(bytes: Uint8Array) {
  return validate(new MemoryImage(bytes)).problems;
}

function fields(bytes: Uint8Array): string[] {
  return problemsOf(bytes).map((p) => `${p.structure}.${p.field}`);
}

/** Absolute offset of inode `ino`'s field in a static test image. */
function inodeField(
  ino: number,
  field: keyof typeof DaxfsBaseInode.offsets,
  baseOffset = DAXFS_STATIC_BASE_OFFSET,
): number {
  return baseOffset + 4096 + (ino - 1) * DAXFS_BASE_INODE_SIZE + DaxfsBaseInode.offsets[field];
}

function inode(bytes: Uint8Array, ino: number, baseOffset = DAXFS_STATIC_BASE_OFFSET) {
  return DaxfsBaseInode.decode(bytes, baseOffset + 4096 + (ino - 1) * DAXFS_BASE_INODE_SIZE);
}

function branchingImage() {
  // Base: 1 = /, 2 = a.txt, 3 = docs (BFS, sorted); new inodes from 4.
  return buildTestImage(dir({ "a.txt": file("abc"), docs: dir() }), {
    branches: [
      {
        name: "main",
        id: 1,
        parentId: 0,
        entries: [
          createEntry(DeltaType.CREATE, 1, 4, "new.txt", 0o100644),
          writeEntry(4, 0, new Uint8Array([1, 2, 3])),
        ],
      },
      {
        name: "feature",
        id: 2,
        parentId: 1,
        entries: [
          createEntry(DeltaType.MKDIR, 3, 5, "sub", 0o040755),
          writeEntry(4, 10, new Uint8Array([9])),
          symlinkEntry(5, 6, "ln", "../a.txt"),
          renameEntry(1, 5, 2, "a.txt", "b.txt"),
          deleteEntry(1, 4, "new.txt"),
        ],
      },
    ],
  });
}

describe("validate: images that are valid", () => {
  it("accepts a static image with every inode kind, hard links and nesting", () => {
    const bytes = buildTestImage(sampleTree());
    const report = validate(new MemoryImage(bytes));
    expect(report.problems.map(formatProblem)).toEqual([]);
    expect(report.stats.inodes).toBe(11);
  });

  it("accepts a branching image with live logs on two levels", () => {
    const report = validate(new MemoryImage(branchingImage()));
    expect(report.problems.map(formatProblem)).toEqual([]);
    expect(report.stats.branches).toBe(2);
    expect(report.stats.deltaEntries).toBe(7);
  });
});

describe("validate: directory arrays across block boundaries (NOTES.md 1)", () => {
  it("accepts 300 entries in one directory and flags an array allocated with the 271 stride", () => {
    const children: Record<string, ReturnType<typeof file>> = {};
    for (let i = 0; i < 300; i++) children[`entry-${String(i).padStart(3, "0")}`] = file(`${i}`);
    const bytes = buildTestImage(dir(children));
    expect(problemsOf(bytes)).toEqual([]);
    // The public mkdaxfs reserves ALIGN(count x 271, 4096); with 136 entries that is 36864 bytes,
    // but the array read with the 272 stride is 36992 bytes long and overruns the next item.
    const overrun: Record<string, ReturnType<typeof file>> = {};
    for (let i = 0; i < 136; i++) overrun[`e${String(i).padStart(3, "0")}`] = file("x");
    const image = buildTestImage(dir(overrun));
    // Move file 2's data to where ALIGN(136 x 271, 4096) would put it: 36864 bytes after the array.
    const root = inode(image, 1);
    view(image).setBigUint64(inodeField(2, "dataOffset"), root.dataOffset + 36864n, true);
    expect(fields(image)).toContain("inode 2.data_offset");
  });
});

describe("validate: superblock and regions", () => {
  it("rejects a bad magic and stops", () => {
    const bytes = buildTestImage(sampleTree());
    bytes[0] = bytes[0]! ^ 0xff;
    expect(fields(bytes)).toEqual(["superblock.magic"]);
  });

  it("calls an unknown version unsupported, not corrupt", () => {
    const bytes = buildTestImage(sampleTree());
    view(bytes).setUint32(DaxfsSuper.offsets.version, 6, true);
    const [problem] = problemsOf(bytes);
    expect(problem).toMatchObject({ kind: "unsupported", field: "version", offset: 4 });
  });

  it("reports a truncated image and a base region past its end", () => {
    const bytes = buildTestImage(sampleTree()).subarray(0, 3 * 4096);
    expect(fields(bytes)).toEqual(["superblock.total_size", "superblock.base_size"]);
  });

  it("states a cut region by its field's stored value and what fits in the image", () => {
    const whole = branchingImage();
    const sb = DaxfsSuper.decode(whole);
    // Cut inside the branch table: its entries field (a count of records) is bounded in records;
    // regions that start past the cut are blamed on their offset.
    const cut = Number(sb.branchTableOffset) + 4096;
    const lines = problemsOf(whole.slice(0, cut)).map(formatProblem);
    expect(lines).toContain(
      `superblock at 0x30: branch_table_entries: expected <= 32 (the 128-byte records that fit between 0x1000 and the image's end), got ${sb.branchTableEntries} (branch table [0x1000, +${sb.branchTableEntries * 128}) lies outside the ${cut}-byte image)`,
    );
    expect(lines).toContain(
      `superblock at 0x18: base_offset: expected < 0x${cut.toString(16)} (the image's end), got 0x${sb.baseOffset.toString(16)} (base image [0x${sb.baseOffset.toString(16)}, +${sb.baseSize}) lies outside the ${cut}-byte image)`,
    );
  });

  it("bounds a cut byte-sized region in bytes", () => {
    const bytes = buildTestImage(sampleTree());
    const sb = DaxfsSuper.decode(bytes);
    const [, base] = problemsOf(bytes.slice(0, 3 * 4096)).map(formatProblem);
    expect(base).toBe(
      `superblock at 0x20: base_size: expected <= 8192 (the bytes between 0x1000 and the image's end), got ${sb.baseSize} (base image [0x1000, +${sb.baseSize}) lies outside the 12288-byte image)`,
    );
  });

  it("rejects an unaligned base and an overlap with the superblock", () => {
    const bytes = buildTestImage(sampleTree());
    view(bytes).setBigUint64(DaxfsSuper.offsets.baseOffset, 100n, true);
    expect(fields(bytes)).toContain("superblock.base_offset");
  });

  it("rejects an image shorter than a block without throwing", () => {
    expect(fields(new Uint8Array(10))).toEqual(["superblock.size"]);
  });

  it("checks overlap of the delta region and the base", () => {
    const bytes = branchingImage();
    view(bytes).setBigUint64(DaxfsSuper.offsets.deltaRegionOffset, BigInt(DAXFS_BRANCHING_BASE_OFFSET), true);
    expect(fields(bytes)).toContain("superblock.delta_region_offset");
  });
});

describe("validate: base image", () => {
  it("rejects a zero inode count", () => {
    const bytes = buildTestImage(sampleTree());
    view(bytes).setUint32(DAXFS_STATIC_BASE_OFFSET + DaxfsBaseSuper.offsets.inodeCount, 0, true);
    expect(fields(bytes)).toEqual(["base_super.inode_count"]);
  });

  it("allows zero slots but not a slot with the wrong number", () => {
    const bytes = buildTestImage(sampleTree());
    view(bytes).setUint32(inodeField(4, "ino"), 9, true);
    const problems = problemsOf(bytes);
    expect(problems[0]).toMatchObject({
      structure: "inode 4",
      field: "ino",
      expected: "4",
      actual: "9",
      offset: inodeField(4, "ino"),
    });
  });

  it("rejects device files", () => {
    const bytes = buildTestImage(sampleTree());
    const mode = inode(bytes, 3).mode;
    view(bytes).setUint32(inodeField(3, "mode"), 0o020644, true);
    expect(mode).not.toBe(0o020644);
    expect(fields(bytes)).toContain("inode 3.mode");
  });

  it("rejects uid or gid 4294967295 ((uid_t)-1) on a file, a directory and a symlink", () => {
    const tree = dir({
      f: file("x"),
      d: dir(),
      l: { kind: "symlink", mode: 0o120777, uid: 0, gid: 0, target: "f" },
    });
    // Sorted pre-order from root 1: d = 2, f = 3, l = 4.
    const clean = buildTestImage(tree);
    view(clean).setUint32(inodeField(2, "uid"), 0xfffffffe, true);
    view(clean).setUint32(inodeField(3, "gid"), 0xfffffffe, true);
    expect(problemsOf(clean)).toEqual([]);

    const bytes = buildTestImage(tree);
    view(bytes).setUint32(inodeField(2, "gid"), 0xffffffff, true);
    view(bytes).setUint32(inodeField(3, "uid"), 0xffffffff, true);
    view(bytes).setUint32(inodeField(4, "uid"), 0xffffffff, true);
    view(bytes).setUint32(inodeField(4, "gid"), 0xffffffff, true);
    expect(fields(bytes)).toEqual(["inode 2.gid", "inode 3.uid", "inode 4.uid", "inode 4.gid"]);
    expect(problemsOf(bytes)[1]).toMatchObject({
      offset: inodeField(3, "uid"),
      actual: "4294967295",
      kind: "corrupt",
      message: "uid 4294967295 ((uid_t)-1) is not a valid owner",
    });
  });

  it("rejects a file whose data runs past the base", () => {
    const bytes = buildTestImage(sampleTree());
    const target = [...Array(11).keys()]
      .map((i) => i + 1)
      .find((n) => (inode(bytes, n).mode & 0o170000) === 0o100000 && inode(bytes, n).size > 0n)!;
    view(bytes).setBigUint64(inodeField(target, "size"), 1n << 40n, true);
    expect(fields(bytes)).toContain(`inode ${target}.size`);
  });

  it("rejects a symlink without its NUL", () => {
    const bytes = buildTestImage(
      dir({ l: { kind: "symlink", mode: 0o120777, uid: 0, gid: 0, target: "abc" } }),
    );
    const link = inode(bytes, 2);
    bytes[DAXFS_STATIC_BASE_OFFSET + Number(link.dataOffset) + 3] = 0x41;
    expect(fields(bytes)).toEqual(["inode 2.target"]);
  });

  it("checks dirent names, duplicates, targets and modes", () => {
    const tree = dir({ a: file("1"), b: file("2"), c: file("3"), d: file("4"), e: file("5") });
    const make = () => buildTestImage(tree);
    const root = inode(make(), 1);
    const entryAt = (index: number, field: keyof typeof DaxfsDirent.offsets) =>
      DAXFS_STATIC_BASE_OFFSET +
      Number(root.dataOffset) +
      index * DAXFS_DIRENT_STRIDE +
      DaxfsDirent.offsets[field];
    const cases: [string, (bytes: Uint8Array) => void, string][] = [
      ["slash", (b) => (b[entryAt(0, "name")] = 0x2f), "dirent 1[0].name"],
      ["dot", (b) => (b[entryAt(0, "name")] = 0x2e), "dirent 1[0].name"],
      ["empty", (b) => view(b).setUint16(entryAt(0, "nameLen"), 0, true), "dirent 1[0].name_len"],
      ["long", (b) => view(b).setUint16(entryAt(0, "nameLen"), 256, true), "dirent 1[0].name_len"],
      ["duplicate", (b) => (b[entryAt(1, "name")] = 0x61), "dirent 1[1].name"],
      ["out of range", (b) => view(b).setUint32(entryAt(2, "ino"), 99, true), "dirent 1[2].ino"],
      ["root", (b) => view(b).setUint32(entryAt(2, "ino"), 1, true), "dirent 1[2].ino"],
      ["mode", (b) => view(b).setUint32(entryAt(3, "mode"), 0o100600, true), "dirent 1[3].mode"],
    ];
    for (const [label, mutate, expected] of cases) {
      const bytes = make();
      mutate(bytes);
      expect(fields(bytes), label).toContain(expected);
    }
  });

  it("finds a duplicate name also in an array out of order, and through a file's reused read buffer", () => {
    // Two directories, the larger array first, so the file path's one read buffer is reused for a
    // smaller array with the larger one's bytes after it.
    const tree = dir({
      big: dir({ a: file("1"), b: file("2"), c: file("3"), d: file("4"), e: file("5"), f: file("6") }),
      small: dir({ a: file("7"), b: file("8"), c: file("9") }),
    });
    const make = () => buildTestImage(tree);
    const entryAt = (ino: number, index: number) =>
      DAXFS_STATIC_BASE_OFFSET +
      Number(inode(make(), ino).dataOffset) +
      index * DAXFS_DIRENT_STRIDE +
      DaxfsDirent.offsets.name;
    const small = 2 + 1 + 6; // root, big, its six files, then small
    const viaFile = (bytes: Uint8Array) => {
      const dirPath = mkdtempSync(join(tmpdir(), "daxfs-validate-"));
      try {
        writeFileSync(join(dirPath, "img"), bytes);
        const image = FileImage.open(join(dirPath, "img"));
        try {
          return validate(image).problems.map((p) => `${p.structure}.${p.field}`);
        } finally {
          image.close();
        }
      } finally {
        rmSync(dirPath, { recursive: true, force: true });
      }
    };
    const cases: [string, (bytes: Uint8Array) => void, string[]][] = [
      ["sorted", () => {}, []],
      // b a c: out of order but unique.
      [
        "out of order",
        (b) => {
          b[entryAt(small, 0)] = 0x62;
          b[entryAt(small, 1)] = 0x61;
        },
        [],
      ],
      // a b a: the repeat follows a name greater than it.
      ["repeat after a greater name", (b) => (b[entryAt(small, 2)] = 0x61), [`dirent ${small}[2].name`]],
      // big: a b c a e f.
      ["repeat in the larger array", (b) => (b[entryAt(2, 3)] = 0x61), ["dirent 2[3].name"]],
    ];
    for (const [label, mutate, expected] of cases) {
      const bytes = make();
      mutate(bytes);
      const found = fields(bytes);
      // The skipped entry leaves its file unnamed too (an nlink problem): only the name is asserted.
      if (expected.length === 0) expect(found, label).toEqual([]);
      else expect(found, label).toContain(expected[0]);
      expect(viaFile(bytes), label).toEqual(found);
    }
  });

  it("checks nlink of files (names) and directories (2 + subdirectories)", () => {
    const bytes = buildTestImage(sampleTree());
    view(bytes).setUint32(inodeField(1, "nlink"), 2, true);
    const problems = problemsOf(bytes);
    expect(problems.map((p) => `${p.structure}.${p.field}`)).toEqual(["inode 1.nlink"]);
    expect(problems[0]!.expected).toMatch(/^4 /);
  });

  it("finds a directory cycle and a directory named twice, with bounded work", () => {
    // / -> a -> b; make b's entry point at a (a named twice), then a cycle a -> b -> a.
    const tree = dir({ a: dir({ b: dir({ c: file("x") }) }) });
    const bytes = buildTestImage(tree);
    const b = inode(bytes, 3);
    const bEntry = DAXFS_STATIC_BASE_OFFSET + Number(b.dataOffset);
    view(bytes).setUint32(bEntry + DaxfsDirent.offsets.ino, 2, true);
    view(bytes).setUint32(bEntry + DaxfsDirent.offsets.mode, inode(bytes, 2).mode, true);
    const found = fields(bytes);
    expect(found).toContain("dirent 3[0].ino"); // a already has a parent
    expect(found).toContain("inode 4.nlink"); // c is no longer named

    // A pure cycle: root names nothing, a <-> b.
    const cyc = buildTestImage(dir({ a: dir({ b: dir() }) }));
    const rootDir = inode(cyc, 1);
    view(cyc).setBigUint64(inodeField(1, "size"), 0n, true);
    view(cyc).setBigUint64(inodeField(1, "dataOffset"), 0n, true);
    view(cyc).setUint32(inodeField(1, "nlink"), 2, true);
    expect(rootDir.size).toBeGreaterThan(0n);
    // Give b an entry naming a: overwrite b's (empty) dir with a's array is complex; instead point a's entry at a.
    const a = inode(cyc, 2);
    view(cyc).setUint32(DAXFS_STATIC_BASE_OFFSET + Number(a.dataOffset) + DaxfsDirent.offsets.ino, 2, true);
    view(cyc).setUint32(
      DAXFS_STATIC_BASE_OFFSET + Number(a.dataOffset) + DaxfsDirent.offsets.mode,
      a.mode,
      true,
    );
    const problems = problemsOf(cyc);
    expect(problems.some((p) => p.field === "parent" && p.actual.includes("cycle"))).toBe(true);
  });

  it("rejects two files sharing data", () => {
    const bytes = buildTestImage(dir({ a: file("aaaa"), b: file("bbbb") }));
    view(bytes).setBigUint64(inodeField(3, "dataOffset"), inode(bytes, 2).dataOffset, true);
    expect(fields(bytes)).toContain("inode 3.data_offset");
  });

  it("rejects two files sharing data out of inode order (the items sorted by start first)", () => {
    const bytes = buildTestImage(dir({ a: file("aaaa"), b: file("bbbb"), c: file("cccc") }));
    // a's data moved onto c's, after b's: the items are no longer in start order.
    view(bytes).setBigUint64(inodeField(2, "dataOffset"), inode(bytes, 4).dataOffset, true);
    const problems = problemsOf(bytes).filter((p) => p.field === "data_offset");
    expect(problems.map((p) => p.structure)).toEqual(["inode 4"]);
    expect(problems[0]?.expected).toMatch(/end of inode 2's data/);
  });
});

describe("validate: branches and logs", () => {
  const slot = (index: number, field: keyof typeof DaxfsBranch.offsets) =>
    DAXFS_BRANCH_TABLE_OFFSET + index * DaxfsBranch.size + DaxfsBranch.offsets[field];

  it("rejects unknown states, duplicate ids, missing parents and cycles", () => {
    let bytes = branchingImage();
    view(bytes).setUint32(slot(1, "state"), 7, true);
    expect(fields(bytes)).toEqual(["branch 1.state"]);

    bytes = branchingImage();
    view(bytes).setBigUint64(slot(1, "branchId"), 1n, true);
    expect(fields(bytes)).toContain("branch 1.branch_id");

    bytes = branchingImage();
    view(bytes).setBigUint64(slot(1, "parentId"), 2n, true); // feature is its own parent
    expect(problemsOf(bytes).some((p) => p.field === "parent_id" && p.message.includes("cycle"))).toBe(true);

    bytes = branchingImage();
    view(bytes).setUint32(slot(0, "state"), 3, true); // main ABORTED
    expect(fields(bytes)).toContain("branch 0.branch_id");

    bytes = branchingImage();
    view(bytes).setBigUint64(slot(1, "parentId"), 9n, true);
    expect(fields(bytes)).toContain("branch 1.parent_id");
  });

  it("bounds next_local_ino by next_inode_id only: the public module writes 2 into main's", () => {
    let bytes = branchingImage();
    view(bytes).setBigUint64(slot(0, "nextLocalIno"), 2n, true);
    expect(fields(bytes)).toEqual([]);

    bytes = branchingImage();
    const next = DaxfsSuper.decode(bytes, 0).nextInodeId;
    view(bytes).setBigUint64(slot(1, "nextLocalIno"), next, true);
    expect(fields(bytes)).toEqual([]);
    view(bytes).setBigUint64(slot(1, "nextLocalIno"), next + 1n, true);
    expect(fields(bytes)).toEqual(["branch 1.next_local_ino"]);
  });

  it("refuses an image whose main record is gone while branch ids were handed out", () => {
    const bytes = branchingImage();
    view(bytes).setUint32(slot(0, "state"), 0, true); // main FREE: readers would serve the base alone
    expect(fields(bytes)).toContain("superblock.next_branch_id");
  });

  it("rejects names without NUL, logs outside the region and overlapping logs", () => {
    let bytes = branchingImage();
    bytes.fill(0x41, slot(1, "name"), slot(1, "name") + 32);
    expect(fields(bytes)).toEqual(["branch 1.name"]);

    bytes = branchingImage();
    view(bytes).setBigUint64(slot(1, "deltaLogCapacity"), 1n << 50n, true);
    expect(fields(bytes)).toContain("branch 1.delta_log_offset");

    bytes = branchingImage();
    view(bytes).setBigUint64(
      slot(1, "deltaLogOffset"),
      DaxfsBranch.decode(bytes, slot(0, "branchId")).deltaLogOffset,
      true,
    );
    expect(fields(bytes)).toContain("branch 1.delta_log_offset");
  });

  it("reports a malformed entry at its offset, and unknown inodes", () => {
    let bytes = branchingImage();
    const mainLog = Number(DaxfsBranch.decode(bytes, slot(0, "branchId")).deltaLogOffset);
    view(bytes).setUint32(mainLog + DaxfsDeltaHdr.offsets.type, 42, true);
    const [problem] = problemsOf(bytes);
    expect(problem).toMatchObject({ offset: mainLog, field: "entry" });
    expect(problem!.message).toMatch(/unknown type 42/);

    // The feature log writes to inode 4, created by main: fine. A WRITE to an unknown inode is not.
    bytes = buildTestImage(dir({ a: file("x") }), {
      branches: [{ name: "main", id: 1, parentId: 0, entries: [writeEntry(77, 0, new Uint8Array(1))] }],
    });
    expect(problemsOf(bytes)[0]).toMatchObject({ field: "ino", actual: "77" });

    // A sibling cannot see another sibling's inodes.
    bytes = buildTestImage(dir({ a: file("x") }), {
      branches: [
        { name: "main", id: 1, parentId: 0 },
        { name: "one", id: 2, parentId: 1, entries: [createEntry(DeltaType.CREATE, 1, 3, "f", 0o100644)] },
        { name: "two", id: 3, parentId: 1, entries: [writeEntry(3, 0, new Uint8Array(1))] },
      ],
    });
    expect(fields(bytes)).toEqual([
      `delta two@0x${DaxfsBranch.decode(bytes, slot(2, "branchId")).deltaLogOffset.toString(16)}.ino`,
    ]);
  });
});

describe("validate: replay", () => {
  it("replays live chains through the model: a directory given a second name is found", () => {
    // RENAME whose old name does not name the directory: replay keeps the old name and adds the new.
    const bytes = buildTestImage(dir({ "a.txt": file("abc"), docs: dir({ x: file("x") }) }), {
      branches: [{ name: "main", id: 1, parentId: 0, entries: [renameEntry(1, 1, 3, "zzz", "docs2")] }],
    });
    const [problem, ...rest] = problemsOf(bytes);
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ structure: "replay main", field: "entry" });
    expect(problem!.message).toMatch(/directory 3 is reachable twice/);
  });
});

describe("validate: problem cap", () => {
  it("lists at most maxProblems and counts the rest", () => {
    const children: Record<string, ReturnType<typeof file>> = {};
    for (let i = 0; i < 50; i++) children[`f${i}`] = file(`${i}`);
    const bytes = buildTestImage(dir(children));
    for (let ino = 2; ino <= 51; ino++) view(bytes).setUint32(inodeField(ino, "nlink"), 9, true);
    const report = validate(new MemoryImage(bytes), { maxProblems: 10 });
    expect(report.problems).toHaveLength(10);
    expect(report.omitted).toBe(40);
  });
});
