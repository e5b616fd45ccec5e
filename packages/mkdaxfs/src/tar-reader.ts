// The tar members of one stream, in every format the tools that make our inputs write: v7, ustar
// (POSIX.1-1988), GNU (base-256 numbers, 'L'/'K' long names, 'S' sparse members with extension
// blocks), PAX (POSIX.1-2001 'x'/'g' records: path, linkpath, size, uid and gid applied; uname,
// gname and times carry nothing a v5 image stores; GNU sparse 0.0, 0.1 and 1.0). Anything else is
// an error naming the member, never a silent change: unknown type flags, a bad checksum, a
// malformed record or sparse map.
//
// Why our own parser rather than tar-stream (used before) or node-tar: neither decodes sparse
// members (tar-stream#63, closed unsupported; node-tar's type table marks 'S' "skip", and PAX
// sparse members come out as GNUSparseFile.N/ paths holding the raw map). tar-stream also applies
// only the path, linkpath and size PAX records (a PAX uid above 2097151 was lost) and cannot even
// skip GNU sparse extension blocks: they are not counted in the header's size, so the stream
// desynchronises. Sparse decoding needs the raw header block and control of the stream position,
// which neither library exposes. Formats: GNU tar manual, "Tar Internals" and "Sparse Formats";
// POSIX pax(1) "pax Interchange Format".
import { DaxfsError, decodeName, showName } from "@daxfs/core";
import type { ByteSource } from "./tar-bytes.js";

const BLOCK = 512;
/** Longest PAX or GNU long-name record block we accept (GNU tar's own limit is far lower in practice). */
const MAX_META = 1 << 20;

export type MemberType =
  | "file"
  | "link"
  | "symlink"
  | "character-device"
  | "block-device"
  | "directory"
  | "fifo";

/** A data segment of a sparse file: `length` bytes at `offset`; the rest of the file is holes. */
export interface SparseSegment {
  offset: number;
  length: number;
}

export interface TarMember {
  type: MemberType;
  /** The member's path as stored (its bytes in the form of names.ts), and the link target for links. */
  name: string;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  /** The file's size once expanded (the real size of a sparse file). */
  size: number;
  /** Bytes stored in the archive for this member (after a sparse 1.0 map). */
  storedSize: number;
  /** Stream offset of the stored bytes. */
  dataOffset: number;
  /** Data segments in the order they are stored, or null for a plain member. */
  sparse: SparseSegment[] | null;
  /** Names of the extended attributes its PAX records carry (SCHILY.xattr.*, LIBARCHIVE.xattr.*, SCHILY.acl.*). */
  xattrs: string[];
  /** Modification time in ns: PAX `mtime` (with its fraction) or the header's seconds; negative before 1970. */
  mtime: bigint;
}

/** A PAX time ("1234567890.5"; a leading '-' before 1970) in ns; negative times give 0. */
function paxTime(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!match) throw new Error(`PAX mtime ${JSON.stringify(text)} is not a number`);
  if (match[1] === "-") return 0n;
  const fraction = (match[3] ?? "").slice(0, 9).padEnd(9, "0");
  return BigInt(match[2] as string) * 1_000_000_000n + BigInt(fraction);
}

/** PAX record prefixes of extended attributes: GNU tar and star, and bsdtar (names URL-encoded). */
const XATTR_RECORDS = ["SCHILY.xattr.", "LIBARCHIVE.xattr."];

/**
 * ACL records, by the extended attribute Linux keeps the ACL in (what llistxattr shows -d). bsdtar
 * writes an ACL only as these text records (GNU tar --acls both as these and as SCHILY.xattr.system.*):
 * without them a file whose one extra is an ACL would lose it without a warning.
 */
const ACL_RECORDS = new Map([
  ["SCHILY.acl.access", "system.posix_acl_access"],
  ["SCHILY.acl.default", "system.posix_acl_default"],
  ["SCHILY.acl.ace", "system.nfs4_acl"],
]);

const TYPES: Record<string, MemberType> = {
  "0": "file",
  "\0": "file",
  "7": "file", // contiguous file: a regular file everywhere but a few old systems
  "1": "link",
  "2": "symlink",
  "3": "character-device",
  "4": "block-device",
  "5": "directory",
  "6": "fifo",
};

/** Header bytes for an error line, escaped as names are shown everywhere (names.ts showName). */
function escapeBytes(bytes: Uint8Array): string {
  return showName(decodeName(bytes));
}

/** Bytes up to the first NUL of a header field. */
function field(block: Buffer, offset: number, length: number): Buffer {
  const end = block.indexOf(0, offset);
  return block.subarray(offset, end < 0 || end > offset + length ? offset + length : end);
}

/**
 * A numeric header field: octal digits (leading spaces/NULs, ending at a space or NUL), or GNU
 * base-256 (first byte 0x80 positive, 0xff negative, two's complement) for values that do not fit.
 * Exact whatever its size: an mtime may be before 1970 or past any safe integer.
 */
function bigNumber(block: Buffer, offset: number, length: number, what: string): bigint {
  const bytes = block.subarray(offset, offset + length);
  if (bytes[0] === 0x80 || bytes[0] === 0xff) {
    let value = 0n;
    for (let i = 1; i < bytes.length; i++) value = (value << 8n) | BigInt(bytes[i]!);
    // 0xff: the field is a negative number in two's complement over all its bits.
    return bytes[0] === 0xff ? value - (1n << BigInt(8 * (bytes.length - 1))) : value;
  }
  const text = bytes
    .toString("latin1")
    .replace(/^[ \0]+/, "")
    .replace(/[ \0].*$/s, "");
  if (text === "") return 0n;
  if (!/^[0-7]+$/.test(text)) throw new Error(`${what} field is not a number`);
  return BigInt(`0o${text}`);
}

/** A numeric header field that must be a size, an id or an offset: 0 up to the largest safe integer. */
function number(block: Buffer, offset: number, length: number, what: string): number {
  const value = bigNumber(block, offset, length, what);
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`${what} out of range`);
  return Number(value);
}

export function checksumMatches(block: Buffer): boolean {
  const stored = number(block, 148, 8, "checksum");
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some historic tars summed signed chars; GNU tar accepts both.
  return stored === unsigned || stored === signed;
}

/** Decoded PAX records; repeated keys (GNU sparse 0.0 offset/numbytes pairs) kept in order. */
interface PaxRecords {
  values: Map<string, Buffer>;
  sparsePairs: Array<[string, string]>;
}

function parsePax(data: Buffer, what: string): PaxRecords {
  const values = new Map<string, Buffer>();
  const sparsePairs: Array<[string, string]> = [];
  let at = 0;
  while (at < data.length) {
    if (data[at] === 0) break; // NUL padding after the last record
    const space = data.indexOf(0x20, at);
    const length = space < 0 ? Number.NaN : Number(data.toString("latin1", at, space));
    if (!Number.isSafeInteger(length) || length <= space - at || at + length > data.length)
      throw new Error(`${what}: malformed PAX record at byte ${at}`);
    const record = data.subarray(space + 1, at + length);
    const equals = record.indexOf(0x3d);
    if (equals < 0 || record[record.length - 1] !== 0x0a)
      throw new Error(`${what}: malformed PAX record at byte ${at}`);
    const key = record.toString("utf8", 0, equals);
    const value = record.subarray(equals + 1, record.length - 1);
    if (key === "GNU.sparse.offset" || key === "GNU.sparse.numbytes")
      sparsePairs.push([key, value.toString("latin1")]);
    else values.set(key, value);
    at += length;
  }
  return { values, sparsePairs };
}

function decimal(value: string | undefined, what: string): number {
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`${what} is not a decimal number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`${what} out of range`);
  return n;
}

/** Checks a sparse map: ascending, non-overlapping, inside the real size, its lengths summing to the stored bytes. */
function checkSparseMap(map: SparseSegment[], realSize: number, stored: number, what: string): void {
  let end = 0;
  let total = 0;
  for (const { offset, length } of map) {
    if (offset < end || offset + length > realSize)
      throw new Error(
        `${what}: sparse map segment ${offset}+${length} out of order or past size ${realSize}`,
      );
    end = offset + length;
    total += length;
  }
  if (total !== stored) throw new Error(`${what}: sparse map holds ${total} bytes but ${stored} are stored`);
}

/** Reads the members of one tar stream. The caller must consume or skip a member's data before asking for the next. */
export class TarReader {
  private globals = new Map<string, Buffer>();
  /** Unconsumed stored bytes of the member last returned, and its padding. */
  private pending = 0;

  constructor(
    private readonly input: ByteSource,
    private readonly label: string,
  ) {}

  /** The stored bytes of the member last returned, as chunks. */
  body(): AsyncGenerator<Buffer> {
    const size = this.pending;
    this.pending = 0;
    const input = this.input;
    const what = "member data";
    return (async function* () {
      yield* input.take(size, what);
      await input.skip(padding(size), what);
    })();
  }

  /** The next member, or null at the end of the archive. */
  async next(): Promise<TarMember | null> {
    if (this.pending > 0) await this.input.skip(this.pending + padding(this.pending), "member data");
    this.pending = 0;
    let longName: Buffer | null = null;
    let longLink: Buffer | null = null;
    let pax: PaxRecords | null = null;
    for (;;) {
      const where = `header at byte ${this.input.position}`;
      const first = this.input.position === 0;
      const block = await this.input.read(BLOCK, "a header");
      // A zero block (or the stream's end) ends the archive; GNU tar writes two.
      // An empty input is no archive at all (GNU tar and Python's tarfile refuse it too), e.g. a
      // layer whose download failed: an error, not an empty image.
      if (block === null && this.input.position === 0) throw this.error("empty input: not a tar archive");
      if (block === null || block.every((byte) => byte === 0)) {
        if (longName || longLink || pax) throw this.error(`${where}: archive ends after an extended header`);
        await this.input.drainToEnd();
        return null;
      }
      let flag: string;
      let size: number;
      try {
        if (!checksumMatches(block))
          throw new Error(first ? "checksum mismatch" : "checksum mismatch (not a tar archive, or corrupt)");
        flag = String.fromCharCode(block[156]!);
        size = number(block, 124, 12, "size");
      } catch (error) {
        // A first block that is no tar header is most likely no tar at all (a wrong file, an
        // image): say that first, the parse failure after it.
        const what = first ? `not a tar archive: ${where}` : where;
        throw this.error(`${what}: ${(error as Error).message}`);
      }
      const name = () => escapeBytes(longName ?? field(block, 0, 100));
      switch (flag) {
        case "L":
        case "K":
        case "x":
        case "g":
        case "X": {
          if (size > MAX_META) throw this.error(`${where}: ${size}-byte extended header is too large`);
          const data = await this.input.readAll(size, "an extended header");
          await this.input.skip(padding(size), "an extended header");
          if (flag === "L") longName = field(data, 0, data.length);
          else if (flag === "K") longLink = field(data, 0, data.length);
          else {
            let records: PaxRecords;
            try {
              records = parsePax(data, where);
            } catch (error) {
              throw this.error((error as Error).message);
            }
            if (flag === "g") for (const [key, value] of records.values) this.globals.set(key, value);
            else pax = records;
          }
          continue;
        }
        case "V": // a volume label: names no file
          await this.input.skip(size + padding(size), "a volume label");
          continue;
        case "D": // GNU incremental dump directory: a directory whose data lists its entries
          break;
        case "S":
          break;
        default:
          if (!(flag in TYPES))
            throw this.error(
              `${name()}: tar member type '${escapeBytes(block.subarray(156, 157))}' is not supported`,
            );
      }
      try {
        return await this.member(block, flag, size, longName, longLink, pax);
      } catch (error) {
        if (error instanceof DaxfsError) throw error;
        throw this.error(`${name()}: ${(error as Error).message}`);
      }
    }
  }

  private async member(
    block: Buffer,
    flag: string,
    headerSize: number,
    longName: Buffer | null,
    longLink: Buffer | null,
    local: PaxRecords | null,
  ): Promise<TarMember> {
    const records = new Map(this.globals);
    for (const [key, value] of local?.values ?? []) {
      // An empty value in a member's records removes a global one (POSIX pax).
      if (value.length === 0) records.delete(key);
      else records.set(key, value);
    }
    const record = (key: string) => records.get(key)?.toString("latin1");
    const magic = block.toString("latin1", 257, 263);
    const ustar = magic === "ustar\0";
    let rawName = longName ?? field(block, 0, 100);
    if (ustar && !longName && block[345] !== 0)
      rawName = Buffer.concat([field(block, 345, 155), Buffer.from("/"), rawName]);
    rawName = records.get("GNU.sparse.name") ?? records.get("path") ?? rawName;
    const rawLink = records.get("linkpath") ?? longLink ?? field(block, 157, 100);
    // Names are bytes (names.ts): ustar and GNU fields hold them raw; PAX path and linkpath are
    // UTF-8 by the standard but raw with hdrcharset=BINARY (bsdtar, Python's tarfile, for names
    // that are not UTF-8), and decoding the record's bytes keeps either exactly.
    const name = decodeName(rawName);
    const linkname = decodeName(rawLink);

    let type: MemberType = flag === "S" ? "file" : flag === "D" ? "directory" : (TYPES[flag] as MemberType);
    // Old tars mark directories with a trailing slash on a regular-file type.
    if ((flag === "0" || flag === "\0") && name.endsWith("/")) type = "directory";
    const id = (key: "uid" | "gid", offset: number) =>
      record(key) !== undefined ? decimal(record(key), `PAX ${key}`) : number(block, offset, 8, key);
    let storedSize = record("size") !== undefined ? decimal(record("size"), "PAX size") : headerSize;
    let size = storedSize;
    let sparse: SparseSegment[] | null = null;

    if (flag === "S") {
      // Old GNU sparse: 4 map entries in the header, more in extension blocks after it (not
      // counted in the header's size), then the stored data; realsize at byte 483.
      sparse = [];
      const segments = (from: Buffer, at: number, count: number) => {
        for (let i = 0; i < count; i++) {
          const base = at + i * 24;
          if (from[base] === 0) return;
          sparse!.push({
            offset: number(from, base, 12, "sparse offset"),
            length: number(from, base + 12, 12, "sparse length"),
          });
        }
      };
      segments(block, 386, 4);
      let extended = block[482] !== 0;
      while (extended) {
        const extension = await this.input.readAll(BLOCK, "a sparse extension block");
        segments(extension, 0, 21);
        extended = extension[504] !== 0;
      }
      size = number(block, 483, 12, "sparse real size");
    } else if (
      records.has("GNU.sparse.major") ||
      records.has("GNU.sparse.size") ||
      records.has("GNU.sparse.map")
    ) {
      const major = record("GNU.sparse.major");
      const minor = record("GNU.sparse.minor");
      if (major === "1" && minor === "0") {
        // PAX sparse 1.0: the map is the start of the data, decimal numbers one a line (count, then
        // offset/length pairs), padded to a block.
        size = decimal(record("GNU.sparse.realsize"), "GNU.sparse.realsize");
        const { map, bytes } = await this.readSparseMap(storedSize);
        sparse = map;
        storedSize -= bytes;
      } else if (major === undefined || major === "0") {
        // PAX sparse 0.0 (repeated offset/numbytes records) and 0.1 (one comma-separated map).
        size = decimal(record("GNU.sparse.size") ?? record("GNU.sparse.realsize"), "GNU.sparse.size");
        const numbers =
          record("GNU.sparse.map") !== undefined
            ? (record("GNU.sparse.map") as string).split(",")
            : (local?.sparsePairs.map(([, value]) => value) ?? []);
        if (
          local?.sparsePairs.some(
            ([key], i) => key !== (i % 2 === 0 ? "GNU.sparse.offset" : "GNU.sparse.numbytes"),
          )
        )
          throw new Error("GNU.sparse.offset/numbytes records out of order");
        sparse = this.pairs(numbers, record("GNU.sparse.numblocks"));
      } else throw new Error(`GNU sparse format ${major}.${minor ?? "?"} is not supported`);
    }
    if (sparse) {
      if (type !== "file") throw new Error("sparse map on a member that is not a regular file");
      checkSparseMap(sparse, size, storedSize, "GNU sparse member");
    }
    if (type === "directory" || type === "link" || type === "symlink") {
      // No data of their own (a hard link's size is 0 in every writer we know; GNU dumpdir data
      // lists names we do not need): skip whatever is stored.
      size = 0;
    }
    const member: TarMember = {
      type,
      name,
      linkname,
      mode: number(block, 100, 8, "mode"),
      uid: id("uid", 108),
      gid: id("gid", 116),
      size,
      storedSize: type === "file" ? storedSize : 0,
      dataOffset: this.input.position,
      sparse,
      xattrs: xattrNames(records),
      mtime:
        record("mtime") !== undefined
          ? paxTime(record("mtime") as string)
          : bigNumber(block, 136, 12, "mtime") * 1_000_000_000n,
    };
    this.pending = storedSize;
    if (type !== "file") {
      await this.input.skip(storedSize + padding(storedSize), `${name}'s data`);
      this.pending = 0;
    }
    return member;
  }

  /** offset,length pairs from decimal strings, checking the count GNU.sparse.numblocks gives. */
  private pairs(numbers: string[], count: string | undefined): SparseSegment[] {
    if (numbers.length % 2 !== 0) throw new Error("sparse map has an odd number of values");
    const map: SparseSegment[] = [];
    for (let i = 0; i < numbers.length; i += 2)
      map.push({
        offset: decimal(numbers[i], "sparse offset"),
        length: decimal(numbers[i + 1], "sparse length"),
      });
    if (count !== undefined && decimal(count, "GNU.sparse.numblocks") !== map.length)
      throw new Error(`GNU.sparse.numblocks is ${count} but the map has ${map.length} entries`);
    return map;
  }

  /** The sparse 1.0 map at the start of the data; returns it and the bytes it took (whole blocks). */
  private async readSparseMap(stored: number): Promise<{ map: SparseSegment[]; bytes: number }> {
    const lines: string[] = [];
    let text = "";
    let bytes = 0;
    let wanted = Number.POSITIVE_INFINITY;
    while (lines.length < wanted) {
      if (bytes + BLOCK > stored) throw new Error("sparse 1.0 map runs past the member's data");
      text += (await this.input.readAll(BLOCK, "a sparse map")).toString("latin1");
      bytes += BLOCK;
      const parts = text.split("\n");
      text = parts.pop() as string;
      lines.push(...parts);
      if (lines.length > 0 && wanted === Number.POSITIVE_INFINITY)
        wanted = 1 + 2 * decimal(lines[0], "sparse map count");
      if (lines.length > 2 * MAX_META) throw new Error("sparse 1.0 map is too large");
    }
    const map = this.pairs(lines.slice(1, wanted), undefined);
    return { map, bytes };
  }

  private error(message: string): DaxfsError {
    return new DaxfsError("EINVAL", `${this.label}: ${message}`);
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The extended attribute names in a member's PAX records (ACLs included), each once (several records may name it). */
function xattrNames(records: Map<string, Buffer>): string[] {
  const names = new Set<string>();
  for (const key of records.keys()) {
    const acl = ACL_RECORDS.get(key);
    if (acl !== undefined) names.add(acl);
    const prefix = XATTR_RECORDS.find((p) => key.startsWith(p));
    if (prefix === undefined) continue;
    const name = key.slice(prefix.length);
    names.add(prefix === "LIBARCHIVE.xattr." ? safeDecode(name) : name);
  }
  return [...names];
}

function safeDecode(name: string): string {
  try {
    return decodeURIComponent(name);
  } catch {
    return name;
  }
}
