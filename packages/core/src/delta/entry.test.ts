import {
  DaxfsDeltaCreate,
  DaxfsDeltaHdr,
  DaxfsDeltaRename,
  DaxfsDeltaSymlink,
  DaxfsDeltaWrite,
  DeltaType,
} from "@daxfs/format";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CorruptImageError, DaxfsError } from "../errors.js";
import { MemoryImage } from "../image-source.js";
import {
  type DeltaEntry,
  decodeDeltaLog,
  decodeDeltaRange,
  encodeDeltaEntry,
  type NewDeltaEntry,
  writeDataPadding,
} from "./entry.js";

/** Lays entries out back to back at absolute offset `base` of a fresh buffer. */
function layOut(
  entries: NewDeltaEntry[],
  base = 4096,
  alignData = false,
): { image: MemoryImage; size: number } {
  const parts: Uint8Array[] = [];
  let cursor = base;
  for (const entry of entries) {
    const bytes = encodeDeltaEntry(entry, { absoluteOffset: cursor, alignData });
    parts.push(bytes);
    cursor += bytes.length;
  }
  const image = new Uint8Array(cursor + 64);
  let at = base;
  for (const part of parts) {
    image.set(part, at);
    at += part.length;
  }
  return { image: new MemoryImage(image), size: cursor - base };
}

/** The fields of a decoded entry that its encoder took, for round-trip comparison. */
function asNew(entry: DeltaEntry, image: MemoryImage): NewDeltaEntry {
  const { offset, totalSize, ...rest } = entry;
  if (rest.type === DeltaType.WRITE) {
    const { length, dataOffset, ...write } = rest;
    return { ...write, data: image.read(dataOffset, length).slice() };
  }
  return rest;
}

const sample: NewDeltaEntry[] = [
  {
    type: DeltaType.CREATE,
    ino: 7,
    timestamp: 5n,
    parentIno: 1,
    newIno: 7,
    mode: 0o100644,
    uid: 1,
    gid: 2,
    name: "a.txt",
  },
  { type: DeltaType.WRITE, ino: 7, timestamp: 6n, fileOffset: 3, data: new Uint8Array([1, 2, 3]), flags: 0 },
  {
    type: DeltaType.MKDIR,
    ino: 8,
    timestamp: 7n,
    parentIno: 1,
    newIno: 8,
    mode: 0o40755,
    uid: 0,
    gid: 0,
    name: "d",
  },
  { type: DeltaType.TRUNCATE, ino: 7, timestamp: 8n, newSize: 1 },
  {
    type: DeltaType.RENAME,
    ino: 7,
    timestamp: 9n,
    oldParentIno: 1,
    newParentIno: 8,
    renamedIno: 7,
    oldName: "a.txt",
    newName: "b",
  },
  { type: DeltaType.SETATTR, ino: 7, timestamp: 10n, mode: 0o600, uid: 0, gid: 0, valid: 1, size: 0 },
  {
    type: DeltaType.SYMLINK,
    ino: 9,
    timestamp: 11n,
    parentIno: 1,
    newIno: 9,
    uid: 3,
    gid: 4,
    name: "ln",
    target: "d/b",
  },
  { type: DeltaType.DELETE, ino: 9, timestamp: 12n, parentIno: 1, name: "ln" },
];

describe("encodeDeltaEntry", () => {
  it("places trailing bytes after the payload struct, SYMLINK name at entry offset 56 with a NUL after the target", () => {
    const bytes = encodeDeltaEntry({
      type: DeltaType.SYMLINK,
      ino: 9,
      parentIno: 1,
      newIno: 9,
      uid: 0,
      gid: 0,
      name: "ln",
      target: "xyz",
    });
    expect(bytes.length).toBe(57 + 2 + 3);
    expect(DaxfsDeltaHdr.decode(bytes).totalSize).toBe(bytes.length);
    expect(DaxfsDeltaSymlink.decode(bytes, 24)).toMatchObject({ nameLen: 2, targetLen: 3 });
    expect(new TextDecoder().decode(bytes.subarray(56, 61))).toBe("lnxyz");
    expect(bytes[61]).toBe(0);
  });

  it("writes CREATE and RENAME names at entry offset 56", () => {
    const create = encodeDeltaEntry(sample[0] as NewDeltaEntry);
    expect(create.length).toBe(56 + 5);
    expect(DaxfsDeltaCreate.decode(create, 24)).toMatchObject({
      parentIno: 1n,
      newIno: 7n,
      mode: 0o100644,
      nameLen: 5,
    });
    expect(new TextDecoder().decode(create.subarray(56))).toBe("a.txt");
    const rename = encodeDeltaEntry(sample[4] as NewDeltaEntry);
    expect(DaxfsDeltaRename.decode(rename, 24)).toMatchObject({ oldNameLen: 5, newNameLen: 1, ino: 7n });
    expect(new TextDecoder().decode(rename.subarray(56))).toBe("a.txtb");
  });

  it("page-aligns WRITE data on request and the decoder finds it as the last len bytes", () => {
    const data = new Uint8Array(4096).fill(0xab);
    const at = 4096 + 100;
    const bytes = encodeDeltaEntry(
      { type: DeltaType.WRITE, ino: 2, fileOffset: 8192, data },
      { absoluteOffset: at, alignData: true },
    );
    const padding = writeDataPadding(at);
    expect((at + 40 + padding) % 4096).toBe(0);
    expect(bytes.length).toBe(40 + padding + 4096);
    expect(DaxfsDeltaWrite.decode(bytes, 24)).toMatchObject({ offset: 8192n, len: 4096 });
    const image = new Uint8Array(at + bytes.length);
    image.set(bytes, at);
    const [entry] = decodeDeltaLog(new MemoryImage(image), at, bytes.length);
    expect(entry).toMatchObject({ type: DeltaType.WRITE, length: 4096, dataOffset: at + 40 + padding });
  });

  it("rejects invalid names with a typed error", () => {
    const base = {
      type: DeltaType.CREATE,
      ino: 7,
      parentIno: 1,
      newIno: 7,
      mode: 0o100644,
      uid: 0,
      gid: 0,
    } as const;
    for (const [name, code] of [
      ["", "EINVAL"],
      ["a/b", "EINVAL"],
      ["..", "EINVAL"],
      ["x".repeat(256), "ENAMETOOLONG"],
    ] as const) {
      expect(() => encodeDeltaEntry({ ...base, name })).toThrow(expect.objectContaining({ code }));
    }
  });
});

describe("decodeDeltaLog", () => {
  it("decodes every entry type with absolute offsets", () => {
    const { image, size } = layOut(sample);
    const entries = decodeDeltaLog(image, 4096, size);
    expect(entries.map((entry) => asNew(entry, image))).toEqual(sample);
    expect(entries[0]?.offset).toBe(4096);
    expect(entries[1]?.offset).toBe(4096 + (entries[0]?.totalSize ?? 0));
  });

  it("stops at an entry with total_size 0", () => {
    const { image, size } = layOut(sample.slice(0, 2));
    const entries = decodeDeltaLog(image, 4096, size + 48);
    expect(entries).toHaveLength(2);
  });

  const corruptions: [string, (bytes: Uint8Array, entry: number) => void, RegExp][] = [
    [
      "total_size below the header",
      (b, e) => DaxfsDeltaHdr.encode(b, e, { ...DaxfsDeltaHdr.decode(b, e), totalSize: 12 }),
      /smaller than its header/,
    ],
    [
      "total_size past the log",
      (b, e) => DaxfsDeltaHdr.encode(b, e, { ...DaxfsDeltaHdr.decode(b, e), totalSize: 100000 }),
      /past the log end/,
    ],
    [
      "unknown type",
      (b, e) => DaxfsDeltaHdr.encode(b, e, { ...DaxfsDeltaHdr.decode(b, e), type: 99 }),
      /unknown type 99/,
    ],
    [
      "below the type minimum",
      (b, e) => DaxfsDeltaHdr.encode(b, e, { ...DaxfsDeltaHdr.decode(b, e), totalSize: 40 }),
      /below the minimum 56/,
    ],
    [
      "name past total_size",
      (b, e) => DaxfsDeltaCreate.encode(b, e + 24, { ...DaxfsDeltaCreate.decode(b, e + 24), nameLen: 200 }),
      /too small/,
    ],
    [
      "empty name",
      (b, e) => DaxfsDeltaCreate.encode(b, e + 24, { ...DaxfsDeltaCreate.decode(b, e + 24), nameLen: 0 }),
      /name is empty/,
    ],
    ["slash in name", (b, e) => b.set([0x2f], e + 57), /contains '\/'/],
    ["NUL in name", (b, e) => b.set([0], e + 56), /NUL/],
    [
      "inode 0",
      (b, e) => DaxfsDeltaCreate.encode(b, e + 24, { ...DaxfsDeltaCreate.decode(b, e + 24), parentIno: 0n }),
      /parent inode is 0/,
    ],
    [
      "header inode differs",
      (b, e) => DaxfsDeltaHdr.encode(b, e, { ...DaxfsDeltaHdr.decode(b, e), ino: 99n }),
      /differs/,
    ],
    [
      "huge u64",
      (b, e) =>
        DaxfsDeltaCreate.encode(b, e + 24, { ...DaxfsDeltaCreate.decode(b, e + 24), parentIno: 1n << 60n }),
      /too large/,
    ],
  ];
  for (const [what, corrupt, message] of corruptions) {
    it(`rejects ${what} with CorruptImageError at the entry offset`, () => {
      const { image, size } = layOut([sample[1] as NewDeltaEntry, sample[0] as NewDeltaEntry]);
      const second = 4096 + encodeDeltaEntry(sample[1] as NewDeltaEntry).length;
      corrupt(image.bytes, second);
      let error: unknown;
      try {
        decodeDeltaLog(image, 4096, size);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(CorruptImageError);
      expect((error as CorruptImageError).offset).toBe(second);
      expect((error as Error).message).toMatch(message);
    });
  }

  it("rejects a WRITE whose data does not fit, a symlink without its NUL, and bad setattr bits", () => {
    const write = encodeDeltaEntry(sample[1] as NewDeltaEntry);
    DaxfsDeltaWrite.encode(write, 24, { offset: 0n, len: 4, flags: 0 });
    const symlink = encodeDeltaEntry(sample[6] as NewDeltaEntry);
    symlink[symlink.length - 1] = 0x41;
    const setattr = encodeDeltaEntry({
      ...(sample[5] as NewDeltaEntry & { type: DeltaType.SETATTR }),
      valid: 0x10,
    });
    for (const [bytes, message] of [
      [write, /do not fit/],
      [symlink, /NUL-terminated/],
      [setattr, /unknown valid bits/],
    ] as const) {
      const image = new MemoryImage(bytes.slice());
      expect(() => decodeDeltaLog(image, 0, bytes.length)).toThrow(message);
    }
  });

  it("rejects a log outside its region or the image, and a short tail", () => {
    const { image, size } = layOut(sample.slice(0, 1));
    expect(() => decodeDeltaLog(image, 4096, size, { offset: 8192, size: 4096 })).toThrow(CorruptImageError);
    expect(() => decodeDeltaLog(image, 4096, size + 1_000_000)).toThrow(/past the image end/);
    image.bytes.fill(1, 4096 + size, 4096 + size + 10);
    expect(() => decodeDeltaLog(image, 4096, size + 10)).toThrow(/too short for an entry header/);
  });

  it("reads headers, not WRITE data: a log of large writes is not read through", () => {
    const big = new Uint8Array(1 << 20).fill(9);
    const entries: NewDeltaEntry[] = [0, 1, 2, 3].map((i) => ({
      type: DeltaType.WRITE,
      ino: 2,
      fileOffset: i << 20,
      data: big,
    }));
    const { image, size } = layOut(entries, 0);
    let bytesRead = 0;
    const counting = Object.assign(Object.create(image) as MemoryImage, {
      read(offset: number, length: number) {
        bytesRead += length;
        return image.read(offset, length);
      },
    });
    const decoded = decodeDeltaLog(counting, 0, size);
    expect(decoded.map((e) => e.type === DeltaType.WRITE && e.length)).toEqual([
      1 << 20,
      1 << 20,
      1 << 20,
      1 << 20,
    ]);
    expect(bytesRead).toBeLessThan(64 * 1024 + 3 * 4096 + 1);
  });

  it("never throws anything but CorruptImageError on random bytes, and tells damage from none", () => {
    // A decoder that rejected every log, or accepted any bytes as entries, must fail here: the
    // undamaged log decodes to the sample, decoded entries tile the log up to where it ends (its
    // size, or a header with total_size 0, SPEC 1.5), and the runs see both outcomes.
    let decodedLogs = 0;
    let rejectedLogs = 0;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 400 }),
        fc.array(fc.nat(399), { maxLength: 8 }),
        (noise, holes) => {
          const { image, size } = layOut(sample, 0);
          for (const [i, hole] of holes.entries()) image.bytes[hole % size] = noise[i] ?? 0;
          try {
            const { entries, end } = decodeDeltaRange(image, 0, 0, size);
            decodedLogs++;
            let next = 0;
            for (const entry of entries) {
              expect(entry.offset).toBe(next);
              next += entry.totalSize;
            }
            expect(next).toBe(end);
            if (end < size) expect(DaxfsDeltaHdr.decode(image.bytes, end).totalSize).toBe(0);
            if (holes.length === 0) expect(entries.map((e) => e.type)).toEqual(sample.map((e) => e.type));
          } catch (error) {
            if (!(error instanceof CorruptImageError)) throw error;
            expect(holes.length).toBeGreaterThan(0);
            rejectedLogs++;
          }
        },
      ),
    );
    expect(decodedLogs).toBeGreaterThan(0);
    expect(rejectedLogs).toBeGreaterThan(0);
  });
});

const nameArb = fc
  .uint8Array({ minLength: 1, maxLength: 255 })
  .map((bytes) => String.fromCharCode(...bytes.map((b) => 0x61 + (b % 26))))
  .filter((name) => name.length > 0);
const inoArb = fc.integer({ min: 1, max: 2 ** 40 });
const u32Arb = fc.nat({ max: 0xffff_ffff });

const entryArb: fc.Arbitrary<NewDeltaEntry> = fc.oneof(
  fc.record({
    type: fc.constant(DeltaType.WRITE as const),
    ino: inoArb,
    timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    fileOffset: fc.nat({ max: 2 ** 40 }),
    data: fc.uint8Array({ maxLength: 300 }),
    flags: fc.constant(0),
  }),
  inoArb.chain((ino) =>
    fc.record({
      type: fc.constantFrom(DeltaType.CREATE as const, DeltaType.MKDIR as const),
      ino: fc.constant(ino),
      timestamp: fc.bigInt({ min: 0n, max: 100n }),
      parentIno: inoArb,
      newIno: fc.constant(ino),
      mode: u32Arb,
      uid: u32Arb,
      gid: u32Arb,
      name: nameArb,
    }),
  ),
  fc.record({
    type: fc.constant(DeltaType.DELETE as const),
    ino: inoArb,
    timestamp: fc.bigInt({ min: 0n, max: 100n }),
    parentIno: inoArb,
    name: nameArb,
  }),
  fc.record({
    type: fc.constant(DeltaType.TRUNCATE as const),
    ino: inoArb,
    timestamp: fc.bigInt({ min: 0n, max: 100n }),
    newSize: fc.nat({ max: 2 ** 50 }),
  }),
  inoArb.chain((ino) =>
    fc.record({
      type: fc.constant(DeltaType.RENAME as const),
      ino: fc.constant(ino),
      timestamp: fc.bigInt({ min: 0n, max: 100n }),
      oldParentIno: inoArb,
      newParentIno: inoArb,
      renamedIno: fc.constant(ino),
      oldName: nameArb,
      newName: nameArb,
    }),
  ),
  fc.record({
    type: fc.constant(DeltaType.SETATTR as const),
    ino: inoArb,
    timestamp: fc.bigInt({ min: 0n, max: 100n }),
    mode: u32Arb,
    uid: u32Arb,
    gid: u32Arb,
    valid: fc.nat(15),
    size: fc.nat({ max: 2 ** 50 }),
  }),
  inoArb.chain((ino) =>
    fc.record({
      type: fc.constant(DeltaType.SYMLINK as const),
      ino: fc.constant(ino),
      timestamp: fc.bigInt({ min: 0n, max: 100n }),
      parentIno: inoArb,
      newIno: fc.constant(ino),
      uid: u32Arb,
      gid: u32Arb,
      name: nameArb,
      target: fc
        .string({ minLength: 1, maxLength: 100 })
        .filter((t) => !t.includes("\0"))
        .map((t) => t.replace(/[\ud800-\udfff]/g, "x")),
    }),
  ),
);

describe("round trip", () => {
  it("decode(encode(entries)) gives the entries back, with or without aligned data", () => {
    fc.assert(
      fc.property(
        fc.array(entryArb, { maxLength: 12 }),
        fc.nat(8191),
        fc.boolean(),
        (entries, base, alignData) => {
          const { image, size } = layOut(entries, base, alignData);
          const decoded = decodeDeltaLog(image, base, size);
          expect(decoded.map((entry) => asNew(entry, image))).toEqual(
            entries.map((entry) => ({ timestamp: 0n, ...entry })),
          );
        },
      ),
    );
  });

  it("encode refuses values that do not fit their fields", () => {
    expect(() =>
      encodeDeltaEntry({ type: DeltaType.SETATTR, ino: 1, mode: -1, uid: 0, gid: 0, valid: 1, size: 0 }),
    ).toThrow(DaxfsError);
    expect(() => encodeDeltaEntry({ type: DeltaType.TRUNCATE, ino: 0.5, newSize: 0 })).toThrow(DaxfsError);
  });
});
