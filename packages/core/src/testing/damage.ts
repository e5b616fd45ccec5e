// Damaged images for fuzzing (issue 4, issue 9 item 8): a seed image's interesting fields and
// records, a fast-check arbitrary of mutations (bit flips, boundary values in fields, truncation,
// splices, copied fields and records, re-parented branches) and their application. Shared by the
// validator's fuzz test and the kernel agreement test, which boots its damaged images in a guest.
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
import { buildImage, buildSplitImage } from "../build/index.js";
import { encodeDeltaEntry } from "../delta/entry.js";
import {
  buildTestImageWithLogs as buildTestImage,
  createEntry,
  deleteEntry,
  renameEntry,
  symlinkEntry,
  writeEntry,
} from "./raw-log.js";

import { testDir as dir, testFile as file, sampleTree } from "./tree.js";

/** A field that mutations like to hit: absolute offset and width in bytes. */
export interface Field {
  offset: number;
  width: 1 | 2 | 4 | 8;
}

/** A whole on-media record (inode slot, dirent, branch record), for record-sized copies. */
export interface Extent {
  offset: number;
  size: number;
}

export interface Seed {
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
export function interestingFields(bytes: Uint8Array): Field[] {
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

export function recordsOf(bytes: Uint8Array): { records: Extent[]; branchRecords: number[] } {
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

export type Mutation =
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

export function mutationArb(seed: Seed): fc.Arbitrary<Mutation> {
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

export function mutate(seed: Seed, mutations: Mutation[]): Uint8Array {
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

/** A seed for the mutators: a valid image with its fields and records found. */
export function damageSeed(name: string, bytes: Uint8Array, backing?: Uint8Array): Seed {
  return { name, bytes, backing, fields: interestingFields(bytes), ...recordsOf(bytes) };
}

/**
 * A seed whose mutations hit only the branching metadata: superblock, branch records and log
 * entries (the rules the kernel's `validate` shares with this validator beyond the base). Bit flips
 * and splices still land anywhere in the first 64 KiB.
 */
export function branchingDamageSeed(name: string, bytes: Uint8Array): Seed {
  const sb = DaxfsSuper.decode(bytes, 0);
  const table = Number(sb.branchTableOffset);
  const tableEnd = table + sb.branchTableEntries * DaxfsBranch.size;
  const delta = Number(sb.deltaRegionOffset);
  const deltaEnd = delta + Number(sb.deltaRegionSize);
  const branching = (offset: number) =>
    offset < DaxfsSuper.size ||
    (offset >= table && offset < tableEnd) ||
    (offset >= delta && offset < deltaEnd);
  const { records, branchRecords } = recordsOf(bytes);
  return {
    name,
    bytes,
    fields: interestingFields(bytes).filter((f) => branching(f.offset)),
    records: records.filter((r) => branching(r.offset)),
    branchRecords,
  };
}

/**
 * `count` damaged images, round-robin over the seeds, reproducible from `seed` (fast-check's
 * sampler with a fixed seed): the same list on every run and machine.
 */
export function damagedImages(
  seeds: Seed[],
  count: number,
  seed: number,
): { name: string; seed: string; bytes: Uint8Array }[] {
  const perSeed = Math.ceil(count / seeds.length);
  const samples = seeds.map((s, i) =>
    fc.sample(fc.array(mutationArb(s), { minLength: 1, maxLength: 4 }), {
      seed: seed + i,
      numRuns: perSeed,
    }),
  );
  const out: { name: string; seed: string; bytes: Uint8Array }[] = [];
  for (let i = 0; i < count; i++) {
    const s = seeds[i % seeds.length]!;
    const mutations = samples[i % seeds.length]![Math.floor(i / seeds.length)]!;
    out.push({ name: `dmg${i}`, seed: s.name, bytes: mutate(s, mutations) });
  }
  return out;
}

/** The fuzz seeds: static and branching images of the test builder and of mkdaxfs, and a split image. */
export function fuzzSeedImages(): { name: string; bytes: Uint8Array; backing?: Uint8Array }[] {
  const small = dir({ "a.txt": file("abc"), docs: dir({ x: file("x") }) });
  const list: { name: string; bytes: Uint8Array; backing?: Uint8Array }[] = [
    { name: "static", bytes: buildTestImage(sampleTree()) },
    {
      name: "branches",
      bytes: buildTestImage(small, {
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
    },
    { name: "mkdaxfs-static", bytes: buildImage(sampleTree()) },
    {
      name: "mkdaxfs-branching",
      bytes: buildImage(sampleTree(), { branching: true, deltaSize: 1 << 20 }),
    },
  ];
  const split = buildSplitImage(small, { split: { pcacheSlots: 4 }, deltaSize: 1 << 20 });
  list.push({ name: "mkdaxfs-split", bytes: split.image, backing: split.backing });
  return list;
}
