// Emits the TypeScript codecs: one interface and one codec object of the same name per C struct,
// with straight-line DataView code (no layout interpreted at run time) and the enums and constants.
import { type FieldLayout, type FormatModel, pascalCase, type StructLayout } from "./ksy-model.js";

function tsType(field: FieldLayout, structs: Map<string, StructLayout>): string {
  switch (field.kind) {
    case "uint":
      return field.width === 8 ? "bigint" : "number";
    case "bytes":
    case "strz":
      return "Uint8Array";
    case "struct":
      return structs.get(field.structType!)!.tsName;
  }
}

const GETTERS = { 1: "getUint8", 2: "getUint16", 4: "getUint32", 8: "getBigUint64" } as const;
const SETTERS = { 1: "setUint8", 2: "setUint16", 4: "setUint32", 8: "setBigUint64" } as const;

function decodeExpr(field: FieldLayout, structs: Map<string, StructLayout>): string {
  const at = `offset + ${field.offset}`;
  switch (field.kind) {
    case "uint":
      return field.width === 1 ? `view.getUint8(${at})` : `view.${GETTERS[field.width!]}(${at}, true)`;
    case "bytes":
    case "strz":
      return `copyBytes(bytes, ${at}, ${field.size})`;
    case "struct":
      return `${structs.get(field.structType!)!.tsName}.decode(bytes, ${at})`;
  }
}

function encodeStatement(
  struct: StructLayout,
  field: FieldLayout,
  structs: Map<string, StructLayout>,
): string {
  const at = `offset + ${field.offset}`;
  const value = `value.${field.tsName}`;
  switch (field.kind) {
    case "uint":
      return field.width === 1
        ? `view.setUint8(${at}, ${value});`
        : `view.${SETTERS[field.width!]}(${at}, ${value}, true);`;
    case "bytes":
    case "strz":
      return `putBytes(bytes, ${at}, ${value}, ${field.size}, "${struct.cName}.${field.cName}");`;
    case "struct":
      return `${structs.get(field.structType!)!.tsName}.encode(bytes, ${at}, ${value});`;
  }
}

function zeroExpr(field: FieldLayout, structs: Map<string, StructLayout>): string {
  switch (field.kind) {
    case "uint":
      return field.width === 8 ? "0n" : "0";
    case "bytes":
    case "strz":
      return `new Uint8Array(${field.size})`;
    case "struct":
      return `${structs.get(field.structType!)!.tsName}.zero()`;
  }
}

function literal({ value, hex }: { value: number; hex: boolean }): string {
  return hex ? `0x${value.toString(16)}` : String(value);
}

function jsDoc(text: string, indent: string): string[] {
  return text ? [`${indent}/** ${text.replace(/\*\//g, "* /")} */`] : [];
}

const PRELUDE = `/** One field of a generated struct: where it sits and what it is. */
export interface FieldInfo {
  /** TypeScript property name (camelCase of the C name). */
  readonly name: string;
  /** Field name in daxfs_format.h. */
  readonly cName: string;
  /** Field id in format/daxfs.ksy (the Kaitai parser's name, in camelCase). */
  readonly ksyId: string;
  readonly offset: number;
  readonly size: number;
  readonly kind: "uint" | "bytes" | "strz" | "struct";
}

/** Decode/encode of one fixed-size on-media struct at a byte offset. */
export interface StructCodec<T> {
  readonly cName: string;
  readonly ksyId: string;
  readonly size: number;
  readonly fields: readonly FieldInfo[];
  /** Byte offset of every field, for updating one field in place. */
  readonly offsets: { readonly [K in keyof T]: number };
  /** Reads the struct at \`offset\`; throws RangeError if it does not fit in \`bytes\`. */
  decode(bytes: Uint8Array, offset?: number): T;
  /** Writes the struct at \`offset\`; throws RangeError if it does not fit or an array has the wrong length. */
  encode(bytes: Uint8Array, offset: number, value: T): void;
  /** A value with every field zero. */
  zero(): T;
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkFits(bytes: Uint8Array, offset: number, size: number, what: string): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > bytes.length) {
    throw new RangeError(\`\${what}: \${size} bytes at offset \${offset} do not fit in \${bytes.length}\`);
  }
}

// Buffer#slice returns a view; a decoded struct owns its arrays.
function copyBytes(bytes: Uint8Array, offset: number, length: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, offset, offset + length);
}

function putBytes(bytes: Uint8Array, offset: number, value: Uint8Array, length: number, what: string): void {
  if (value.length !== length) throw new RangeError(\`\${what}: expected \${length} bytes, got \${value.length}\`);
  bytes.set(value, offset);
}
`;

export function emitTypeScript(model: FormatModel): string {
  const structs = new Map(model.structs.map((s) => [s.ksyId, s]));
  const out: string[] = [
    `// SPDX-License-Identifier: ${model.license}`,
    `// ${model.title}: codecs, enums and constants.`,
    "// Generated from format/daxfs.ksy by format/src/cli.ts. Do not edit; run `pnpm gen`.",
    "",
    PRELUDE,
  ];

  for (const constant of model.constants) {
    out.push(...jsDoc(constant.doc, ""));
    out.push(`export const DAXFS_${constant.name.toUpperCase()} = ${literal(constant)};`);
  }
  out.push("");

  for (const enumModel of model.enums) {
    out.push(`export enum ${pascalCase(enumModel.ksyId)} {`);
    for (const member of enumModel.members) out.push(`  ${member.name.toUpperCase()} = ${literal(member)},`);
    out.push("}", "");
  }

  // Nested structs are emitted before the structs that contain them (the model's order).
  for (const struct of model.structs) {
    const name = struct.tsName;
    out.push(...jsDoc(struct.doc, ""));
    out.push(`export interface ${name} {`);
    for (const field of struct.fields) {
      out.push(...jsDoc(field.doc, "  "));
      out.push(`  ${field.tsName}: ${tsType(field, structs)};`);
    }
    out.push("}", "");
    out.push(`export const ${name}: StructCodec<${name}> = {`);
    out.push(`  cName: "${struct.cName}",`, `  ksyId: "${struct.ksyId}",`, `  size: ${struct.size},`);
    out.push("  fields: [");
    for (const f of struct.fields) {
      out.push(
        `    { name: "${f.tsName}", cName: "${f.cName}", ksyId: "${f.ksyId}", offset: ${f.offset}, size: ${f.size}, kind: "${f.kind}" },`,
      );
    }
    out.push("  ],");
    out.push(`  offsets: { ${struct.fields.map((f) => `${f.tsName}: ${f.offset}`).join(", ")} },`);
    out.push("  decode(bytes: Uint8Array, offset = 0) {");
    out.push(`    checkFits(bytes, offset, ${struct.size}, "${struct.cName}");`);
    if (struct.fields.some((f) => f.kind === "uint")) out.push("    const view = dataView(bytes);");
    out.push("    return {");
    for (const field of struct.fields) out.push(`      ${field.tsName}: ${decodeExpr(field, structs)},`);
    out.push("    };", "  },");
    out.push(`  encode(bytes: Uint8Array, offset: number, value: ${name}) {`);
    out.push(`    checkFits(bytes, offset, ${struct.size}, "${struct.cName}");`);
    if (struct.fields.some((f) => f.kind === "uint")) out.push("    const view = dataView(bytes);");
    for (const field of struct.fields) out.push(`    ${encodeStatement(struct, field, structs)}`);
    out.push("  },");
    out.push("  zero() {");
    out.push(
      `    return { ${struct.fields.map((f) => `${f.tsName}: ${zeroExpr(f, structs)}`).join(", ")} };`,
    );
    out.push("  },", "};", "");
  }

  out.push("/** Every generated struct codec, in dependency order. */");
  out.push(`export const ALL_STRUCTS = [${model.structs.map((s) => s.tsName).join(", ")}] as const;`, "");
  return out.join("\n");
}
