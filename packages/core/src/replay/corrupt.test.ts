// Random damage to an image's metadata and logs must surface as DaxfsError (CorruptImageError or
// an errno), never as a RangeError/TypeError from deep inside, and never as a hang.
import { DaxfsBranch, DaxfsDeltaHdr, DeltaType } from "@daxfs/format";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CorruptImageError, DaxfsError } from "../errors.js";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import {
  addTestBranch,
  appendTestEntries,
  buildTestImage,
  testDir,
  testFile,
  testSymlink,
} from "../testing/index.js";

function pristine() {
  const shared = testFile("hard linked");
  const image = buildTestImage(
    testDir({ a: shared, d: testDir({ b: shared, c: testFile("c") }), l: testSymlink("a") }),
    {
      logCapacity: 8192,
      deltaSize: 64 * 1024,
    },
  );
  const next = image.nextInodeId;
  appendTestEntries(image.bytes, "main", [
    {
      type: DeltaType.CREATE,
      ino: next,
      parentIno: 1,
      newIno: next,
      mode: 0o100644,
      uid: 0,
      gid: 0,
      name: "m",
    },
    { type: DeltaType.WRITE, ino: next, fileOffset: 3, data: new TextEncoder().encode("main") },
  ]);
  addTestBranch(image.bytes, { name: "b1", parent: "main", capacity: 8192 });
  appendTestEntries(image.bytes, "b1", [
    {
      type: DeltaType.MKDIR,
      ino: next + 1,
      parentIno: 1,
      newIno: next + 1,
      mode: 0o40755,
      uid: 0,
      gid: 0,
      name: "n",
    },
    {
      type: DeltaType.RENAME,
      ino: next,
      oldParentIno: 1,
      newParentIno: next + 1,
      renamedIno: next,
      oldName: "m",
      newName: "moved",
    },
    { type: DeltaType.TRUNCATE, ino: 2, newSize: 4 },
    { type: DeltaType.DELETE, ino: 2, parentIno: 1, name: "a" },
  ]);
  return image.bytes;
}

/** Offsets worth damaging: superblock fields, branch records, base metadata, the logs. */
function interesting(bytes: Uint8Array): number[] {
  const image = DaxfsImage.open(new MemoryImage(bytes));
  const ranges: [number, number][] = [
    [0, 192],
    [4096, 4096 + 2 * 128],
    [image.base?.baseOffset ?? 0, (image.base?.baseOffset ?? 0) + 4096 + 16 * 1024],
  ];
  for (const record of image.branches()) ranges.push([record.logOffset, record.logOffset + record.logSize]);
  return ranges.flatMap(([from, to]) => Array.from({ length: to - from }, (_, i) => from + i));
}

describe("damaged images", () => {
  const bytes = pristine();
  const offsets = interesting(bytes);
  it("fail with DaxfsError only", () => {
    // A reader that refused every damaged image, or noticed no damage at all, must fail here: the
    // runs have to see both images that still read whole and images refused as corrupt.
    let readWhole = 0;
    let refusedCorrupt = 0;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(offsets.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }),
        (damage) => {
          const copy = bytes.slice();
          for (const [index, value] of damage) copy[offsets[index] as number] = value;
          for (const branch of ["main", "b1"]) {
            try {
              const view = DaxfsImage.open(new MemoryImage(copy)).view(branch);
              for (const { ino, stat } of view.walk()) {
                if ((stat.mode & 0o170000) === 0o100000) view.read(ino, 0, Math.min(stat.size, 1 << 16));
                if ((stat.mode & 0o170000) === 0o120000) view.readlink(ino);
              }
              readWhole++;
            } catch (error) {
              if (!(error instanceof DaxfsError)) throw error;
              if (error instanceof CorruptImageError) refusedCorrupt++;
            }
          }
        },
      ),
      { numRuns: Number(process.env.DAXFS_FUZZ_RUNS ?? 300) },
    );
    expect(readWhole).toBeGreaterThan(0);
    expect(refusedCorrupt).toBeGreaterThan(0);
  });

  it("refuses a damaged superblock magic, a log entry type and a branch parent", () => {
    const opened = (copy: Uint8Array, branch: string) => () => [
      ...DaxfsImage.open(new MemoryImage(copy)).view(branch).walk(),
    ];
    const image = DaxfsImage.open(new MemoryImage(bytes));
    const b1 = image.findBranch("b1") as NonNullable<ReturnType<typeof image.findBranch>>;

    const magic = bytes.slice();
    magic[0] = (magic[0] as number) ^ 0xff;
    expect(opened(magic, "main")).toThrow(CorruptImageError);

    const entryType = bytes.slice();
    entryType[b1.logOffset + DaxfsDeltaHdr.offsets.type] = 0xee; // the first entry's type: unknown
    expect(opened(entryType, "b1")).toThrow(CorruptImageError);

    const parent = bytes.slice();
    const parentAt = image.branchSlotOffset(b1.slot) + DaxfsBranch.offsets.parentId;
    new DataView(parent.buffer).setBigUint64(parentAt, 77n, true);
    expect(opened(parent, "b1")).toThrow(/parent id 77 is not in the branch table/);
  });

  it("the pristine image reads cleanly", () => {
    const view = DaxfsImage.open(new MemoryImage(bytes)).view("b1");
    expect([...view.walk()].map((e) => e.path)).toEqual(["/", "/d", "/d/b", "/d/c", "/l", "/n", "/n/moved"]);
  });
});
