// daxfs-inspect's command line (SPEC.md 2.12 plus issue 4): `daxfs-inspect IMAGE [SUBCOMMAND]`, and
// the public `daxfs-inspect list|info|status (-m MNT | -p PHYS -s SIZE) [-b NAME]` with an image
// file accepted in place of -m/-p. Exit status: 0 success (validate: the image is valid), 1 the
// image is corrupt or invalid or a path/branch in it was not found, 2 usage or I/O error.

import {
  commanderMessage,
  DaxfsError,
  DaxfsImage,
  errorLine,
  FileImage,
  type ImageSource,
  jsonErrorText,
  rejectExtraArguments,
  UsageError,
  usageErrorText,
  versionText,
} from "@daxfs/core";
import { Command, CommanderError, Option } from "commander";
import {
  catCommand,
  extractCommand,
  lsCommand,
  type PathOptions,
  statCommand,
  treeCommand,
} from "./commands/files.js";
import { diffCommand, logCommand } from "./commands/log.js";
import {
  branchesCommand,
  branchInfoCommand,
  infoCommand,
  listCommand,
  statusCommand,
} from "./commands/summary.js";
import { tuiArguments, tuiCommand } from "./commands/tui.js";
import { validateCommand } from "./commands/validate.js";
import type { Output } from "./render.js";
import { openSource, type SourceOptions } from "./source.js";

export interface InspectIo {
  stdout(text: string): void;
  stdoutBytes(bytes: Uint8Array): void;
  stderr(text: string): void;
}

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

const COMMANDS = [
  "summary",
  "info",
  "status",
  "list",
  "branches",
  "ls",
  "tree",
  "stat",
  "cat",
  "log",
  "diff",
  "extract",
  "validate",
  "tui",
  "help",
];

interface CommonOptions extends SourceOptions {
  json?: boolean;
  branch?: string;
  backing?: string;
}

/** Options that take a value (the next argument), wherever they stand. */
const VALUE_OPTIONS = new Set([
  "-m",
  "--mount",
  "-p",
  "--phys",
  "-s",
  "--size",
  "--backing",
  "-b",
  "--branch",
  "--image",
  "--max-problems",
]);

/**
 * `IMAGE SUBCOMMAND ARGS` -> `SUBCOMMAND ARGS --image IMAGE`; a bare `IMAGE` is the summary. Options
 * may stand before the subcommand too (`IMAGE --json info`, `-m MNT ls`, `--json IMAGE tree`), as
 * they may in the public tool's `list|info|status (-m|-p -s|IMAGE)` form: they move after it.
 */
export function normalizeArgs(args: string[]): string[] {
  const first = args[0];
  if (first === undefined || COMMANDS.includes(first)) return args;
  const before: string[] = [];
  let image: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith("-")) {
      before.push(arg);
      if (VALUE_OPTIONS.has(arg) && i + 1 < args.length) before.push(args[++i] as string);
      continue;
    }
    if (COMMANDS.includes(arg) && (image !== undefined || before.length > 0)) {
      // --image right after the subcommand: at the end, an option missing its value (`ls -b`)
      // would take it for that value, and after `--` it would be an operand.
      return [arg, ...(image === undefined ? [] : ["--image", image]), ...before, ...args.slice(i + 1)];
    }
    if (image !== undefined) throw new UsageError(`${arg}: unknown subcommand`);
    image = arg;
  }
  // Options without IMAGE or a subcommand (`-m MNT`, `-p ADDR -s SIZE`, `--json`) are the summary's
  // too: of the mount, or the summary's own "IMAGE: ... is required". The top level's flags stay.
  if (image === undefined)
    return before.some((arg) => ["-h", "--help", "--version"].includes(arg)) ? args : ["summary", ...before];
  return ["summary", "--image", image, ...before];
}

class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** The source could not be opened (a missing file, not a mount...): an I/O error, exit 2. */
class SourceError extends Error {
  constructor(readonly failure: DaxfsError) {
    super(failure.message);
  }
}

const TOOL = "daxfs-inspect";

/** Runs daxfs-inspect with `args` (argv without node and script); resolves to the exit status. */
export async function main(args: string[], io: InspectIo): Promise<number> {
  const out = (json: boolean | undefined): Output => ({
    json: json === true,
    write: io.stdout,
    writeBytes: io.stdoutBytes,
  });
  let sourceName = "";

  /** Opens the source (exit 2 if that fails), runs `body`, closes everything. */
  const withSource = async (
    options: CommonOptions,
    body: (source: ImageSource) => unknown,
  ): Promise<void> => {
    let source: ImageSource;
    try {
      source = await openSource(options);
    } catch (error) {
      if (error instanceof DaxfsError) throw new SourceError(error);
      throw error;
    }
    sourceName = source.name;
    try {
      const code = body(source);
      if (typeof code === "number" && code !== 0) throw new ExitCode(code);
    } finally {
      source.close();
    }
  };
  /** The --backing file: one that cannot be opened is a source error (exit 2) naming it alone. */
  const openBacking = (options: CommonOptions): FileImage | undefined => {
    if (options.backing === undefined) return undefined;
    try {
      return FileImage.open(options.backing);
    } catch (error) {
      if (error instanceof DaxfsError) throw new SourceError(error);
      throw error;
    }
  };
  const withImage = (options: CommonOptions, body: (image: DaxfsImage) => unknown) =>
    withSource(options, (source) => {
      const backing = openBacking(options);
      try {
        return body(DaxfsImage.open(source, backing ? { backing } : {}));
      } finally {
        backing?.close();
      }
    });
  const view = (image: DaxfsImage, options: CommonOptions) => image.view(options.branch ?? "main");

  const program = new Command("daxfs-inspect")
    .description(
      "Inspect and validate DAXFS images: an image file, a mounted DAXFS (-m) or physical memory (-p/-s)",
    )
    .usage("IMAGE [command] [options]  |  list|info|status (-m MNT | -p PHYS -s SIZE | IMAGE) [-b NAME]")
    .version(versionText(TOOL, import.meta.url).trimEnd(), "--version", "print the version")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .addHelpText(
      "after",
      "\nWith no command, IMAGE prints a summary (info + branches).\nExit status: 0 ok (validate: image valid), 1 image invalid or corrupt, or a name not found, 2 usage or I/O error.",
    );

  const command = (name: string, description: string, options: { image?: boolean } = {}) => {
    const cmd = program
      .command(name)
      .description(description)
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
      .addOption(new Option("--image <file>", "the image file").hideHelp())
      .option("-m, --mount <path>", "a mounted DAXFS (kernel dma-buf mount or daxfs-fuse)")
      .option("-p, --phys <addr>", "physical address of the image (through /dev/mem)")
      .option("-s, --size <size>", "size of the physical range (K/M/G suffixes)")
      .option("--backing <file>", "backing file of a split image (regular-file data)")
      .option("--json", "print JSON");
    if (options.image) cmd.argument("[image]", "image file");
    // The image goes before the subcommand (normalizeArgs): the usage line shows it there.
    else cmd.configureHelp({ commandUsage: (c) => `${TOOL} IMAGE ${c.name()} ${c.usage()}` });
    return cmd;
  };
  const imageFrom = (options: CommonOptions, positional?: string): CommonOptions => {
    if (positional !== undefined && options.image !== undefined)
      throw new UsageError(`${positional}: a second image file (the first is ${options.image})`);
    return positional === undefined ? options : { ...options, image: positional };
  };

  command("summary", "superblock, regions and branch tree (the default with only IMAGE)").action(
    (options: CommonOptions) =>
      withImage(options, (image) => {
        if (options.json) {
          // One JSON document: the info object with the branch list added.
          const parts: unknown[] = [];
          const capture: Output = { json: true, write: (text) => parts.push(JSON.parse(text)) };
          infoCommand(image, capture);
          branchesCommand(image, capture);
          io.stdout(`${JSON.stringify({ ...(parts[0] as object), branchTree: parts[1] }, null, 2)}\n`);
          return;
        }
        infoCommand(image, out(false));
        if (image.branching) {
          io.stdout("\n");
          branchesCommand(image, out(false));
        }
      }),
  );
  command(
    "info",
    "image: superblock, regions, usage, page cache; with -b NAME: that branch's record (public form)",
    { image: true },
  )
    .option("-b, --branch <name>", "branch to describe")
    .action((positional: string | undefined, options: CommonOptions) =>
      withImage(imageFrom(options, positional), (image) => {
        if (options.branch !== undefined) branchInfoCommand(image, options.branch, out(options.json));
        else infoCommand(image, out(options.json));
        return 0;
      }),
    );
  command("status", "memory usage of the regions (public form)", { image: true }).action(
    (positional: string | undefined, options: CommonOptions) =>
      withImage(imageFrom(options, positional), (image) => statusCommand(image, out(options.json))),
  );
  command("list", "branch table as a list (public form)", { image: true }).action(
    (positional: string | undefined, options: CommonOptions) =>
      withImage(imageFrom(options, positional), (image) => listCommand(image, out(options.json))),
  );
  command("branches", "branch tree with states, parents, log sizes and generations").action(
    (options: CommonOptions) => withImage(options, (image) => branchesCommand(image, out(options.json))),
  );
  for (const name of ["ls", "tree"] as const) {
    command(name, name === "ls" ? "list a directory of a branch" : "the file tree of a branch")
      .argument("[path]", "path inside the image", "/")
      .option("-b, --branch <name>", "branch to read", "main")
      .option("-L, --dereference", "follow a symlink named as the last component of the path")
      .action((path: string, options: CommonOptions & PathOptions) =>
        withImage(options, (image) =>
          (name === "ls" ? lsCommand : treeCommand)(view(image, options), path, out(options.json), options),
        ),
      );
  }
  command("stat", "attributes of one path")
    .argument("<path>", "path inside the image")
    .option("-b, --branch <name>", "branch to read", "main")
    .option("-L, --dereference", "follow a symlink named as the last component of the path")
    .action((path: string, options: CommonOptions & PathOptions) =>
      withImage(options, (image) => statCommand(view(image, options), path, out(options.json), options)),
    );
  command("cat", "write a file's contents to standard output (a symlink is followed)")
    .argument("<path>", "path inside the image")
    .option("-b, --branch <name>", "branch to read", "main")
    // Taken as the other path commands take it, so one option set serves them all: cat follows anyway.
    .option("-L, --dereference", "follow a symlink named as the last component (always done)")
    .action((path: string, options: CommonOptions) =>
      withImage(options, (image) => catCommand(view(image, options), path, out(options.json))),
    );
  command("log", "every entry of a branch's own delta log, decoded")
    .argument("[branch]", "branch name, or id:N", "main")
    .action((branch: string, options: CommonOptions) =>
      withImage(options, (image) => logCommand(image, branch, out(options.json))),
    );
  command("diff", "what a branch changes against its parent")
    .argument("<branch>", "branch name, or id:N")
    .action((branch: string, options: CommonOptions) =>
      withImage(options, (image) => diffCommand(image, branch, out(options.json))),
    );
  command("extract", "write a branch's tree, or the part of it at PATH, to a host directory")
    .argument("<dir>", "target directory (created with any missing parents; if it exists, it must be empty)")
    .argument(
      "[path]",
      "path inside the image: a directory's contents go into DIR, a file or symlink into DIR under its name",
      "/",
    )
    .option("-b, --branch <name>", "branch to read", "main")
    .action((dir: string, path: string, options: CommonOptions) =>
      withImage(options, (image) => extractCommand(view(image, options), dir, out(options.json), path)),
    );
  command(
    "validate",
    "check every structural rule; one line per problem and a verdict (exit 0 valid, 1 invalid)",
  )
    .option("--max-problems <n>", "problems to list before only counting them", "1000")
    .action((options: CommonOptions & { maxProblems: string }) => {
      // Checked before the image is opened: a bad command line is the error, whatever the image.
      const maxProblems = Number(options.maxProblems);
      if (!Number.isInteger(maxProblems) || maxProblems < 1)
        throw new UsageError(`--max-problems: invalid count '${options.maxProblems}'`);
      return withSource(options, (source) => {
        const backing = openBacking(options);
        const backingSize = backing?.size;
        backing?.close();
        return validateCommand(source, out(options.json), { backingSize, maxProblems });
      });
    });

  command("tui", "browse the target interactively (runs daxfs-tui; needs a terminal)").action(
    async (options: CommonOptions) => {
      // What daxfs-tui would refuse is refused here first, so the line is daxfs-inspect's (and JSON
      // under --json) like every other subcommand's: --json itself, the target, no terminal.
      if (options.json) throw new UsageError("--json: tui is interactive and prints no JSON");
      await withSource(options, () => {});
      if (!process.stdin.isTTY || !process.stdout.isTTY)
        throw new SourceError(
          new DaxfsError(
            "ENOTTY",
            `standard input/output: not a terminal; \`${TOOL} ${tuiArguments(options).join(" ")}\` prints the same (also its branches, tree, log BRANCH, diff BRANCH and validate subcommands)`,
          ),
        );
      const code = await tuiCommand(options).catch((error: unknown) => {
        throw error instanceof DaxfsError ? new SourceError(error) : error;
      });
      if (code !== 0) throw new ExitCode(code);
    },
  );

  rejectExtraArguments(program);
  try {
    // `help COMMAND` of no command: commander would print the whole usage and exit 0.
    if (args[0] === "help" && args[1] !== undefined && !COMMANDS.includes(args[1]))
      throw new UsageError(`${args[1]}: unknown subcommand`);
    const normalized = normalizeArgs(args);
    if (normalized.length === 0) {
      io.stderr(program.helpInformation());
      return EXIT_USAGE;
    }
    await program.parseAsync(normalized, { from: "user" });
    return EXIT_OK;
  } catch (error) {
    if (error instanceof ExitCode) return error.code;
    if (
      error instanceof CommanderError &&
      ["commander.helpDisplayed", "commander.help", "commander.version"].includes(error.code)
    )
      return EXIT_OK;
    // Under --json every failure is one JSON document on stdout (docs/cli.md "Messages").
    const json = args.includes("--json");
    const fail = (status: number, code: string, message: string, usage = false): number => {
      if (json) io.stdout(jsonErrorText(TOOL, code, message));
      else io.stderr(usage ? usageErrorText(TOOL, { message }) : errorLine(TOOL, message));
      return status;
    };
    if (error instanceof CommanderError)
      return fail(EXIT_USAGE, "EUSAGE", commanderMessage(error.message), true);
    if (error instanceof UsageError) {
      if (json) return fail(EXIT_USAGE, "EUSAGE", error.message);
      io.stderr(usageErrorText(TOOL, error));
      return EXIT_USAGE;
    }
    if (error instanceof SourceError) return fail(EXIT_USAGE, error.failure.code, error.message);
    if (error instanceof DaxfsError) return fail(EXIT_INVALID, error.code, named(sourceName, error.message));
    if (error instanceof RangeError) {
      // A structure that does not fit where the image says it is: the image is corrupt.
      return fail(EXIT_INVALID, "EUCLEAN", named(sourceName, error.message));
    }
    const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
    if (code !== undefined) {
      // A host error while extracting (EACCES, ENOSPC...): "PATH: reason" from Node's
      // "ENOSPC: no space left on device, open '/x'" (or "..., write", which names no path).
      const { path } = error as NodeJS.ErrnoException;
      const reason = (error as Error).message.replace(/^[A-Z0-9]+: /, "").replace(/, \w+( '.*')?$/, "");
      return fail(EXIT_USAGE, code, path === undefined ? reason : `${path}: ${reason}`);
    }
    throw error;
  }
}

/** `NAME: message`, unless the message already starts with the name (core's errors carry it). */
function named(sourceName: string | undefined, message: string): string {
  if (!sourceName || message.startsWith(`${sourceName}: `)) return message;
  return `${sourceName}: ${message}`;
}
