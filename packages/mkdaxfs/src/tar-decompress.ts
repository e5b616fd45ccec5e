// Compressed tar layers, recognised by their magic number whatever the file is called (a registry
// blob has no extension), decoded as a stream.
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { DaxfsError } from "@daxfs/core";
import { checksumMatches } from "./tar-reader.js";

/**
 * Compressed layers by their magic number. gzip goes through zlib; zstd (Node 20's zlib has none),
 * xz and bzip2 through the Debian programs, which scripts/setup.sh installs with the tools
 * (docs/mkdaxfs.md): one streaming decoder each, maintained with the formats, no native addon.
 */
const COMPRESSIONS: Array<{ name: string; magic: number[]; program?: string }> = [
  { name: "gzip", magic: [0x1f, 0x8b] },
  { name: "zstd", magic: [0x28, 0xb5, 0x2f, 0xfd], program: "zstd" },
  { name: "xz", magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], program: "xz" },
  { name: "bzip2", magic: [0x42, 0x5a, 0x68], program: "bzip2" },
];

/**
 * Compressions recognised only to be named in the error: no decoder is installed for them, and "not a
 * tar archive: checksum mismatch" would not tell the user what to do.
 */
const UNREAD_COMPRESSIONS: Array<{ name: string; magic: number[] }> = [
  { name: "lz4", magic: [0x04, 0x22, 0x4d, 0x18] },
  { name: "lzip", magic: [0x4c, 0x5a, 0x49, 0x50] },
  { name: "compress (.Z)", magic: [0x1f, 0x9d] },
  { name: "zip", magic: [0x50, 0x4b, 0x03, 0x04] },
];

const startsWith = (head: Buffer, magic: number[]) =>
  head.length >= magic.length && magic.every((byte, i) => head[i] === byte);

/**
 * The compression of a layer starting with `head`, if any. A first block that is a valid tar header
 * is a tar whatever its first bytes spell (bzip2's and lzip's magic numbers are printable: a member
 * named "BZh9..." or "LZIP..." starts a plain tar).
 */
export function compressionOf(head: Buffer): (typeof COMPRESSIONS)[number] | undefined {
  if (isTarHeader(head)) return undefined;
  return COMPRESSIONS.find(({ magic }) => startsWith(head, magic));
}

/** Throws for a layer in a compression mkdaxfs recognises but does not read ("lz4 data, not a tar"). */
export function refuseUnreadCompression(head: Buffer, label: string): void {
  if (isTarHeader(head)) return;
  const unread = UNREAD_COMPRESSIONS.find(({ magic }) => startsWith(head, magic));
  if (unread)
    throw new DaxfsError(
      "EINVAL",
      `${label}: ${unread.name} data, not a tar archive (gzip, zstd, xz and bzip2 layers are read; decompress it first)`,
    );
}

function isTarHeader(head: Buffer): boolean {
  if (head.length < 512) return false;
  try {
    return checksumMatches(head.subarray(0, 512));
  } catch {
    return false; // the checksum field is not a number
  }
}

/** The bytes of a compressed stream, decoded; a decoder's failure is one error naming the source. */
async function* decompress(
  head: Buffer,
  rest: AsyncIterable<unknown>,
  compression: (typeof COMPRESSIONS)[number],
  label: string,
): AsyncGenerator<Buffer> {
  const input = Readable.from(
    (async function* () {
      yield head;
      yield* rest;
    })(),
  );
  if (!compression.program) {
    const gunzip = createGunzip();
    input.on("error", (error) => gunzip.destroy(error));
    try {
      yield* input.pipe(gunzip) as AsyncIterable<Buffer>;
    } catch (error) {
      throw new DaxfsError("EINVAL", `${label}: ${compression.name}: ${(error as Error).message}`);
    }
    return;
  }
  const child = spawn(compression.program, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.on("error", (error) => resolve({ code: null, error }));
    child.on("close", (code) => resolve({ code }));
  });
  // The decoder may stop reading early (bad data): its stdin's EPIPE is reported through its exit.
  child.stdin.on("error", () => {});
  input.on("error", () => child.kill());
  input.pipe(child.stdin);
  let failure: unknown = null;
  let complete = false;
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    complete = true;
  } catch (error) {
    failure = error;
  } finally {
    // Stopped early (the archive ended, or an error): the decoder is not needed any more. After its
    // whole output it is left to exit by itself; killing it then would turn success into a signal.
    if (!complete && child.exitCode === null) child.kill();
  }
  const { code, error } = await exited;
  if (error?.code === "ENOENT")
    throw new DaxfsError(
      "ENOENT",
      `${label}: ${compression.name}-compressed, and the ${compression.program} program is not installed (apt-get install ${compression.program === "xz" ? "xz-utils" : compression.program})`,
    );
  if (error || code !== 0 || failure) {
    // The decoder's first line, without its own prefix and its name for stdin.
    const why = (stderr.trim().split("\n")[0] ?? "")
      .replace(new RegExp(`^${compression.program}: `), "")
      .replace(/^(\(stdin\)|\/\*stdin\*\\) ?: /, "")
      .replace(/;$/, "");
    throw new DaxfsError(
      "EINVAL",
      `${label}: ${compression.name}: ${why || error?.message || `${compression.program} exited with ${code}`}`,
    );
  }
}

/** The source's bytes, decompressed if they start with a known magic number. */
export async function* layerBytes(source: AsyncIterable<unknown>, label: string): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  // A whole first block, so that a tar header is told apart from a magic number (compressionOf).
  while (head.length < 512) {
    const next = await iterator.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value as Buffer]);
  }
  const rest = { [Symbol.asyncIterator]: () => iterator };
  const compression = compressionOf(head);
  if (compression) {
    yield* decompress(head, rest, compression, label);
    return;
  }
  refuseUnreadCompression(head, label);
  if (head.length > 0) yield head;
  for await (const chunk of rest) yield chunk as Buffer;
}
