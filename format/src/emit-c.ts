// Emits daxfs_format.h: the public C names, __le types for sparse, and a _Static_assert for every
// struct size and field offset so that a compiler proves the layout equals the .ksy.
import type { FieldLayout, FormatModel, StructLayout } from "./ksy-model.js";

const GENERATED_BANNER = "Generated from format/daxfs.ksy by format/src/cli.ts. Do not edit; run `pnpm gen`.";

function wrapComment(text: string, indent: string, width = 78): string[] {
  if (!text) return [];
  const words = text.split(" ");
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line && indent.length + 3 + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(line);
  if (lines.length === 1) return [`${indent}/* ${lines[0]} */`];
  return [`${indent}/*`, ...lines.map((l) => `${indent} * ${l}`), `${indent} */`];
}

function cDeclaration(field: FieldLayout, structs: Map<string, StructLayout>): string {
  switch (field.kind) {
    case "uint":
      return field.width === 1 ? `__u8 ${field.cName}` : `__le${field.width! * 8} ${field.cName}`;
    case "bytes":
      return `__u8 ${field.cName}[${field.size}]`;
    case "strz":
      return `char ${field.cName}[${field.size}]`;
    case "struct":
      return `struct ${structs.get(field.structType!)!.cName} ${field.cName}`;
  }
}

function literal({ value, hex }: { value: number; hex: boolean }): string {
  return hex ? `0x${value.toString(16)}` : String(value);
}

export function emitCHeader(model: FormatModel): string {
  const structs = new Map(model.structs.map((s) => [s.ksyId, s]));
  const out: string[] = [
    `/* SPDX-License-Identifier: ${model.license} */`,
    `/*`,
    ` * ${model.title}.`,
    ` * ${GENERATED_BANNER}`,
    ` *`,
    ` * All integers are little-endian. Offsets in the superblock are absolute;`,
    ` * offsets inside the base image are relative to its start.`,
    ` */`,
    "#ifndef _DAXFS_FORMAT_H",
    "#define _DAXFS_FORMAT_H",
    "",
    "#include <linux/types.h>",
    "#ifdef __KERNEL__",
    "#include <linux/stddef.h>",
    "#else",
    "#include <stddef.h>",
    "#endif",
    "",
  ];

  for (const constant of model.constants) {
    out.push(...wrapComment(constant.doc, ""));
    out.push(`#define DAXFS_${constant.name.toUpperCase()} ${literal(constant)}`);
  }
  out.push("");

  for (const enumModel of model.enums) {
    out.push(`enum daxfs_${enumModel.ksyId} {`);
    for (const member of enumModel.members) {
      out.push(`\t${enumModel.cPrefix}${member.name.toUpperCase()} = ${literal(member)},`);
    }
    out.push("};", "");
  }

  for (const struct of model.structs) {
    out.push(...wrapComment(struct.doc, ""));
    out.push(`struct ${struct.cName} {`);
    for (const field of struct.fields) {
      out.push(...wrapComment(field.doc, "\t"));
      out.push(`\t${cDeclaration(field, structs)};`);
    }
    out.push("};", "");
  }

  out.push("/* The layout above, proved by the compiler. */");
  for (const struct of model.structs) {
    out.push(`_Static_assert(sizeof(struct ${struct.cName}) == ${struct.size}, "sizeof ${struct.cName}");`);
    for (const field of struct.fields) {
      out.push(
        `_Static_assert(offsetof(struct ${struct.cName}, ${field.cName}) == ${field.offset}, ` +
          `"offsetof ${struct.cName}.${field.cName}");`,
      );
    }
  }
  out.push("", "#endif /* _DAXFS_FORMAT_H */", "");
  return out.join("\n");
}
