// daxfs-compact IMAGE [-o OUT]: folds main (base + main's log) into the base of a fresh image with
// an empty main and no other branch (docs/space.md "Compaction"); the folding is @daxfs/core's
// compactImage, shared with `mkdaxfs --from-image`. Exit status: 0 done (or nothing to do: a static
// image has no main to fold), 1 for a bad command line (one line + "Try 'daxfs-compact --help'.")
// or an image that cannot be compacted (one line
// "daxfs-compact: IMAGE: reason"; nothing written). Under --json the failure is a JSON document on
// stdout instead (docs/cli.md "Messages").
import {
  type CompactOptions,
  type CompactResult,
  commanderOutput,
  commandLineFailure,
  compactImage,
  errorLine,
  openCompactionSource,
  parseToolArguments,
  planContentsText,
  planInodeTypes,
  requireDeltaSize,
  requirePath,
  requireWritableOutput,
  showName,
  UsageError,
  workFailure,
} from "@daxfs/core";
import { allocateImageFile, unnamedFiles } from "@daxfs/linux";
import { Command } from "commander";

const TOOL = "daxfs-compact";

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

function makeProgram(io: CliIo): Command {
  return new Command(TOOL)
    .description(
      "Fold main (base + main's log) into a new base: a fresh image with an empty main and no other branch",
    )
    .usage("IMAGE [options]")
    .argument("[IMAGE]", "the image file (static or branching)")
    .helpOption(false)
    .option("-o, --output <FILE>", "write the result here (default: replace IMAGE, through a temporary file)")
    .option("-f, --force", "compact although branches are active or the image is mounted (they are lost)")
    .option("-D, --delta <SIZE>", "delta region size of the result (default: IMAGE's; 64M with -b)")
    .option("-b, --branching", "make the result a branching image (default: IMAGE's mode)")
    .option("--static", "make the result a static image (no branch table, no delta region)")
    .option("--zero-times", "store no mtimes (every time 0; the result is then plain v5)")
    .option("--sparse", "leave the result's blocks of zeros as holes (default: allocate them all)")
    .option("--json", "print a JSON summary instead of the text report")
    .option("-h, --help", "show this help")
    .option("--version", "print the version")
    .addHelpText(
      "after",
      "\nExit status: 0 compacted (or a static image with nothing to fold: nothing written),\n1 on a bad command line or an image that cannot be compacted\n(nothing is written then). Split images are refused. Take the image offline first: mounts\nof it keep reading the old file.",
    )
    .allowExcessArguments()
    .exitOverride()
    .configureOutput(commanderOutput(io));
}

interface Parsed {
  input: string;
  options: CompactOptions;
  json: boolean;
  sparse: boolean;
}

function toOptions(args: string[], flags: Record<string, unknown>): Parsed {
  const [input, extra] = args;
  if (input === undefined) throw new UsageError("IMAGE: missing argument");
  requirePath(input, "IMAGE");
  requirePath(flags.output as string | undefined, "-o/--output");
  if (extra !== undefined) throw new UsageError(`${extra}: unexpected argument`);
  if (flags.branching === true && flags.static === true)
    throw new UsageError("--static: cannot be combined with -b/--branching");
  if (flags.delta !== undefined && flags.static === true)
    throw new UsageError("-D/--delta: a static image has no delta region");
  const mode = flags.static === true ? "static" : flags.branching === true ? "branching" : undefined;
  if (flags.output !== undefined) requireWritableOutput(flags.output as string, "-o/--output");
  return {
    input,
    options: {
      output: flags.output as string | undefined,
      force: flags.force === true,
      mode,
      deltaSize: flags.delta === undefined ? undefined : requireDeltaSize(flags.delta as string),
      zeroTimes: flags.zeroTimes === true,
    },
    json: flags.json === true,
    sparse: flags.sparse === true,
  };
}

function report(result: CompactResult): string[] {
  const { plan } = result;
  const lines = [
    `${showName(result.input)}: main folded into a new base (${planContentsText(plan)})`,
    `Base image: ${result.baseBefore} -> ${plan.baseSize} bytes (main's log of ${result.mainLogBytes} bytes folded in)`,
  ];
  if (plan.mode === "branching") {
    const before = result.deltaUsedBefore === null ? "" : `${result.deltaUsedBefore} -> `;
    lines.push(
      `Delta region: ${plan.deltaRegionSize} bytes, in use ${before}${plan.mainLog?.capacity ?? 0} (main's empty log)`,
    );
  } else lines.push("Mode: static (read-only)");
  lines.push(`Image size: ${result.bytesBefore} -> ${result.bytesAfter} bytes`);
  lines.push(`Wrote ${showName(result.output)}${result.inPlace ? " (in place)" : ""}`);
  return lines;
}

function jsonReport(result: CompactResult, warnings: string[]): Record<string, unknown> {
  const { plan } = result;
  return {
    input: result.input,
    output: result.output,
    inPlace: result.inPlace,
    mode: plan.mode,
    // The counts of docs/cli.md "Counts", with the keys mkdaxfs --json gives them.
    inodes: plan.inodes.length,
    names: plan.nameCount,
    ...planInodeTypes(plan),
    baseBytesBefore: result.baseBefore,
    baseBytes: plan.baseSize,
    mainLogBytes: result.mainLogBytes,
    deltaUsedBefore: result.deltaUsedBefore,
    deltaUsed: plan.mainLog?.capacity ?? 0,
    deltaRegionBytes: plan.mode === "static" ? 0 : plan.deltaRegionSize,
    bytesBefore: result.bytesBefore,
    bytesAfter: result.bytesAfter,
    droppedBranches: result.droppedBranches,
    warnings,
  };
}

/**
 * Why there is no work, or null. A static image has no branches, so no main log to fold: kept
 * static and rebuilt as it is, the result would be the same image. Nothing is written then (not
 * even -o's file); an option that changes the result (-b, --zero-times, -D) still rebuilds.
 */
function nothingToFold(parsed: Parsed): string | null {
  const { options } = parsed;
  const changes = options.mode === "branching" || options.zeroTimes || options.deltaSize !== undefined;
  if (changes) return null;
  const source = openCompactionSource(parsed.input);
  source.image.close();
  if (source.mode !== "static") return null;
  return "a static image has no main: nothing to fold, nothing written (-b makes it a branching image)";
}

/** Runs daxfs-compact with `argv` (without node and script); resolves to the exit status. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  const program = makeProgram(io);
  let parsed: Parsed;
  try {
    const flags = parseToolArguments(program, argv, TOOL, import.meta.url, io);
    if (flags === 0) return 0;
    parsed = toOptions(program.args, flags);
  } catch (error) {
    const status = commandLineFailure(TOOL, error, argv, io);
    if (status === undefined) throw error;
    return status;
  }

  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    if (!parsed.json) io.stderr.write(errorLine(TOOL, `warning: ${message}`));
  };
  try {
    const nothing = nothingToFold(parsed);
    if (nothing !== null) {
      if (parsed.json)
        io.stdout.write(
          `${JSON.stringify({ input: parsed.input, output: null, folded: false, reason: nothing, warnings }, null, 2)}\n`,
        );
      else io.stdout.write(`${showName(parsed.input)}: ${nothing}\n`);
      return 0;
    }
    const output = parsed.options.output ?? parsed.input;
    const result = compactImage(parsed.input, {
      ...parsed.options,
      allocate: parsed.sparse ? undefined : allocateImageFile(output, warn),
      sparse: parsed.sparse,
      unnamed: unnamedFiles,
    });
    if (result.droppedBranches.length > 0)
      warn(`${showName(parsed.input)}: active branches dropped: ${result.droppedBranches.join(", ")}`);
    if (parsed.json) io.stdout.write(`${JSON.stringify(jsonReport(result, warnings), null, 2)}\n`);
    else io.stdout.write(`${report(result).join("\n")}\n`);
    return 0;
  } catch (error) {
    return workFailure(TOOL, error, parsed.json, io);
  }
}
