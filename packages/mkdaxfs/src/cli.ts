#!/usr/bin/env node
// mkdaxfs: flags in, one library call, a summary out (docs/mkdaxfs.md). Exit status: 0 success,
// 1 bad arguments (one line + "Try 'mkdaxfs --help'." on stderr) or a failed build (one
// "mkdaxfs: WHAT: reason" line on stderr; docs/cli.md "Messages").
import { accessSync, constants, realpathSync, type Stats, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  commanderOutput,
  commandLineFailure,
  DaxfsError,
  errorLine,
  hostPath,
  imageFilePath,
  isDaxfsError,
  parseAddress,
  parseSize,
  parseToolArguments,
  requireDeltaSize,
  requirePath,
  requireSize,
  requireWritableOutput,
  runCli,
  showName,
  systemError,
  UsageError,
  workFailure,
} from "@daxfs/core";
import { DAXFS_BLOCK_SIZE } from "@daxfs/format";
import { Command } from "commander";
import { buildToTarget, type MkdaxfsOptions, selectTarget, sourceDateEpoch, sourceName } from "./mkdaxfs.js";
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
    .option(
      "--from-image <IMAGE>",
      "main of an existing DAXFS image (base + main's log) as the source, as daxfs-compact folds it",
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
    .option(
      "--byte-names",
      "store names and symlink targets that are not valid UTF-8 as their exact bytes (default: refuse them)",
    )
    .option("--zero-times", "store no mtimes (every time 0; SOURCE_DATE_EPOCH clamps them otherwise)")
    .option("--exclude <GLOB>", "leave out matching paths (repeatable)", collect)
    .option(
      "--strict",
      "fail on what an image cannot hold (device nodes, FIFOs, sockets, extended attributes) instead of skipping it with a warning",
    )
    .option("--sparse", "leave the image file's blocks of zeros as holes (default: allocate them all)")
    .option("--json", "print a JSON summary instead of the text report")
    .option("-h, --help", "show this help")
    .option("--version", "print the version")
    .addHelpText(
      "after",
      "\nExit status: 0 on success, 1 on bad arguments or a failed build.\nSplit mode: -b with -H or -p and -o (file data goes to the -o file).",
    )
    .allowExcessArguments()
    .exitOverride()
    .configureOutput(commanderOutput(io));
}

function sizeOption(text: string | undefined, flag: string): number | undefined {
  return text === undefined ? undefined : requireSize(text, flag);
}

/** Flag values → checked options, in the public tool's order of checks (SPEC 2.1). */
function toOptions(flags: Record<string, unknown>): MkdaxfsOptions & { json: boolean } {
  const tars = (flags.tar as string[] | undefined) ?? [];
  for (const [key, what] of [
    ["directory", "-d/--directory"],
    ["fromImage", "--from-image"],
    ["output", "-o/--output"],
    ["heap", "-H/--heap"],
    ["mountpoint", "-m/--mountpoint"],
  ] as const)
    requirePath(flags[key] as string | undefined, what);
  for (const tar of tars) requirePath(tar, "--tar");
  if (flags.fromImage !== undefined) {
    if (flags.directory !== undefined || tars.length > 0)
      throw new UsageError("--from-image: cannot be combined with -d/--directory or --tar");
    if (flags.exclude !== undefined || flags.strict === true)
      throw new UsageError("--from-image: --exclude and --strict apply to -d/--tar sources only");
  } else if (flags.directory === undefined && tars.length === 0)
    throw new UsageError("-d/--directory is required", { verbatim: true });
  if (flags.directory !== undefined && tars.length > 0)
    throw new UsageError("--tar: cannot be combined with -d/--directory");
  if (tars.filter((t) => t === "-").length > 1)
    throw new UsageError("--tar -: standard input can be given once");
  let phys: bigint | undefined;
  if (flags.phys !== undefined) {
    const address = parseAddress(flags.phys as string);
    if (address === null) throw new UsageError(`-p/--phys: invalid address '${flags.phys}'`);
    // As in the public tool, address 0 counts as "not given".
    phys = address === 0n ? undefined : address;
  }
  if (flags.output === undefined && flags.heap === undefined && phys === undefined) {
    throw new UsageError("-o/--output, -H/--heap, or -p/--phys is required", { verbatim: true });
  }
  if (flags.heap !== undefined && flags.mountpoint === undefined)
    throw new UsageError("-m/--mountpoint is required with -H/--heap", { verbatim: true });
  let pcacheSlots: number | undefined;
  if (flags.pcacheSlots !== undefined) {
    pcacheSlots = parseSize(flags.pcacheSlots as string) ?? Number.NaN;
    if (!Number.isInteger(pcacheSlots) || (pcacheSlots !== 0 && (pcacheSlots & (pcacheSlots - 1)) !== 0)) {
      throw new UsageError("--pcache-slots must be a power of 2", { verbatim: true });
    }
  }
  // Checked here, before the scan, rather than by the planner after it (docs/cli.md "Messages").
  // Without -b the delta size means nothing (SPEC 2.1), so only its syntax is checked.
  const deltaText = flags.delta as string | undefined;
  const deltaSize =
    flags.branching === true && deltaText !== undefined
      ? requireDeltaSize(deltaText)
      : sizeOption(deltaText, "-D/--delta");
  const size = sizeOption(flags.size as string | undefined, "-s/--size");
  // Every image has at least its superblock block, so a smaller -s (0 included) can only fail:
  // say so now, not after the scan.
  if (size !== undefined && size < DAXFS_BLOCK_SIZE)
    throw new UsageError(
      `-s/--size: ${size} bytes cannot hold an image (not even its ${DAXFS_BLOCK_SIZE}-byte superblock block); leave -s out for the computed size`,
    );
  return {
    directory: flags.directory as string | undefined,
    fromImage: flags.fromImage as string | undefined,
    tars,
    output: flags.output as string | undefined,
    heap: flags.heap as string | undefined,
    mountpoint: flags.mountpoint as string | undefined,
    phys,
    size,
    deltaSize,
    branching: flags.branching === true,
    validate: flags.validate === true,
    pcacheSlots: pcacheSlots === 0 ? undefined : pcacheSlots,
    allRoot: flags.allRoot === true,
    byteNames: flags.byteNames === true,
    zeroTimes: flags.zeroTimes === true,
    exclude: (flags.exclude as string[] | undefined) ?? [],
    strict: flags.strict === true,
    sparse: flags.sparse === true,
    json: flags.json === true,
  };
}

/**
 * The paths the build will write to, checked before the source is read (a typo in -o, -H or -m must
 * not cost a scan of a whole tree first). What the build itself may find (permissions, a full file
 * system) is still reported by the build.
 */
function checkPaths(options: MkdaxfsOptions): void {
  const exists = (path: string, what: string, test: (s: Stats) => boolean, kind: string) => {
    let stat: Stats;
    try {
      stat = statSync(hostPath(path));
    } catch {
      throw new UsageError(`${what}: ${path}: no such ${kind}`);
    }
    if (!test(stat)) throw new UsageError(`${what}: ${path}: not a ${kind}`);
  };
  if (options.heap !== undefined) {
    exists(options.heap, "-H/--heap", (s) => s.isCharacterDevice(), "DMA heap (character device)");
    exists(options.mountpoint as string, "-m/--mountpoint", (s) => s.isDirectory(), "directory");
  }
  // -o is written as the image file, or in split mode as the backing file (SPEC 2.1).
  const { target, split } = selectTarget(options);
  if (options.output !== undefined && (target.kind === "file" || split)) {
    requireWritableOutput(options.output, "-o/--output");
    // A device node or FIFO at -o, or a dangling symlink: refused now, not after the scan.
    try {
      imageFilePath(options.output);
    } catch (error) {
      if (isDaxfsError(error)) throw new UsageError(`-o/--output: ${error.message}`);
      throw error;
    }
  }
}

/**
 * Each source can be read, before anything is printed or read from any of them: with several
 * --tar layers, a missing or unreadable last one must not wait for the first to be read through.
 * The same words as the build's own errors ("SRC: permission denied", systemError).
 */
function checkSources(options: MkdaxfsOptions): void {
  const check = (path: string, kind: "directory" | "a tar archive" | "an image") => {
    let stat: Stats;
    try {
      stat = statSync(hostPath(path));
    } catch (error) {
      throw systemError(error, showName(path));
    }
    if (kind === "directory" && !stat.isDirectory())
      throw new DaxfsError("ENOTDIR", `${showName(path)}: not a directory`);
    if (kind !== "directory" && stat.isDirectory())
      throw new DaxfsError("EISDIR", `${showName(path)}: is a directory, not ${kind}`);
    try {
      accessSync(hostPath(path), constants.R_OK | (kind === "directory" ? constants.X_OK : 0));
    } catch (error) {
      throw systemError(error, showName(path));
    }
  };
  if (options.directory !== undefined) check(options.directory, "directory");
  if (options.fromImage !== undefined) check(options.fromImage, "an image");
  for (const tar of options.tars ?? []) if (tar !== "-") check(tar, "a tar archive");
}

/** Runs mkdaxfs with `argv` (without node and script); resolves to the exit status. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const program = makeProgram(io);
  let options: MkdaxfsOptions & { json: boolean };
  try {
    // The usage on stderr, as the public mkdaxfs prints it (SPEC.md 2.1).
    const flags = parseToolArguments(program, argv, "mkdaxfs", import.meta.url, io, { helpOnStderr: true });
    if (flags === 0) return 0;
    if (program.args.length > 0) throw new UsageError(`${program.args[0]}: unexpected argument`);
    options = toOptions(flags);
    checkPaths(options);
  } catch (error) {
    const status = commandLineFailure("mkdaxfs", error, argv, io);
    if (status === undefined) throw error;
    return status;
  }

  const warnings: string[] = [];
  const progress = ProgressBar.forStream(io.stderr as NodeJS.WriteStream, !options.json);
  try {
    options.sourceDateEpoch = sourceDateEpoch(io.env);
    // "Scanning" only for sources that can be read: one that cannot is the one error line, with
    // nothing before it that reads as if the build had started (docs/cli.md "Messages").
    checkSources(options);
    if (!options.json) io.stdout.write(`Scanning ${sourceName(options)}...\n`);
    const result = await buildToTarget(options, {
      onWarning: (message) => {
        warnings.push(message);
        // Under --json the document's "warnings" carries them and stderr stays empty, as in
        // daxfs-compact (docs/cli.md "Errors under --json").
        if (!options.json) io.stderr.write(errorLine("mkdaxfs", `warning: ${message}`));
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
    return workFailure("mkdaxfs", error, options.json, io);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
if (invokedDirectly)
  runCli("mkdaxfs", main, { stdout: process.stdout, stderr: process.stderr, env: process.env });
