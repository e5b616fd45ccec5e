// Reads format/daxfs.ksy and turns the types marked `-c-struct` into fixed layouts that the C and
// TypeScript emitters share. Everything the emitters need is computed here once, and every rule
// the C mapping depends on (fixed sizes, natural alignment, no hidden padding) is checked here,
// with the ksy path of the offending field in the error.
import { isScalar, isMap as isYamlMap, parseDocument, YAMLMap } from "yaml";

export class KsyMappingError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "KsyMappingError";
  }
}

export type FieldKind = "uint" | "bytes" | "strz" | "struct";

export interface FieldLayout {
  ksyId: string;
  /** Field name in the public C header (the ksy `-orig-id`, else the id). */
  cName: string;
  /** camelCase of the C name: the TypeScript property. */
  tsName: string;
  offset: number;
  size: number;
  kind: FieldKind;
  /** Byte width of a uint field. */
  width?: 1 | 2 | 4 | 8;
  /** ksy type id of a nested struct field. */
  structType?: string;
  enumName?: string;
  /** The `valid:` value a parser insists on (magics, versions); not emitted, used by tests. */
  valid?: number;
  doc: string;
}

export interface StructLayout {
  ksyId: string;
  cName: string;
  /** PascalCase of the C name: the TypeScript interface. */
  tsName: string;
  size: number;
  align: number;
  doc: string;
  fields: FieldLayout[];
}

export interface EnumModel {
  ksyId: string;
  cPrefix: string;
  members: { name: string; value: number; hex: boolean }[];
}

export interface ConstantModel {
  name: string;
  value: number;
  /** Written in hex in the .ksy (magics, ioctl numbers): the emitters keep that. */
  hex: boolean;
  doc: string;
}

export interface FormatModel {
  title: string;
  license: string;
  /** The top-level doc: what an image is. */
  doc: string;
  structs: StructLayout[];
  enums: EnumModel[];
  constants: ConstantModel[];
}

type Yaml = Record<string, unknown>;

const UINT_WIDTHS: Record<string, 1 | 2 | 4 | 8> = { u1: 1, u2: 2, u4: 4, u8: 8 };

export function camelCase(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function pascalCase(snake: string): string {
  const camel = camelCase(snake);
  return camel.charAt(0).toUpperCase() + camel.slice(1);
}

function isMap(value: unknown): value is Yaml {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function docOf(node: Yaml): string {
  return typeof node.doc === "string" ? node.doc.trim().replace(/\s+/g, " ") : "";
}

function requireMap(value: unknown, path: string): Yaml {
  if (!isMap(value)) throw new KsyMappingError(path, "expected a mapping");
  return value;
}

export function parseKsy(source: string): FormatModel {
  const document = parseDocument(source);
  if (document.errors.length > 0) {
    throw new KsyMappingError("(yaml)", document.errors[0]!.message.split("\n")[0] ?? "invalid YAML");
  }
  const root: unknown = document.toJS();
  const writtenInHex = (node: unknown): boolean => isScalar(node) && node.format === "HEX";

  const top = requireMap(root, "(root)");
  const meta = requireMap(top.meta, "meta");
  const types = requireMap(top.types ?? {}, "types");

  const structs = new Map<string, StructLayout>();
  const resolving = new Set<string>();

  const layoutOf = (typeId: string, path: string): StructLayout => {
    const done = structs.get(typeId);
    if (done) return done;
    const typeNode = types[typeId];
    if (!isMap(typeNode)) throw new KsyMappingError(path, `unknown type '${typeId}'`);
    const cName = typeNode["-c-struct"];
    if (typeof cName !== "string") {
      throw new KsyMappingError(path, `type '${typeId}' is not a fixed C struct (no -c-struct)`);
    }
    if (resolving.has(typeId)) throw new KsyMappingError(path, `type '${typeId}' contains itself`);
    resolving.add(typeId);
    const layout = mapStruct(typeId, cName, typeNode, `types.${typeId}`, layoutOf);
    resolving.delete(typeId);
    structs.set(typeId, layout);
    return layout;
  };

  for (const [typeId, typeNode] of Object.entries(types)) {
    if (isMap(typeNode) && typeNode["-c-struct"] !== undefined) layoutOf(typeId, `types.${typeId}`);
  }

  const enumPrefixes = isMap(top["-c-enum-prefixes"]) ? top["-c-enum-prefixes"] : {};
  // Enum members are read from the YAML nodes, not a JS object, so that their written order and
  // their hex spelling survive (JS objects reorder integer keys).
  const enumsNode = document.get("enums", true) ?? new YAMLMap();
  if (!isYamlMap(enumsNode)) throw new KsyMappingError("enums", "expected a mapping");
  const enums: EnumModel[] = enumsNode.items.map((enumPair) => {
    const ksyId = String(isScalar(enumPair.key) ? enumPair.key.value : enumPair.key);
    if (!isYamlMap(enumPair.value)) throw new KsyMappingError(`enums.${ksyId}`, "expected a mapping");
    const members = enumPair.value.items.map((pair) => {
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      const value = isScalar(pair.value)
        ? pair.value.value
        : isYamlMap(pair.value)
          ? pair.value.get("id")
          : undefined;
      if (typeof key !== "number" || !Number.isInteger(key) || typeof value !== "string") {
        throw new KsyMappingError(`enums.${ksyId}.${String(key)}`, "enum members must be integer: name");
      }
      return { name: value, value: key, hex: writtenInHex(pair.key) };
    });
    const prefix = enumPrefixes[ksyId];
    return { ksyId, cPrefix: typeof prefix === "string" ? prefix : `DAXFS_${ksyId.toUpperCase()}_`, members };
  });

  const constants: ConstantModel[] = Object.entries(requireMap(top["-constants"] ?? {}, "-constants")).map(
    ([name, node]) => {
      const entry = requireMap(node, `-constants.${name}`);
      if (typeof entry.value !== "number" || !Number.isInteger(entry.value)) {
        throw new KsyMappingError(`-constants.${name}.value`, "expected an integer");
      }
      const hex = writtenInHex(document.getIn(["-constants", name, "value"], true));
      return { name, value: entry.value, hex, doc: docOf(entry) };
    },
  );

  return {
    title: String(meta.title ?? meta.id),
    license: String(meta.license ?? ""),
    doc: docOf(top),
    structs: [...structs.values()],
    enums,
    constants,
  };
}

function mapStruct(
  typeId: string,
  cName: string,
  node: Yaml,
  path: string,
  layoutOf: (typeId: string, path: string) => StructLayout,
): StructLayout {
  const seq = node.seq;
  if (!Array.isArray(seq) || seq.length === 0)
    throw new KsyMappingError(`${path}.seq`, "a C struct needs a seq");
  const fields: FieldLayout[] = [];
  let offset = 0;
  let align = 1;
  seq.forEach((rawField, index) => {
    const field = requireMap(rawField, `${path}.seq[${index}]`);
    const ksyId = String(field.id ?? "");
    const fieldPath = `${path}.seq[${index}](${ksyId})`;
    if (!/^[a-z][a-z0-9_]*$/.test(ksyId))
      throw new KsyMappingError(fieldPath, "field needs a lower_snake_case id");
    for (const dynamic of ["if", "repeat", "process", "terminator", "size-eos", "pos", "io"]) {
      if (field[dynamic] !== undefined) {
        throw new KsyMappingError(fieldPath, `'${dynamic}' has no fixed-size C equivalent`);
      }
    }
    const cField = typeof field["-orig-id"] === "string" ? field["-orig-id"] : ksyId;
    const base = {
      ksyId,
      cName: cField,
      tsName: camelCase(cField),
      doc: docOf(field),
      ...(typeof field.enum === "string" ? { enumName: field.enum } : {}),
      ...(typeof field.valid === "number" ? { valid: field.valid } : {}),
    };
    let mapped: FieldLayout;
    const type = field.type;
    if (typeof type === "string" && type in UINT_WIDTHS) {
      if (field.size !== undefined) throw new KsyMappingError(fieldPath, "a uint field takes no size");
      const width = UINT_WIDTHS[type]!;
      mapped = { ...base, offset, size: width, kind: "uint", width };
    } else if (type === undefined || type === "strz") {
      if (typeof field.size !== "number" || !Number.isInteger(field.size) || field.size <= 0) {
        throw new KsyMappingError(fieldPath, "non-fixed size: expected a positive integer size");
      }
      mapped = { ...base, offset, size: field.size, kind: type === "strz" ? "strz" : "bytes" };
    } else if (typeof type === "string") {
      if (/^[us][1248](be|le)?$|^f[48]|^s[1248]$|^b\d+$/.test(type)) {
        throw new KsyMappingError(fieldPath, `type '${type}' is not mapped to C (use u1/u2/u4/u8)`);
      }
      const nested = layoutOf(type, fieldPath);
      mapped = { ...base, offset, size: nested.size, kind: "struct", structType: type };
    } else {
      throw new KsyMappingError(fieldPath, "non-fixed size: switch types cannot be a C field");
    }
    const fieldAlign =
      mapped.kind === "uint"
        ? mapped.width!
        : mapped.kind === "struct"
          ? layoutOf(type as string, fieldPath).align
          : 1;
    if (offset % fieldAlign !== 0) {
      throw new KsyMappingError(
        fieldPath,
        `offset ${offset} is not aligned to ${fieldAlign}; add explicit padding so C adds none`,
      );
    }
    align = Math.max(align, fieldAlign);
    fields.push(mapped);
    offset += mapped.size;
  });
  if (offset % align !== 0) {
    throw new KsyMappingError(
      path,
      `size ${offset} is not a multiple of its alignment ${align}; add tail padding`,
    );
  }
  return { ksyId: typeId, cName, tsName: pascalCase(cName), size: offset, align, doc: docOf(node), fields };
}
