// Names are bytes (SPEC 1.4, 1.5: a name is 1..255 bytes, no '/' or NUL; a symlink target is bytes
// too). The TypeScript tools carry them as strings in one reversible form, the one Python's
// "surrogateescape" (PEP 383) uses: bytes that are valid UTF-8 decode as usual, and each byte of
// an invalid sequence becomes the lone surrogate U+DC00 + byte (U+DC80..U+DCFF). Valid UTF-8
// never decodes to a lone surrogate, so decoding is one-to-one and encodeName gives back the exact
// bytes. Every reader (base dirents, delta entries, tar headers, host directories) decodes with
// decodeName and every writer (image builder, delta encoder, extract, host paths) encodes with
// encodeName; nothing else converts names. Decision recorded in docs/semantics.md "Names".
import { readFileSync } from "node:fs";
import { DAXFS_NAME_MAX } from "@daxfs/format";
import { DaxfsError } from "./errors.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

const ESCAPE_BASE = 0xdc00;

/**
 * Name (or symlink target, or path) bytes as a string: UTF-8, each byte of an invalid sequence as
 * U+DC00 + byte. ASCII, by far the common case, skips TextDecoder, whose per-call cost dominates
 * decoding a log of short names.
 */
export function decodeName(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x80) return text + decodeNonAscii(bytes.subarray(i));
    text += String.fromCharCode(byte);
  }
  return text;
}

function decodeNonAscii(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return decodeEscaping(bytes);
  }
}

/** Length of the valid UTF-8 sequence at `i`, or 0 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i] as number;
  const cont = (k: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[i + k];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return cont(1) ? 2 : 0;
  if (lead >= 0xe0 && lead <= 0xef) {
    const low = lead === 0xe0 ? 0xa0 : 0x80;
    const high = lead === 0xed ? 0x9f : 0xbf;
    return cont(1, low, high) && cont(2) ? 3 : 0;
  }
  if (lead >= 0xf0 && lead <= 0xf4) {
    const low = lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xf4 ? 0x8f : 0xbf;
    return cont(1, low, high) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

function decodeEscaping(bytes: Uint8Array): string {
  let text = "";
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) {
      text += String.fromCharCode(ESCAPE_BASE + (bytes[i] as number));
      i++;
    } else {
      text += strictUtf8.decode(bytes.subarray(i, i + length));
      i += length;
    }
  }
  return text;
}

/** Whether `text` holds a UTF-16 surrogate (paired or not): only then can it hold an escaped byte. */
function hasSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdfff) return true;
  }
  return false;
}

/**
 * Why `text` is not the decoded form of any bytes, or undefined: a lone surrogate outside
 * U+DC80..U+DCFF, or escaped bytes that form valid UTF-8 (decodeName would never produce them, and
 * accepting them would let two strings name the same bytes).
 */
export function nameTextProblem(text: string): string | undefined {
  if (!hasSurrogate(text)) return undefined;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0xd800 || unit > 0xdfff) continue;
    const next = text.charCodeAt(i + 1);
    if (unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    if (unit < 0xdc80 || unit > 0xdcff)
      return `holds the lone surrogate U+${unit.toString(16).toUpperCase()}, which stands for no byte`;
  }
  if (decodeName(encodeUnchecked(text)) !== text) return "holds escaped bytes that are valid UTF-8";
  return undefined;
}

function encodeUnchecked(text: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc80 && unit <= 0xdcff) {
      bytes.push(unit - ESCAPE_BASE);
      continue;
    }
    // A run without escapes: ordinary UTF-8 (a valid pair is one code point).
    let end = i + 1;
    while (end < text.length) {
      const next = text.charCodeAt(end);
      if (next >= 0xdc80 && next <= 0xdcff && !isPairedLow(text, end)) break;
      end++;
    }
    for (const byte of utf8Encoder.encode(text.slice(i, end))) bytes.push(byte);
    i = end - 1;
  }
  return Uint8Array.from(bytes);
}

/** Whether the unit at `at`, a low surrogate, is the second half of a pair. */
function isPairedLow(text: string, at: number): boolean {
  const before = text.charCodeAt(at - 1);
  return at > 0 && before >= 0xd800 && before <= 0xdbff;
}

const isLowSurrogate = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

/** The exact bytes `text` (a decodeName result) stands for; EILSEQ when it is no such result. */
export function encodeName(text: string): Uint8Array {
  if (!hasSurrogate(text)) return utf8Encoder.encode(text);
  const problem = nameTextProblem(text);
  if (problem) throw new DaxfsError("EILSEQ", `name ${JSON.stringify(text)} ${problem}`);
  return encodeUnchecked(text);
}

/** Byte length of `text` once encoded. */
export function nameByteLength(text: string): number {
  return hasSurrogate(text) ? encodeName(text).length : Buffer.byteLength(text, "utf8");
}

/** Whether `text` stands for bytes that are not valid UTF-8 (it holds escaped bytes). */
export function hasEscapedBytes(text: string): boolean {
  if (!hasSurrogate(text)) return false;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xdc80 && unit <= 0xdcff && !isPairedLow(text, i)) return true;
  }
  return false;
}

/**
 * Orders names as their bytes (memcmp, the order of base directories, SPEC 2.4). UTF-16 order
 * differs from it for code points above U+FFFF and for escaped bytes.
 */
export function compareNames(a: string, b: string): number {
  if (!hasSurrogate(a) && !hasSurrogate(b)) {
    // Without surrogates UTF-16 order is code point order, which is UTF-8 byte order.
    return a < b ? -1 : a > b ? 1 : 0;
  }
  return Buffer.compare(encodeName(a), encodeName(b));
}

/**
 * `text` (a name, target or path) for a terminal: printable characters as they are, a backslash as
 * `\\`, control characters (C0, DEL, and C1 as its two UTF-8 bytes: a UTF-8 terminal takes U+009B
 * for CSI) and bytes that are not UTF-8 as `\xHH`. One-to-one, so a printed name is never another
 * name's (docs/inspect.md "Names"). A lone surrogate no bytes decode to (only in refused input)
 * shows as `\uHHHH`.
 */
export function showName(text: string): string {
  if (!needsShowing(text)) return text;
  let shown = "";
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0x5c) shown += "\\\\";
    else if (unit < 0x20 || unit === 0x7f) shown += `\\x${hex2(unit)}`;
    else if (unit >= 0x80 && unit <= 0x9f) shown += `\\xc2\\x${hex2(unit)}`;
    else if (unit < 0xd800 || unit > 0xdfff) shown += text[i];
    else if (unit <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      shown += text.slice(i, i + 2);
      i++;
    } else if (unit >= 0xdc80 && unit <= 0xdcff) shown += `\\x${hex2(unit - ESCAPE_BASE)}`;
    else shown += `\\u${unit.toString(16)}`;
  }
  return shown;
}

function needsShowing(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f) || unit === 0x5c || (unit >= 0xd800 && unit <= 0xdfff))
      return true;
  }
  return false;
}

const hex2 = (byte: number) => byte.toString(16).padStart(2, "0");

/**
 * A path for Node's fs calls: the string itself when it is plain UTF-8 (Node encodes it so), else
 * its exact bytes as a Buffer (fs calls take either).
 */
export function hostPath(text: string): string | Buffer {
  return hasSurrogate(text) ? Buffer.from(encodeName(text)) : text;
}

/**
 * Why the `length` name bytes at `start` of `bytes` are not a valid DAXFS name (1..255 bytes, no
 * '/' or NUL, not "." or ".."), or undefined if they are. The one statement of the name rule:
 * delta entries (decode and encode), base dirents (BaseImage), the builder and the validator use it.
 */
export function nameProblem(bytes: Uint8Array, start = 0, length = bytes.length - start): string | undefined {
  if (length <= 0) return "is empty";
  if (length > DAXFS_NAME_MAX) return `is ${length} bytes long (at most ${DAXFS_NAME_MAX})`;
  for (let i = start; i < start + length; i++) {
    const byte = bytes[i];
    if (byte === 0x2f) return "contains '/'";
    if (byte === 0) return "contains a NUL byte";
  }
  if (bytes[start] === 0x2e && (length === 1 || (length === 2 && bytes[start + 1] === 0x2e)))
    return "is '.' or '..'";
  return undefined;
}

/**
 * The process's arguments (without node and the script) as names.ts strings. Node decodes argv as
 * UTF-8 and puts U+FFFD for bytes that are not, so a path argument with such bytes would name
 * another file; only then the exact bytes are read back from /proc/self/cmdline (proc(5)), whose
 * last entries are the script's arguments. `cmdline` is for tests.
 */
export function commandLineArguments(
  argv: readonly string[] = process.argv.slice(2),
  cmdline: () => Uint8Array = () => readFileSync("/proc/self/cmdline"),
): string[] {
  if (!argv.some((arg) => arg.includes("\ufffd"))) return [...argv];
  let raw: Uint8Array;
  try {
    raw = cmdline();
  } catch {
    return [...argv];
  }
  const entries: Uint8Array[] = [];
  for (let start = 0; start < raw.length; ) {
    let end = raw.indexOf(0, start);
    if (end < 0) end = raw.length;
    entries.push(raw.subarray(start, end));
    start = end + 1;
  }
  const tail = entries.slice(entries.length - argv.length);
  // Use them only if they are what Node decoded (nothing rewrote the command line meanwhile).
  const same =
    tail.length === argv.length && tail.every((bytes, i) => Buffer.from(bytes).toString("utf8") === argv[i]);
  return same ? tail.map(decodeName) : [...argv];
}
