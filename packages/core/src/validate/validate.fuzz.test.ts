// Fuzzing the validator (issue 4): mutate valid images and check that validate never throws,
// finishes within a time bound, keeps its problem cap, and that every image it accepts can be
// walked and read in full through the image model. A failing image is written to fixtures/ (gzip)
// and from then on replayed by the regression test below. CI runs a fixed seed and a modest
// budget; DAXFS_FUZZ_RUNS=N raises the number of runs per seed image.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  DAXFS_BASE_INODE_SIZE,
  DAXFS_DIRENT_STRIDE,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDeltaHdr,
  DaxfsDirent,
  DaxfsSuper,
  DeltaType,
  type StructCodec,
} from "@daxfs/format";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildImage, buildSplitImage } from "../build/index.js";
import { encodeDeltaEntry } from "../delta/entry.js";
import { MemoryImage } from "../image-source.js";
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
import { walkAndReadAll } from "./walk-check.js";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const RUNS = Number(process.env.DAXFS_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.DAXFS_FUZZ_SEED ?? 20261123);
/** Wall-clock bound for one validate of these small images; generous for a loaded CI machine. */
const VALIDATE_BOUND_MS = 2000;
const MAX_PROBLEMS = 50;

/** A field that mutations like to hit: absolute offset and width in bytes. */
interface Field {
  offset: number;
  width: 1 | 2 | 4 | 8;
}

/** A whole on-media record (inode slot, dirent, branch record), for record-sized copies. */
interface Extent {
  offset: number;
  size: number;
}

interface Seed {
  name: string;
  records: Extent[];
  /** Absolute offsets of the used branch records. */
  branchRecords: number[];
  bytes: Uint8Array;
  /** The backing file of a split image. */
  backing?: Uint8Array;
  fields: Field[];
}

function structFields<T>(codec: StructCodec<T>, at: number): Field[] {
  return codec.fields
    .filter((f) => f.kind === "uint" && (f.size === 2 || f.size === 4 || f.size === 8))
    .map((f) => ({ offset: at + f.offset, width: f.size as 2 | 4 | 8 }));
}

/** Every header, inode, dirent, branch record and log-entry field of a valid image. */
function interestingFields(bytes: Uint8Array): Field[] {
  const fields = structFields(DaxfsSuper, 0);
  const sb = DaxfsSuper.decode(bytes, 0);
  const base = Number(sb.baseOffset);
  fields.push(...structFields(DaxfsBaseSuper, base));
  const bsuper = DaxfsBaseSuper.decode(bytes, base);
  for (let ino = 1; ino <= bsuper.inodeCount; ino++) {
    const at = base + Number(bsuper.inodeOffset) + (ino - 1) * DAXFS_BASE_INODE_SIZE;
    fields.push(...structFields(DaxfsBaseInode, at));
    const inode = DaxfsBaseInode.decode(bytes, at);
    if ((inode.mode & 0o170000) === 0o040000) {
      for (let i = 0; i < Number(inode.size) / 271; i++) {
        const entry = base + Number(inode.dataOffset) + i * DAXFS_DIRENT_STRIDE;
        fields.push(...structFields(DaxfsDirent, entry), {
          offset: entry + DaxfsDirent.offsets.name,
          width: 1,
        });
      }
    }
  }
  for (let slot = 0; slot < sb.branchTableEntries && slot < 8; slot++) {
    const at = Number(sb.branchTableOffset) + slot * DaxfsBranch.size;
    fields.push(...structFields(DaxfsBranch, at), { offset: at + DaxfsBranch.offsets.name, width: 1 });
    const record = DaxfsBranch.decode(bytes, at);
    let pos = Number(record.deltaLogOffset);
    const end = pos + Number(record.deltaLogSize);
    while (record.state !== 0 && pos < end) {
      const hdr = DaxfsDeltaHdr.decode(bytes, pos);
      fields.push(...structFields(DaxfsDeltaHdr, pos));
      for (let p = 24; p < Math.min(hdr.totalSize, 56); p += 4) fields.push({ offset: pos + p, width: 4 });
      pos += hdr.totalSize || end;
    }
  }
  return fields;
}

function recordsOf(bytes: Uint8Array): { records: Extent[]; branchRecords: number[] } {
  const records: Extent[] = [];
  const branchRecords: number[] = [];
  const sb = DaxfsSuper.decode(bytes, 0);
  const base = Number(sb.baseOffset);
  const bsuper = DaxfsBaseSuper.decode(bytes, base);
  for (let ino = 1; ino <= bsuper.inodeCount; ino++) {
    const at = base + Number(bsuper.inodeOffset) + (ino - 1) * DAXFS_BASE_INODE_SIZE;
    records.push({ offset: at, size: DAXFS_BASE_INODE_SIZE });
    const inode = DaxfsBaseInode.decode(bytes, at);
    if ((inode.mode & 0o170000) !== 0o040000) continue;
    for (let i = 0; i < Number(inode.size) / 271; i++) {
      records.push({
        offset: base + Number(inode.dataOffset) + i * DAXFS_DIRENT_STRIDE,
        size: DAXFS_DIRENT_STRIDE,
      });
    }
  }
  for (let slot = 0; slot < sb.branchTableEntries; slot++) {
    const at = Number(sb.branchTableOffset) + slot * DaxfsBranch.size;
    if (DaxfsBranch.decode(bytes, at).state === 0) continue;
    records.push({ offset: at, size: DaxfsBranch.size });
    branchRecords.push(at);
  }
  return { records, branchRecords };
}

function seeds(): Seed[] {
  const small = dir({ "a.txt": file("abc"), docs: dir({ x: file("x") }) });
  const list: [string, Uint8Array][] = [
    ["static", buildTestImage(sampleTree())],
    [
      "branches",
      buildTestImage(small, {
        deltaSize: 256 * 1024,
        branches: [
          {
            name: "main",
            id: 1,
            parentId: 0,
            entries: [
              createEntry(DeltaType.CREATE, 1, 5, "n", 0o100644),
              writeEntry(5, 0, new Uint8Array([1, 2])),
            ],
          },
          {
            name: "feature",
            id: 2,
            parentId: 1,
            entries: [
              createEntry(DeltaType.MKDIR, 3, 6, "sub", 0o040755),
              symlinkEntry(6, 7, "ln", "../a.txt"),
              renameEntry(1, 6, 2, "a.txt", "b.txt"),
            ],
          },
          {
            name: "other",
            id: 3,
            parentId: 1,
            // Encoded by the library's own writer, to fuzz what it writes too.
            entries: [
              encodeDeltaEntry({ type: DeltaType.TRUNCATE, ino: 5, newSize: 9000 }),
              encodeDeltaEntry({
                type: DeltaType.SETATTR,
                ino: 4,
                mode: 0o100600,
                uid: 7,
                gid: 8,
                valid: 7,
                size: 0,
              }),
              encodeDeltaEntry({
                type: DeltaType.WRITE,
                ino: 5,
                fileOffset: 5000,
                data: new Uint8Array([1, 2, 3]),
              }),
              deleteEntry(1, 5, "n"),
            ],
          },
          { name: "", id: 4, parentId: 2, state: 3 },
        ],
      }),
    ],
    ["mkdaxfs-static", buildImage(sampleTree())],
    ["mkdaxfs-branching", buildImage(sampleTree(), { branching: true, deltaSize: 1 << 20 })],
  ];
  const split = buildSplitImage(small, { split: { pcacheSlots: 4 }, deltaSize: 1 << 20 });
  const all: Seed[] = list.map(([name, bytes]) => ({
    name,
    bytes,
    fields: interestingFields(bytes),
    ...recordsOf(bytes),
  }));
  all.push({
    name: "mkdaxfs-split",
    bytes: split.image,
    backing: split.backing,
    fields: interestingFields(split.image),
    ...recordsOf(split.image),
  });
  for (const seed of all) {
    expect(
      validate(new MemoryImage(seed.bytes), { backingSize: seed.backing?.length }).problems,
      `seed ${seed.name} is valid`,
    ).toEqual([]);
  }
  return all;
}

type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "field"; field: number; value: bigint }
  | { kind: "truncate"; at: number }
  | { kind: "splice"; from: number; to: number; length: number }
  | { kind: "copyField"; from: number; to: number }
  | { kind: "copyRecord"; from: number; to: number }
  | { kind: "reparent"; child: number; parent: number };

const BOUNDARY = [
  0n,
  1n,
  2n,
  0x7fn,
  0xffn,
  271n,
  272n,
  4095n,
  4096n,
  4097n,
  0xffffn,
  0x7fffffffn,
  0xffffffffn,
  1n << 32n,
  (1n << 53n) + 1n,
  (1n << 63n) - 1n,
  (1n << 64n) - 1n,
];

function mutationArb(seed: Seed): fc.Arbitrary<Mutation> {
  const size = seed.bytes.length;
  const fieldIndex = fc.nat(seed.fields.length - 1);
  // Positions favour metadata: the first 64 KiB hold every header of these images.
  const position = fc.oneof(fc.nat(Math.min(size, 65536) - 1), fc.nat(size - 1));
  const value = fc.oneof(
    fc.constantFrom(...BOUNDARY),
    fc.constantFrom(BigInt(size), BigInt(size + 1), BigInt(size - 1)),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.nat(300).map(BigInt),
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant("flip" as const), at: position, bit: fc.nat(7) }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant("field" as const), field: fieldIndex, value }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: fc.nat(size) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("splice" as const),
        from: position,
        to: position,
        length: fc.integer({ min: 1, max: 8192 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("copyField" as const), from: fieldIndex, to: fieldIndex }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("copyRecord" as const),
        from: fc.nat(seed.records.length - 1),
        to: fc.nat(seed.records.length - 1),
      }),
    },
    ...(seed.branchRecords.length > 0
      ? [
          {
            weight: 1,
            arbitrary: fc.record({
              kind: fc.constant("reparent" as const),
              child: fc.nat(seed.branchRecords.length - 1),
              parent: fc.nat(seed.branchRecords.length - 1),
            }),
          },
        ]
      : []),
  );
}

function readField(bytes: Uint8Array, field: Field): bigint {
  let value = 0n;
  for (let i = field.width - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[field.offset + i] ?? 0);
  return value;
}

function writeField(bytes: Uint8Array, field: Field, value: bigint): void {
  for (let i = 0; i < field.width && field.offset + i < bytes.length; i++)
    bytes[field.offset + i] = Number((value >> BigInt(8 * i)) & 0xffn);
}

function mutate(seed: Seed, mutations: Mutation[]): Uint8Array {
  let bytes = seed.bytes.slice();
  for (const m of mutations) {
    switch (m.kind) {
      case "flip":
        if (m.at < bytes.length) bytes[m.at]! ^= 1 << m.bit;
        break;
      case "field":
        writeField(bytes, seed.fields[m.field]!, m.value);
        break;
      case "truncate":
        bytes = bytes.slice(0, m.at);
        break;
      case "splice": {
        const length = Math.min(m.length, bytes.length - m.from, bytes.length - m.to);
        if (length > 0) bytes.copyWithin(m.to, m.from, m.from + length);
        break;
      }
      case "copyRecord": {
        // Same-kind records copied onto each other: duplicate names, shared children, duplicate branch ids...
        const from = seed.records[m.from]!;
        const to = seed.records[m.to]!;
        if (
          from.size === to.size &&
          from.offset + from.size <= bytes.length &&
          to.offset + to.size <= bytes.length
        ) {
          bytes.copyWithin(to.offset, from.offset, from.offset + from.size);
        }
        break;
      }
      case "reparent": {
        // A branch's parent set to another (or itself): parent cycles, live children of dead parents.
        const child = seed.branchRecords[m.child]! + DaxfsBranch.offsets.parentId;
        const parentId = seed.branchRecords[m.parent]! + DaxfsBranch.offsets.branchId;
        if (child + 8 <= bytes.length && parentId + 8 <= bytes.length)
          bytes.copyWithin(child, parentId, parentId + 8);
        break;
      }
      case "copyField": {
        // Duplicate names, parent ids pointing at each other, shared data offsets...
        const from = seed.fields[m.from]!;
        const to = seed.fields[m.to]!;
        if (from.width === to.width) writeField(bytes, to, readField(bytes, from));
        break;
      }
    }
  }
  return bytes;
}

function saveFixture(bytes: Uint8Array, why: string): string {
  mkdirSync(FIXTURES, { recursive: true });
  const name = `fuzz-${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.bin.gz`;
  writeFileSync(new URL(name, FIXTURES), gzipSync(bytes));
  writeFileSync(new URL(`${name}.txt`, FIXTURES), `${why}\n`);
  return name;
}

/**
 * The properties every image must satisfy; throws (after saving the image) when one fails.
 * Returns whether validate accepted the image.
 */
function checkImage(bytes: Uint8Array, save: boolean, backing?: Uint8Array): boolean {
  try {
    const started = performance.now();
    const report = validate(new MemoryImage(bytes, false), {
      maxProblems: MAX_PROBLEMS,
      backingSize: backing?.length,
    });
    const elapsed = performance.now() - started;
    if (elapsed > VALIDATE_BOUND_MS) throw new Error(`validate took ${elapsed.toFixed(0)} ms`);
    if (report.problems.length > MAX_PROBLEMS) throw new Error("problem cap exceeded");
    if (report.problems.length === 0)
      walkAndReadAll(new MemoryImage(bytes, false), backing && new MemoryImage(backing, false));
    return report.problems.length === 0;
  } catch (error) {
    if (save) {
      const name = saveFixture(
        bytes,
        error instanceof Error ? (error.stack ?? error.message) : String(error),
      );
      throw new Error(`${(error as Error).message} (image saved as fixtures/${name})`);
    }
    throw error;
  }
}

describe("validate fuzzing", () => {
  const all = seeds();
  for (const seed of all) {
    it(`mutated ${seed.name} images: validate never throws, is bounded, and accepted images read fully`, () => {
      // A validator that refused every image, or found nothing wrong in any, must fail here.
      const verdicts = { accepted: 0, refused: 0 };
      fc.assert(
        fc.property(fc.array(mutationArb(seed), { minLength: 1, maxLength: 4 }), (mutations) => {
          if (checkImage(mutate(seed, mutations), true, seed.backing)) verdicts.accepted++;
          else verdicts.refused++;
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      expect(verdicts.accepted).toBeGreaterThan(0);
      expect(verdicts.refused).toBeGreaterThan(0);
    });
  }

  it("replays every saved fixture", () => {
    let files: string[] = [];
    try {
      files = readdirSync(FIXTURES).filter((f) => f.endsWith(".bin.gz"));
    } catch {
      files = [];
    }
    for (const name of files) checkImage(gunzipSync(readFileSync(new URL(name, FIXTURES))), false);
    // The seeds themselves are accepted and readable.
    for (const seed of all) expect(checkImage(seed.bytes, false, seed.backing), seed.name).toBe(true);
  });
});
