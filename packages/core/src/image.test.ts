import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BranchState, DaxfsBranch, DaxfsSuper, DeltaType } from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { CorruptImageError } from "./errors.js";
import { DaxfsImage } from "./image.js";
import { MemoryImage } from "./image-source.js";
import {
  addTestBranch,
  appendTestEntries,
  buildTestImage,
  setTestBranchState,
  testDir,
  testFile,
} from "./testing/index.js";

const tree = testDir({ f: testFile("data") });

function corruptSuper(change: (sb: DaxfsSuper) => Partial<DaxfsSuper>): Uint8Array {
  const { bytes } = buildTestImage(tree);
  const sb = DaxfsSuper.decode(bytes);
  DaxfsSuper.encode(bytes, 0, { ...sb, ...change(sb) });
  return bytes;
}

describe("DaxfsImage.open", () => {
  it("opens a branching and a static image", () => {
    const branching = DaxfsImage.open(new MemoryImage(buildTestImage(tree).bytes));
    expect(branching.branching).toBe(true);
    expect(branching.base?.inodeCount).toBe(2);
    expect(branching.deltaRegion).not.toBeNull();
    const staticImage = DaxfsImage.open(new MemoryImage(buildTestImage(tree, { branching: false }).bytes));
    expect(staticImage.branching).toBe(false);
    expect(staticImage.branches()).toEqual([]);
    expect(staticImage.deltaRegion).toBeNull();
  });

  const bad: [string, Uint8Array, RegExp][] = [
    ["a bad magic", corruptSuper(() => ({ magic: 0x12345678 })), /bad magic 0x12345678/],
    ["an unsupported version", corruptSuper(() => ({ version: 4 })), /version 4/],
    [
      "a base region past the end",
      corruptSuper((sb) => ({ baseSize: sb.totalSize })),
      /base image .* outside/,
    ],
    [
      "a delta region past the end",
      corruptSuper((sb) => ({ deltaRegionSize: sb.deltaRegionSize + 1n })),
      /delta region .* outside/,
    ],
    [
      "a branch table past the end",
      corruptSuper((sb) => ({ branchTableOffset: sb.totalSize - 100n })),
      /branch table .* outside/,
    ],
    ["a too-small file", new Uint8Array(100), /too small/],
  ];
  for (const [what, bytes, message] of bad) {
    it(`rejects ${what} with CorruptImageError`, () => {
      expect(() => DaxfsImage.open(new MemoryImage(bytes))).toThrow(CorruptImageError);
      expect(() => DaxfsImage.open(new MemoryImage(bytes))).toThrow(message);
    });
  }

  it("opens files, with a backing file for split images", () => {
    const dir = mkdtempSync(join(tmpdir(), "daxfs-image-"));
    try {
      const split = buildTestImage(tree, { split: true });
      writeFileSync(join(dir, "img"), split.bytes);
      writeFileSync(join(dir, "backing"), split.backing as Uint8Array);
      const image = DaxfsImage.openFile(join(dir, "img"), { backing: join(dir, "backing") });
      const view = image.view();
      expect(new TextDecoder().decode(view.read(view.resolve("/f"), 0, 10))).toBe("data");
      image.close();
      expect(() => DaxfsImage.openFile(join(dir, "missing"))).toThrow(
        expect.objectContaining({ code: "ENOENT" }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("branch table", () => {
  it("lists non-FREE slots and finds branches by the SPEC 1.4 rules", () => {
    const { bytes } = buildTestImage(tree);
    addTestBranch(bytes, { name: "done", parent: "main" });
    addTestBranch(bytes, { name: "sibling", parent: "main" });
    addTestBranch(bytes, { name: "child", parent: "sibling" });
    setTestBranchState(bytes, "done", BranchState.COMMITTED);
    setTestBranchState(bytes, "sibling", BranchState.ABORTED);
    const image = DaxfsImage.open(new MemoryImage(bytes));
    expect(image.branches().map((r) => [r.slot, r.id, r.parentId, r.name, r.state])).toEqual([
      [0, 1, 0, "main", BranchState.ACTIVE],
      [1, 2, 1, "done", BranchState.COMMITTED],
      [2, 3, 1, "sibling", BranchState.ABORTED],
      [3, 4, 3, "child", BranchState.ACTIVE],
    ]);
    expect(image.findBranch("done")).toBeUndefined();
    expect(image.findBranch("sibling")?.state).toBe(BranchState.ABORTED);
    expect(image.findBranchById(2)?.name).toBe("done");
    expect(
      image
        .branchChain(image.findBranch("child") as NonNullable<ReturnType<typeof image.findBranch>>)
        .map((r) => r.id),
    ).toEqual([4, 3, 1]);
  });

  it("reads a branch log and rejects a parent cycle or a missing parent", () => {
    const { bytes, nextInodeId } = buildTestImage(tree);
    addTestBranch(bytes, { name: "b1", parent: "main" });
    appendTestEntries(bytes, "b1", [{ type: DeltaType.TRUNCATE, ino: 2, newSize: 1 }]);
    const image = DaxfsImage.open(new MemoryImage(bytes));
    expect(
      image.readBranchLog(image.findBranch("b1") as NonNullable<ReturnType<typeof image.findBranch>>),
    ).toMatchObject([{ type: DeltaType.TRUNCATE, newSize: 1 }]);
    expect(nextInodeId).toBe(3);
    // main's parent = b1: a cycle.
    const mainAt = 4096;
    DaxfsBranch.encode(bytes, mainAt, { ...DaxfsBranch.decode(bytes, mainAt), parentId: 2n });
    expect(() => image.view("b1")).toThrow(/cycle/);
    DaxfsBranch.encode(bytes, mainAt, { ...DaxfsBranch.decode(bytes, mainAt), parentId: 77n });
    expect(() => image.view("b1")).toThrow(/parent id 77/);
  });
});
