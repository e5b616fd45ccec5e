#!/usr/bin/env node
// mkdaxfs: flags in, one library call, a summary out (docs/mkdaxfs.md). Exit status: 0 success,
// 1 bad arguments (message + usage on stderr) or a failed build (one "Error: ..." line on stderr).
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DaxfsError, parseAddress, parseSize, runCli, UsageError } from "@daxfs/core";
import { Command, CommanderError } from "commander";
import { buildToTarget, type MkdaxfsOptions, sourceDateEpoch } from "./mkdaxfs.js";
import { jsonSummary, ProgressBar, summaryLines } from "./report.js";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

function makeProgram(io: CliIo): Command {
  return new Command("mkdaxfs")
    .description("Build a DAXFS v5 image from a directory or tar layers")
    .helpOption(false)
    .option("-d, --directory <DIR>", "source directory")
    .option(
      "--tar <FILE>",
      "tar stream as source ('-' = stdin); repeat for OCI layers, bottom first",
      collect,
    )
    .option("-o, --output <FILE>", "output image file (split mode: the backing file)")
    .option("-H, --heap <PATH>", "allocate from this DMA heap, write the image and mount it (needs -m)")
    .option("-m, --mountpoint <DIR>", "mount point for -H")
    .option("-p, --phys <ADDR>", "write the image to physical memory at ADDR via /dev/mem")
    .option("-s, --size <SIZE>", "image size (K/M/G suffix; with -o an upper bound); default: computed")
    .option("-b, --branching", "add a branch table, a delta region and the main branch")
    .option("-D, --delta <SIZE>", "delta region size with -b (default 64M)")
    .option(
      "-C, --pcache-slots <N>",
      "page-cache slots in split mode (power of 2; default from the data size)",
    )
    .option("-V, --validate", "mount with the validate option (-H only)")
    .option("--all-root", "store uid and gid 0 for every inode")
    .option("--zero-times", "store no mtimes (every time 0; SOURCE_DATE_EPOCH clamps them otherwise)")
    .option("--exclude <GLOB>", "leave out matching paths (repeatable)", collect)
    .option("--strict", "fail on device nodes, FIFOs and sockets instead of skipping them")
    .option("--sparse", "leave the image file's unwritten blocks as holes (default: allocate them all)")
    .option("--json", "print a JSON summary instead of the text report")
    .option("-h, --help", "show this help")
    .addHelpText(
      "after",
      "\nExit status: 0 on success, 1 on bad arguments or a failed build.\nSplit mode: -b with -H or -p and -o (file data goes to the -o file).",
    )
    .showHelpAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

function sizeOption(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === null) throw new UsageError(`Error: invalid size '${text}' for ${flag}`);
  return bytes;
}

/** Flag values → checked options, in the public tool's order of checks (SPEC 2.1). */
function toOptions(flags: Record<string, unknown>): MkdaxfsOptions & { json: boolean } {
  const tars = (flags.tar as string[] | undefined) ?? [];
  if (flags.directory === undefined && tars.length === 0)
    throw new UsageError("Error: -d/--directory is required");
  if (flags.directory !== undefined && tars.length > 0)
    throw new UsageError("Error: -d/--directory and --tar cannot be combined");
  if (tars.filter((t) => t === "-").length > 1)
    throw new UsageError("Error: --tar - (stdin) can be given once");
  let phys: bigint | undefined;
  if (flags.phys !== undefined) {
    const address = parseAddress(flags.phys as string);
    if (address === null) throw new UsageError(`Error: invalid address '${flags.phys}' for -p/--phys`);
    // As in the public tool, address 0 counts as "not given".
    phys = address === 0n ? undefined : address;
  }
  if (flags.output === undefined && flags.heap === undefined && phys === undefined) {
    throw new UsageError("Error: -o/--output, -H/--heap, or -p/--phys is required");
  }
  if (flags.heap !== undefined && flags.mountpoint === undefined)
    throw new UsageError("Error: -m/--mountpoint is required with -H/--heap");
  let pcacheSlots: number | undefined;
  if (flags.pcacheSlots !== undefined) {
    pcacheSlots = parseSize(flags.pcacheSlots as string) ?? Number.NaN;
    if (!Number.isInteger(pcacheSlots) || (pcacheSlots !== 0 && (pcacheSlots & (pcacheSlots - 1)) !== 0)) {
      throw new UsageError("Error: --pcache-slots must be a power of 2");
    }
  }
  return {
    directory: flags.directory as string | undefined,
    tars,
    output: flags.output as string | undefined,
    heap: flags.heap as string | undefined,
    mountpoint: flags.mountpoint as string | undefined,
    phys,
    size: sizeOption(flags.size as string | undefined, "-s/--size"),
    deltaSize: sizeOption(flags.delta as string | undefined, "-D/--delta"),
    branching: flags.branching === true,
    validate: flags.validate === true,
    pcacheSlots: pcacheSlots === 0 ? undefined : pcacheSlots,
    allRoot: flags.allRoot === true,
    zeroTimes: flags.zeroTimes === true,
    exclude: (flags.exclude as string[] | undefined) ?? [],
    strict: flags.strict === true,
    sparse: flags.sparse === true,
    json: flags.json === true,
  };
}

/** Runs mkdaxfs with `argv` (without node and script); resolves to the exit status. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const program = makeProgram(io);
  let options: MkdaxfsOptions & { json: boolean };
  try {
    program.parse(argv, { from: "user" });
    const flags = program.opts();
    if (flags.help) {
      io.stderr.write(program.helpInformation());
      return 0;
    }
    if (program.args.length > 0) throw new UsageError(`Error: unexpected argument '${program.args[0]}'`);
    options = toOptions(flags);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 1;
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n${program.helpInformation()}`);
      return 1;
    }
    throw error;
  }

  const warnings: string[] = [];
  const progress = ProgressBar.forStream(io.stderr as NodeJS.WriteStream, !options.json);
  try {
    options.sourceDateEpoch = sourceDateEpoch(io.env);
    if (!options.json) io.stdout.write(`Scanning ${options.directory ?? options.tars.join(", ")}...\n`);
    const result = await buildToTarget(options, {
      onWarning: (message) => {
        warnings.push(message);
        io.stderr.write(`Warning: ${message}\n`);
      },
      onPlanned: (plan) => progress?.start(plan),
      onFileCopied: (inode, bytes) => progress?.update(inode, bytes),
    });
    progress?.finish();
    if (options.json) io.stdout.write(`${JSON.stringify(jsonSummary(result, warnings), null, 2)}\n`);
    else io.stdout.write(`${[...summaryLines(result), "Done"].join("\n")}\n`);
    return 0;
  } catch (error) {
    progress?.finish();
    const message =
      error instanceof DaxfsError || isSyscallError(error)
        ? (error as Error).message
        : `internal error: ${String(error)}`;
    io.stderr.write(`Error: ${message}\n`);
    if (io.env.DAXFS_DEBUG && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return 1;
  }
}

function isSyscallError(error: unknown): boolean {
  return error instanceof Error && error.name === "SyscallError";
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedDirectly)
  runCli("mkdaxfs", main, { stdout: process.stdout, stderr: process.stderr, env: process.env });
