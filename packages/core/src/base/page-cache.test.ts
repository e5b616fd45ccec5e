import { DaxfsPcacheHeader, DaxfsPcacheSlot, DaxfsSuper } from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { CorruptImageError } from "../errors.js";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import { buildTestImage, testDir, testFile } from "../testing/index.js";

// Three files of 2, 1 and 1 pages: backing pages 0..3; with 2 slots, pages 0 and 1 are cached
// (first page wins), pages 2 and 3 are not.
function splitImage() {
  const page = (fill: number, pages = 1) => new Uint8Array(4096 * pages).fill(fill);
  return buildTestImage(
    testDir({ a: testFile(page(0xa, 2)), b: testFile(page(0xb)), c: testFile(page(0xc)) }),
    {
      split: true,
      pageCacheSlots: 2,
    },
  );
}

describe("page cache of a split image", () => {
  it("serves cached pages when no backing file is given, and EIO for the rest", () => {
    const image = splitImage();
    const view = DaxfsImage.open(new MemoryImage(image.bytes)).view();
    const a = view.resolve("/a");
    expect(view.read(a, 4000, 200)).toEqual(new Uint8Array(200).fill(0xa));
    expect(() => view.read(view.resolve("/b"), 0, 1)).toThrow(expect.objectContaining({ code: "EIO" }));
    const withBacking = DaxfsImage.open(new MemoryImage(image.bytes), {
      backing: new MemoryImage(image.backing as Uint8Array),
    }).view();
    expect(withBacking.read(withBacking.resolve("/c"), 0, 4096)).toEqual(new Uint8Array(4096).fill(0xc));
  });

  it("treats a slot holding another page, or not VALID, as a miss", () => {
    const image = splitImage();
    const sb = DaxfsSuper.decode(image.bytes);
    const header = DaxfsPcacheHeader.decode(image.bytes, Number(sb.pcacheOffset));
    const slot0 = Number(sb.pcacheOffset + header.slotMetaOffset);
    DaxfsPcacheSlot.encode(image.bytes, slot0, {
      ...DaxfsPcacheSlot.decode(image.bytes, slot0),
      stateTag: (2n << 2n) | 1n,
    });
    const view = DaxfsImage.open(new MemoryImage(image.bytes)).view();
    expect(() => view.read(view.resolve("/a"), 0, 1)).toThrow(expect.objectContaining({ code: "EIO" }));
  });

  it("rejects a bad header at open", () => {
    const image = splitImage();
    const sb = DaxfsSuper.decode(image.bytes);
    const at = Number(sb.pcacheOffset);
    DaxfsPcacheHeader.encode(image.bytes, at, { ...DaxfsPcacheHeader.decode(image.bytes, at), slotCount: 3 });
    expect(() => DaxfsImage.open(new MemoryImage(image.bytes))).toThrow(CorruptImageError);
    image.bytes[at] = 0;
    expect(() => DaxfsImage.open(new MemoryImage(image.bytes))).toThrow(/bad magic/);
  });
});
