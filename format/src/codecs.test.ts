// The three descriptions of the format must agree: the TypeScript codecs, the Kaitai-compiled
// parser of the same .ksy, and the byte table measured from the public C header
// (format/reference-layout.md).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as format from "@daxfs/format";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { type KaitaiModule, KSY_PATH, loadKaitaiParser } from "./kaitai.js";
import { camelCase, type FieldLayout, parseKsy, pascalCase, type StructLayout } from "./ksy-model.js";

const model = parseKsy(readFileSync(KSY_PATH, "utf8"));
const codecs = new Map<string, format.StructCodec<Record<string, unknown>>>(
  format.ALL_STRUCTS.map((codec) => [
    codec.cName,
    codec as unknown as format.StructCodec<Record<string, unknown>>,
  ]),
);
const structByKsyId = new Map(model.structs.map((s) => [s.ksyId, s]));

const LAYOUT_TABLE = fileURLToPath(new URL("../reference-layout.md", import.meta.url));

function arbitraryField(field: FieldLayout): fc.Arbitrary<unknown> {
  if (field.valid !== undefined) return fc.constant(field.valid);
  switch (field.kind) {
    case "uint":
      return field.width === 8
        ? fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
        : fc.nat({ max: 2 ** (field.width! * 8) - 1 });
    case "bytes":
      return fc.uint8Array({ minLength: field.size, maxLength: field.size });
    case "strz":
      // A NUL-terminated ASCII name padded with zeros, as the format stores branch names.
      return fc
        .string({
          unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-_."),
          maxLength: field.size - 1,
        })
        .map((text) => {
          const bytes = new Uint8Array(field.size);
          bytes.set(Buffer.from(text, "ascii"));
          return bytes;
        });
    case "struct":
      return arbitraryStruct(structByKsyId.get(field.structType!)!);
  }
}

function arbitraryStruct(struct: StructLayout): fc.Arbitrary<Record<string, unknown>> {
  return fc.record(Object.fromEntries(struct.fields.map((f) => [f.tsName, arbitraryField(f)])));
}

/** Compares one decoded Kaitai object with the value the TS codec encoded. */
function expectKaitaiEquals(
  struct: StructLayout,
  parsed: KaitaiModule,
  value: Record<string, unknown>,
): void {
  for (const field of struct.fields) {
    const ours = value[field.tsName];
    const theirs = parsed[camelCase(field.ksyId)];
    const where = `${struct.cName}.${field.cName}`;
    switch (field.kind) {
      case "uint":
        // The Kaitai JS runtime reads u8 as a double; compare at that precision.
        expect(theirs, where).toBe(typeof ours === "bigint" ? Number(ours) : ours);
        break;
      case "bytes":
        expect(Buffer.from(theirs as Uint8Array).equals(Buffer.from(ours as Uint8Array)), where).toBe(true);
        break;
      case "strz": {
        const bytes = ours as Uint8Array;
        const end = bytes.indexOf(0);
        expect(theirs, where).toBe(
          Buffer.from(bytes.subarray(0, end < 0 ? bytes.length : end)).toString("ascii"),
        );
        break;
      }
      case "struct":
        expectKaitaiEquals(structByKsyId.get(field.structType!)!, theirs, ours as Record<string, unknown>);
        break;
    }
  }
}

describe("generated TypeScript codecs", () => {
  let kaitai: { Daxfs: KaitaiModule; KaitaiStream: KaitaiModule };
  beforeAll(async () => {
    kaitai = await loadKaitaiParser();
  });

  for (const struct of model.structs) {
    const codec = codecs.get(struct.cName)!;

    it(`${struct.cName}: encode → Kaitai parser and TS decoder agree (${struct.size} bytes)`, () => {
      const KaitaiType = kaitai.Daxfs[pascalCase(struct.ksyId)];
      expect(KaitaiType, `Kaitai type for ${struct.ksyId}`).toBeTypeOf("function");
      fc.assert(
        fc.property(arbitraryStruct(struct), fc.nat({ max: 64 }), (value, at) => {
          const bytes = new Uint8Array(at + struct.size + 16);
          codec.encode(bytes, at, value);
          expect(codec.decode(bytes, at)).toEqual(value);
          const stream = new kaitai.KaitaiStream(bytes.subarray(at, at + struct.size));
          const parsed = new KaitaiType(stream, null, null);
          expect(stream.pos, "Kaitai consumed the whole struct").toBe(struct.size);
          expectKaitaiEquals(struct, parsed, value);
        }),
        { numRuns: 200 },
      );
    });
  }

  it("decode and encode refuse a struct that does not fit", () => {
    const bytes = new Uint8Array(format.DaxfsBranch.size - 1);
    expect(() => format.DaxfsBranch.decode(bytes, 0)).toThrow(RangeError);
    expect(() => format.DaxfsBranch.encode(new Uint8Array(200), 100, format.DaxfsBranch.zero())).toThrow(
      RangeError,
    );
    expect(() =>
      format.DaxfsBranch.encode(new Uint8Array(128), 0, {
        ...format.DaxfsBranch.zero(),
        name: new Uint8Array(3),
      }),
    ).toThrow(/daxfs_branch.name/);
  });
});

describe("sizes and offsets", () => {
  it("equal every row of format/reference-layout.md", () => {
    expect(existsSync(LAYOUT_TABLE), LAYOUT_TABLE).toBe(true);
    const rows = readFileSync(LAYOUT_TABLE, "utf8")
      .split("\n")
      .map((line) => /^\|\s*(sizeof|offsetof)\s*\|\s*(\w+)(?:\.(\w+))?\s*\|\s*(\d+)\s*\|/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null);
    expect(rows.length, "rows read from the table").toBe(78);
    for (const [, what, structName, fieldName, bytes] of rows) {
      const codec = codecs.get(structName!);
      expect(codec, `struct ${structName}`).toBeDefined();
      if (what === "sizeof") {
        expect(codec!.size, `sizeof ${structName}`).toBe(Number(bytes));
      } else {
        const field = codec!.fields.find((f) => f.cName === fieldName);
        expect(field, `${structName}.${fieldName}`).toBeDefined();
        expect(field!.offset, `offsetof ${structName}.${fieldName}`).toBe(Number(bytes));
      }
    }
  });

  it("leave no gap between fields (what C would pad is explicit in the .ksy)", () => {
    for (const codec of codecs.values()) {
      let next = 0;
      for (const field of codec.fields) {
        expect(field.offset, `${codec.cName}.${field.cName}`).toBe(next);
        next += field.size;
      }
      expect(next).toBe(codec.size);
    }
  });
});
