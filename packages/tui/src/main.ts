// daxfs-tui's command line: `daxfs-tui TARGET` where TARGET is what daxfs-inspect accepts (an image
// file with an optional --backing file, -m MNT, or -p ADDR -s SIZE). Exit status: 0 after a quit,
// 2 for a usage error, a target that cannot be read, or an output that is not a terminal.
import { parseArgs } from "node:util";
import {
  commanderMessage,
  DaxfsError,
  errorLine,
  FileImage,
  type ImageSource,
  UsageError,
  usageErrorText,
  versionText,
} from "@daxfs/core";
import { openSource } from "@daxfs/inspect";
import { Session } from "./session.js";
import { loadUi } from "./ui.js";

export const EXIT_OK = 0;
export const EXIT_USAGE = 2;

export interface TuiIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The terminal to draw on; absent when standard input or output is not a TTY. */
  terminal?: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream };
  env?: NodeJS.ProcessEnv;
}

const USAGE = `Usage: daxfs-tui IMAGE [--backing FILE] | -m MNT | -p ADDR -s SIZE | --version | -h

Browse a DAXFS image, its branch tree, delta logs and files; a live target refreshes.
Press ? inside for the keys. Without a terminal, use daxfs-inspect TARGET summary (and its
branches, tree, log BRANCH, diff BRANCH and validate subcommands), which print the same.
Exit status: 0 after quitting, 2 on any error (one line on stderr).
`;

const TOOL = "daxfs-tui";

/** node:util parseArgs' message in our form: "unknown option '--x'", without its long advice. */
function parseArgsMessage(error: Error): string {
  const first = error.message.split(/\. /)[0] ?? error.message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** The daxfs-inspect command that prints what the TUI would show, for the not-a-terminal message. */
export function inspectCommand(args: string[]): string {
  return `daxfs-inspect ${args.join(" ")}${args[0]?.startsWith("-") ? " info" : ""}`.trim();
}

export async function main(args: string[], io: TuiIo): Promise<number> {
  let values: {
    mount?: string;
    phys?: string;
    size?: string;
    backing?: string;
    help?: boolean;
    version?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        mount: { type: "string", short: "m" },
        phys: { type: "string", short: "p" },
        size: { type: "string", short: "s" },
        backing: { type: "string" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean" },
      },
    }));
  } catch (error) {
    io.stderr(usageErrorText(TOOL, { message: commanderMessage(parseArgsMessage(error as Error)) }));
    return EXIT_USAGE;
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT_OK;
  }
  if (values.version) {
    io.stdout(versionText(TOOL, import.meta.url));
    return EXIT_OK;
  }
  if (positionals.length > 1) {
    io.stderr(
      usageErrorText(TOOL, { message: `${positionals[1]}: one TARGET only (got ${positionals.join(" ")})` }),
    );
    return EXIT_USAGE;
  }
  if (positionals.length === 0 && values.mount === undefined && values.phys === undefined) {
    io.stderr(
      usageErrorText(TOOL, { message: "TARGET: an image file, -m MNT or -p ADDR -s SIZE is required" }),
    );
    return EXIT_USAGE;
  }
  let source: ImageSource;
  let backing: ImageSource | undefined;
  try {
    source = await openSource({
      image: positionals[0],
      mount: values.mount,
      phys: values.phys,
      size: values.size,
    });
    if (values.backing !== undefined) backing = FileImage.open(values.backing);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(usageErrorText(TOOL, error));
      return EXIT_USAGE;
    }
    if (error instanceof DaxfsError) {
      io.stderr(errorLine(TOOL, error.message));
      return EXIT_USAGE;
    }
    throw error;
  }
  // The target is checked before the terminal: a missing file, or one that is no DAXFS image, says
  // so with or without a TTY (on a terminal a corrupt image opens in the validation view instead).
  if (!io.terminal) {
    const checked = Session.open(source, backing ? { backing } : {});
    checked.close();
    backing?.close();
    if (checked.openError !== null) {
      const name = source.name;
      io.stderr(
        errorLine(
          TOOL,
          checked.openError.startsWith(`${name}: `) ? checked.openError : `${name}: ${checked.openError}`,
        ),
      );
      return EXIT_USAGE;
    }
    io.stderr(
      `daxfs-tui: standard input/output: not a terminal; \`${inspectCommand(args)}\` prints the same (also its branches, tree, log BRANCH, diff BRANCH and validate subcommands)\n`,
    );
    return EXIT_USAGE;
  }
  const session = Session.open(source, backing ? { backing } : {});
  try {
    const draw = await loadUi();
    const target = { imageFile: positionals[0], mountPoint: values.mount };
    await draw(session, target, io.terminal, io.env ?? {});
  } finally {
    session.close();
    backing?.close();
  }
  return EXIT_OK;
}
