// The command-line contract every DAXFS tool follows (mkdaxfs, daxfs-inspect, daxfs-branch,
// daxfs-fuse): `main(argv, io)` resolves to the exit status and never calls process.exit, so each
// tool runs in-process in tests; its bin script is one runCli() call. One size grammar and one
// UsageError for all of them (docs/architecture.md "Tools").
import { commandLineArguments } from "./names.js";

/** A tool's entry point: `argv` without node and the script; `io` is what it may touch of the host. */
export type CliMain<Io> = (argv: string[], io: Io) => Promise<number>;

/** A user error on the command line: the tool prints its message and exits with its usage status. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * Runs `main` as the process: its resolved status becomes the exit status; an exception that
 * escaped it is one "NAME: internal error: ..." line and `internalErrorStatus`.
 */
export function runCli<Io>(name: string, main: CliMain<Io>, io: Io, internalErrorStatus = 1): void {
  main(commandLineArguments(), io).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(
        `${name}: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = internalErrorStatus;
    },
  );
}

/** A C-style unsigned number as strtoull(text, 0) reads it: decimal, 0x hex or leading-0 octal. */
export function parseAddress(text: string): bigint | null {
  return parseCNumber(text.trim());
}

function parseCNumber(digits: string): bigint | null {
  if (/^0[xX][0-9a-fA-F]+$/.test(digits)) return BigInt(digits);
  if (/^0[0-7]*$/.test(digits)) return BigInt(`0o${digits.slice(1) || "0"}`);
  if (/^[1-9][0-9]*$/.test(digits)) return BigInt(digits);
  return null;
}

const UNIT_SHIFT: Record<string, bigint> = { "": 0n, k: 10n, m: 20n, g: 30n };

/**
 * A size argument: a C-style number (parseAddress) with an optional binary unit K, M or G, which
 * may be written KiB, MiB, GiB (or KB, MB, GB; any case): "4096", "0x1000", "64M", "1GiB".
 * Null when the text is not a size or the bytes exceed 2^53.
 */
export function parseSize(text: string): number | null {
  const match = /^(.+?)(?:([kmg])(?:i?b)?)?$/i.exec(text.trim());
  if (!match) return null;
  const value = parseCNumber(match[1] ?? "");
  if (value === null) return null;
  const bytes = value << (UNIT_SHIFT[(match[2] ?? "").toLowerCase()] ?? 0n);
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : null;
}

/** parseSize for an option: a UsageError naming `what` when `text` is not a size. */
export function requireSize(text: string, what: string): number {
  const bytes = parseSize(text);
  if (bytes === null) throw new UsageError(`invalid ${what} '${text}'`);
  return bytes;
}
