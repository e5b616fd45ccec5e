// The command-line contract every DAXFS tool follows (mkdaxfs, daxfs-inspect, daxfs-compact, daxfs-branch,
// daxfs-fuse, daxfs-tui): `main(argv, io)` resolves to the exit status and never calls process.exit,
// so each tool runs in-process in tests; its bin script is one runCli() call. One size grammar, one
// UsageError and one error format for all of them (docs/cli.md "Messages").
import { accessSync, constants, readFileSync, type Stats, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DAXFS_PUBLIC_LOG_CAPACITY, DAXFS_VERSION } from "@daxfs/format";
import { DaxfsError, systemError } from "./errors.js";
import { commandLineArguments, hostPath, showName } from "./names.js";

/** A tool's entry point: `argv` without node and the script; `io` is what it may touch of the host. */
export type CliMain<Io> = (argv: string[], io: Io) => Promise<number>;

/**
 * A user error on the command line: the tool prints it as a short usage error (errorLine, then
 * "Try 'TOOL --help'.") and exits with its usage status. The message is "WHAT: reason", WHAT being
 * the option or argument concerned.
 */
export class UsageError extends Error {
  override readonly name = "UsageError";
  /** A message the public tool prints word for word (see errorLine). */
  readonly verbatim: boolean;
  constructor(message: string, options: { verbatim?: boolean } = {}) {
    super(message);
    this.verbatim = options.verbatim === true;
  }
}

/**
 * The one error line of every tool: "TOOL: WHAT: reason" (the message carries "WHAT: reason").
 * `verbatim` messages are those SPEC.md documents for the public mkdaxfs, daxfs-inspect and
 * daxfs-branch ("Error: -d/--directory is required"): they keep the public tool's exact words, so
 * scripts written against it still match.
 */
export function errorLine(tool: string, message: string, verbatim = false): string {
  // One line, whatever the message holds (a failed mount's kernel log lines go after "; ").
  const line = message.trim().replace(/\s*\n\s*/g, "; ");
  return verbatim ? `Error: ${line}\n` : `${tool}: ${line}\n`;
}

/** A short usage error: one line, then where the full usage is (never the usage itself). */
export function usageErrorText(tool: string, error: { message: string; verbatim?: boolean }): string {
  return `${errorLine(tool, error.message, error.verbatim)}Try '${tool} --help'.\n`;
}

/**
 * A failure under --json: one JSON document on standard output (where the consumer is already
 * reading), `{"error": {"tool", "code", "message"}}`; `code` is the errno name (ENOENT, EUCLEAN...)
 * or EUSAGE for a bad command line. Nothing goes to stderr, so the output stays one document.
 */
export function jsonErrorText(tool: string, code: string, message: string): string {
  return `${JSON.stringify({ error: { tool, code, message } })}\n`;
}

/** "-d, --directory <DIR>" (commander's flags text) as our messages name an option: "-d/--directory". */
function optionName(flags: string): string {
  return flags
    .split(/[ ,|]+/)
    .filter((word) => word.startsWith("-"))
    .join("/");
}

/**
 * Commander's own messages, each in the form of every other error, "WHAT: reason" (docs/cli.md
 * "Messages"): "error: unknown option '--x'" becomes "--x: unknown option", "error: option '-d,
 * --directory <DIR>' argument missing" "-d/--directory: missing value", "error: missing required
 * argument 'path'" "PATH: missing argument". A suggestion ("(Did you mean --json?)") stays, on
 * the same line. A message of no known form only loses commander's "error: ".
 */
export function commanderMessage(message: string): string {
  const [first = "", ...more] = message.replace(/^error: /, "").split("\n");
  const hint = more.join(" ").trim();
  const rules: Array<[RegExp, (m: string[]) => string]> = [
    [/^unknown option '(.*)'$/, (m) => `${m[1]}: unknown option`],
    [/^unknown command '(.*)'$/, (m) => `${m[1]}: unknown command`],
    [/^option '(.*)' argument missing$/, (m) => `${optionName(m[1] ?? "")}: missing value`],
    [/^missing required argument '(.*)'$/, (m) => `${(m[1] ?? "").toUpperCase()}: missing argument`],
    [/^option '(.*)' does not take an argument$/, (m) => `${optionName(m[1] ?? "")}: takes no value`],
    [/^required option '(.*)' not specified$/, (m) => `${optionName(m[1] ?? "")}: required option missing`],
    [
      /^option '(.*)' cannot be used with option '(.*)'$/,
      (m) => `${optionName(m[1] ?? "")}: cannot be combined with ${optionName(m[2] ?? "")}`,
    ],
    [
      /^option '(.*)' argument '(.*)' is invalid\. ?(.*)$/,
      (m) => `${optionName(m[1] ?? "")}: invalid value '${m[2]}'${m[3] ? `: ${m[3]}` : ""}`,
    ],
    [
      /^too many arguments(?: for '(.*)')?\. Expected (\d+) arguments? but got (\d+)\.$/,
      (m) => `${m[1] ?? "arguments"}: too many arguments (expected ${m[2]}, got ${m[3]})`,
    ],
  ];
  for (const [pattern, form] of rules) {
    const match = pattern.exec(first);
    if (match) return hint ? `${form(match)} ${hint}` : form(match);
  }
  return hint ? `${first} ${hint}` : first;
}

/** The part of a commander Command that rejectExtraArguments uses. */
export interface ArgumentsCommand {
  readonly args: string[];
  readonly registeredArguments: readonly { variadic: boolean }[];
  readonly commands: readonly ArgumentsCommand[];
  allowExcessArguments(allow?: boolean): unknown;
  hook(event: "preAction", listener: (command: ArgumentsCommand, action: ArgumentsCommand) => void): unknown;
  error(message: string, options: { code: string; exitCode: number }): never;
}

/**
 * An operand more than `command` (or any of its subcommands) takes is a usage error that names it,
 * "EXTRA: unexpected argument", as mkdaxfs and daxfs-compact name theirs; commander's own check can
 * only count them ("too many arguments. Expected 2 arguments but got 3."). Raised through
 * `command.error`, so it is the CommanderError each tool already prints as a short usage error.
 */
export function rejectExtraArguments(command: ArgumentsCommand): void {
  const allow = (each: ArgumentsCommand): void => {
    each.allowExcessArguments(true);
    for (const sub of each.commands) allow(sub);
  };
  allow(command);
  command.hook("preAction", (_command, action) => {
    const declared = action.registeredArguments;
    if (declared.some((argument) => argument.variadic)) return;
    const extra = action.args[declared.length];
    if (extra !== undefined)
      action.error(`${extra}: unexpected argument`, { code: "commander.excessArguments", exitCode: 1 });
  });
}

/**
 * `--version` output: the tool's package version (its package.json, found from `moduleUrl`
 * upwards, so it works from dist/, a bundle or the sources) and the format version it handles.
 */
export function versionText(tool: string, moduleUrl: string): string {
  return `${tool} ${packageVersion(moduleUrl)} (DAXFS format v${DAXFS_VERSION})\n`;
}

function packageVersion(moduleUrl: string): string {
  for (let dir = dirname(fileURLToPath(moduleUrl)); ; dir = dirname(dir)) {
    try {
      const json = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version?: unknown };
      if (typeof json.version === "string") return json.version;
    } catch {
      // No package.json here: keep looking upwards.
    }
    if (dirname(dir) === dir) return "unknown";
  }
}

/**
 * Runs `main` as the process: its resolved status becomes the exit status; an exception that
 * escaped it is one "NAME: internal error: ..." line and `internalErrorStatus`.
 */
export function runCli<Io>(name: string, main: CliMain<Io>, io: Io, internalErrorStatus = 1): void {
  for (const stream of [process.stdout, process.stderr]) endOutputOnClosedPipe(name, stream);
  main(commandLineArguments(), io).then(
    (status) => {
      process.exitCode = status;
    },
    (error: unknown) => {
      process.stderr.write(
        errorLine(name, `internal error: ${error instanceof Error ? error.message : String(error)}`),
      );
      process.exitCode = internalErrorStatus;
    },
  );
}

/**
 * A reader that went away (`mkdaxfs -d DIR -o IMG | head -1`) ends what the process prints, not its
 * work: the build still completes and its status stands (docs/cli.md "Messages"). Node's default is an
 * unhandled 'error' event, i.e. a stack trace and exit 1 in the middle of writing an image. Any other
 * error of the stream (EIO on a hung-up terminal) is one line on stderr, when stderr still takes it.
 */
export function endOutputOnClosedPipe(name: string, stream: NodeJS.WritableStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE" || error.code === "ERR_STREAM_DESTROYED") return;
    if (stream !== process.stderr && !process.stderr.destroyed)
      process.stderr.write(errorLine(name, `standard output: ${error.message}`));
    process.exitCode = 1;
  });
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

/** parseSize for an option: a UsageError naming the option `what` ("-s/--size") if `text` is not a size. */
export function requireSize(text: string, what: string): number {
  const bytes = parseSize(text);
  if (bytes === null) throw new UsageError(`${what}: invalid size '${text}'`);
  return bytes;
}

/**
 * A -D/--delta value (SIZE text) for a branching result: at least main's public 1 MiB log
 * (docs/space.md), checked with the command line so the tool fails before any work
 * (docs/cli.md "Messages"). mkdaxfs and daxfs-compact share it, and so its words.
 */
export function requireDeltaSize(text: string): number {
  const bytes = requireSize(text, "-D/--delta");
  if (bytes < DAXFS_PUBLIC_LOG_CAPACITY)
    throw new UsageError(
      `-D/--delta: ${bytes} bytes cannot hold the main branch's log (${DAXFS_PUBLIC_LOG_CAPACITY} bytes, 1M); give at least 1M`,
    );
  return bytes;
}

/**
 * A path operand or option value given as "" (an unset shell variable: `mkdaxfs -d "$SRC"`): a
 * usage error naming it, not "': no such file or directory'" of nothing, nor the current directory
 * that path.resolve("") makes of it. Returns `text` (undefined passes).
 */
export function requirePath<T extends string | undefined>(text: T, what: string): T {
  if (text === "") throw new UsageError(`${what}: empty path`);
  return text;
}

/**
 * An output file a tool will create or replace (`what` names its option, "-o/--output"), checked
 * with the command line so that a typo costs no scan or fold first (docs/cli.md "Messages"): its
 * directory exists, it is not a directory, and it (or, when new, its directory) can be written;
 * access(2) also says EROFS for a read-only file system. What only the write can tell (a full
 * disk) is still the work's error.
 */
export function requireWritableOutput(output: string, what: string): void {
  let existing: Stats | undefined;
  try {
    existing = statSync(hostPath(output));
  } catch {
    // Not there yet: its directory must be.
  }
  if (existing?.isDirectory()) throw new UsageError(`${what}: ${showName(output)}: is a directory`);
  const dir = dirname(output);
  if (existing === undefined) {
    let parent: Stats;
    try {
      parent = statSync(hostPath(dir));
    } catch {
      throw new UsageError(`${what}: ${showName(dir)}: no such directory`);
    }
    if (!parent.isDirectory()) throw new UsageError(`${what}: ${showName(dir)}: not a directory`);
  }
  const target = existing === undefined ? dir : output;
  try {
    accessSync(hostPath(target), constants.W_OK);
  } catch (error) {
    throw new UsageError(`${what}: ${systemError(error, showName(target)).message}`);
  }
}

/** The streams a tool prints to (Node streams, or the test captures). */
export interface ToolStreams {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

/** The part of a commander Command that parseToolArguments uses (core needs no commander import). */
export interface ParsableCommand {
  parse(argv: string[], options: { from: "user" }): unknown;
  opts(): Record<string, unknown>;
  helpInformation(): string;
}

/**
 * Parses a tool's command line and answers the two flags every tool has: `--help` (the usage on
 * stdout, as daxfs-inspect, daxfs-branch, daxfs-fuse and daxfs-tui print it, so `--help | less`
 * works; on stderr with `helpOnStderr`, for mkdaxfs, whose public tool prints it there, SPEC.md
 * 2.1) and `--version` (versionText of the package at `moduleUrl`).
 * Returns the parsed flags, or 0 when one of those was answered. Throws what commander throws and
 * what the caller's checks throw (commandLineFailure turns both into the exit status).
 */
export function parseToolArguments(
  program: ParsableCommand,
  argv: string[],
  tool: string,
  moduleUrl: string,
  io: ToolStreams,
  options: { helpOnStderr?: boolean } = {},
): Record<string, unknown> | 0 {
  program.parse(argv, { from: "user" });
  const flags = program.opts();
  if (flags.help) {
    (options.helpOnStderr ? io.stderr : io.stdout).write(program.helpInformation());
    return 0;
  }
  if (flags.version) {
    io.stdout.write(versionText(tool, moduleUrl));
    return 0;
  }
  return flags;
}

/**
 * What a tool does with an exception thrown while its command line is parsed: commander's own exit
 * (`--help`, status 0); a bad command line (one short usage error on stderr, or the JSON error
 * document on stdout under --json; status 1); undefined for anything else, which the caller rethrows.
 * Commander errors are recognised by their `commander.*` code, so core needs no commander import.
 */
export function commandLineFailure(
  tool: string,
  error: unknown,
  argv: string[],
  io: ToolStreams,
): number | undefined {
  const commander =
    error instanceof Error && String((error as { code?: unknown }).code).startsWith("commander.");
  if (commander && (error as { exitCode?: unknown }).exitCode === 0) return 0;
  if (!commander && !(error instanceof UsageError)) return undefined;
  const usage = error instanceof UsageError ? error : { message: commanderMessage((error as Error).message) };
  if (argv.includes("--json")) io.stdout.write(jsonErrorText(tool, "EUSAGE", usage.message));
  else io.stderr.write(usageErrorText(tool, usage));
  return 1;
}

/**
 * Prints the failure of a tool's work (after its command line was accepted): a DaxfsError or a
 * failed system call is its message, anything else an internal error; one line on stderr, or the
 * JSON error document on stdout with `json`. DAXFS_DEBUG adds the stack. Returns the status, 1.
 */
export function workFailure(
  tool: string,
  error: unknown,
  json: boolean,
  io: ToolStreams & { env: NodeJS.ProcessEnv },
): number {
  const known = error instanceof DaxfsError || (error instanceof Error && error.name === "SyscallError");
  const message = known ? (error as Error).message : `internal error: ${String(error)}`;
  const code = known ? ((error as { code?: string }).code ?? "EIO") : "EINTERNAL";
  if (json) io.stdout.write(jsonErrorText(tool, code, message));
  else io.stderr.write(errorLine(tool, message));
  if (io.env.DAXFS_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
  return 1;
}

/** Commander's output for a tool: help to the tool's streams, its own error printing off (ours is one line). */
export function commanderOutput(io: ToolStreams): {
  writeOut: (text: string) => void;
  writeErr: (text: string) => void;
  outputError: () => void;
} {
  return {
    writeOut: (text) => io.stdout.write(text),
    writeErr: (text) => io.stderr.write(text),
    outputError: () => {},
  };
}
