// Emits docs/format.md: the format reference a reader opens first, made from the same .ksy docs
// the C header and the TypeScript codecs come from, so it cannot drift (`pnpm gen:check`).
import type { FieldLayout, FormatModel, StructLayout } from "./ksy-model.js";

/** A table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim();
}

function literal({ value, hex }: { value: number; hex: boolean }): string {
  return hex ? `0x${value.toString(16)}` : String(value);
}

function fieldType(field: FieldLayout, structs: Map<string, StructLayout>): string {
  switch (field.kind) {
    case "uint":
      return `u${field.width! * 8}${field.enumName ? ` (${field.enumName})` : ""}`;
    case "bytes":
      return `u8[${field.size}]`;
    case "strz":
      return `char[${field.size}], NUL-terminated`;
    case "struct":
      return `struct ${structs.get(field.structType!)!.cName}`;
  }
}

export function emitFormatReference(model: FormatModel): string {
  const structs = new Map(model.structs.map((s) => [s.ksyId, s]));
  const out: string[] = [
    `# ${model.title}: format reference`,
    "",
    "<!-- Generated from format/daxfs.ksy by format/src/cli.ts. Do not edit; run `pnpm gen`. -->",
    "",
    model.doc,
    "",
    "Every structure below is a fixed-size C struct of the generated header",
    "`kernel/daxfs_format.h` (`struct NAME`, with `_Static_assert`s of every size and offset) and a",
    "codec of `@daxfs/format` (`DaxfsNAME.decode`/`.encode`). Integers are little-endian.",
    "How the structures are used (branches, replay, validity, space, coordination) is",
    "[semantics.md](semantics.md).",
    "",
    "## Constants",
    "",
    "| C name | value | meaning |",
    "| --- | --- | --- |",
    ...model.constants.map((c) => `| \`DAXFS_${c.name.toUpperCase()}\` | ${literal(c)} | ${cell(c.doc)} |`),
    "",
    "## Enumerations",
    "",
  ];
  for (const enumModel of model.enums) {
    out.push(`### ${enumModel.ksyId}`, "", "| value | C name |", "| --- | --- |");
    for (const member of enumModel.members)
      out.push(`| ${literal(member)} | \`${enumModel.cPrefix}${member.name.toUpperCase()}\` |`);
    out.push("");
  }
  out.push("## Structures", "");
  for (const struct of model.structs) {
    out.push(
      `### ${struct.cName}`,
      "",
      `${struct.doc ? `${struct.doc} ` : ""}${struct.size} bytes.`,
      "",
      "| offset | size | field | type | meaning |",
      "| ---: | ---: | --- | --- | --- |",
    );
    for (const field of struct.fields) {
      out.push(
        `| ${field.offset} | ${field.size} | \`${field.cName}\` | ${cell(fieldType(field, structs))} | ${cell(field.doc)} |`,
      );
    }
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
