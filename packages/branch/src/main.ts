/**
 * Command-line wiring of daxfs-branch (SPEC.md 2.13): `daxfs-branch <command> [NAME] [options]`. Exit status 0 on
 * success, 1 on any error (bad usage included); help exits 0.
 */
import { commanderMessage, errorLine, rejectExtraArguments, usageErrorText, versionText } from "@daxfs/core";
import { Command, CommanderError } from "commander";
import { finishCommand, listCommand } from "./commands.js";
import { createCommand, switchCommand } from "./create.js";
import type { BranchEnv } from "./env.js";

const TOOL = "daxfs-branch";

function buildProgram(env: BranchEnv, setStatus: (status: Promise<number>) => void): Command {
  const program = new Command("daxfs-branch")
    .description(
      "List, create, switch to, commit and abort DAXFS branches (kernel daxfs and daxfs-fuse mounts)",
    )
    .usage("<command> [NAME] [options]")
    .version(versionText(TOOL, import.meta.url).trimEnd(), "--version", "print the version")
    .addHelpText(
      "after",
      "\nExit status: 0 on success, 1 on any error (bad usage included; one line on stderr).",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => env.out(text.trimEnd()),
      writeErr: (text) => env.err(text.trimEnd()),
      // Printed by main() as a short usage error.
      outputError: () => {},
    });

  // The public tool reads a NAME after any command and ignores it but for create: accept it everywhere.
  program
    .command("list")
    .allowExcessArguments()
    .description("list daxfs mounts, or show one with -m")
    .option("-m, --mount <path>", "show the daxfs mount at PATH")
    .action((opts: { mount?: string }) => setStatus(listCommand(env, opts.mount)));

  program
    .command("create")
    .argument("[name]", "name of the new branch (at most 31 bytes)")
    .description("mount a new branch NAME of PARENT at PATH, backed like an existing daxfs mount")
    .option("-m, --mount <path>", "where to mount the new branch")
    .option("-p, --parent <name>", "parent branch (main or an active branch)")
    .option(
      "-s, --source <path>",
      "take the backing from the daxfs mount at PATH (default: see docs/branch.md)",
    )
    .option("--image <file>", "FUSE: serve the branch from this image file with daxfs-fuse")
    .action(
      (
        name: string | undefined,
        opts: { mount?: string; parent?: string; source?: string; image?: string },
      ) => setStatus(createCommand(env, { name, ...opts })),
    );

  program
    .command("switch")
    .argument("[name]", "an existing active branch")
    .description("mount the existing branch NAME at PATH, backed like an existing daxfs mount")
    .option("-m, --mount <path>", "where to mount the branch")
    .option(
      "-s, --source <path>",
      "take the backing from the daxfs mount at PATH (default: see docs/branch.md)",
    )
    .option("--image <file>", "FUSE: serve the branch from this image file with daxfs-fuse")
    .action((name: string | undefined, opts: { mount?: string; source?: string; image?: string }) =>
      setStatus(switchCommand(env, { name, ...opts })),
    );

  program
    .command("commit")
    .allowExcessArguments()
    .description("merge the branch chain mounted at PATH into main (invalidates all siblings)")
    .option("-m, --mount <path>", "the branch mount")
    .action((opts: { mount?: string }) => setStatus(finishCommand(env, "commit", opts.mount)));

  program
    .command("abort")
    .allowExcessArguments()
    .description("discard the branch chain mounted at PATH (back to main)")
    .option("-m, --mount <path>", "the branch mount")
    .action((opts: { mount?: string }) => setStatus(finishCommand(env, "abort", opts.mount)));

  // create and switch take one NAME: a second is an error that names it.
  for (const command of program.commands.filter((c) => ["create", "switch"].includes(c.name())))
    rejectExtraArguments(command);

  // `help [COMMAND]`, as commander's own help command and daxfs-inspect's take it.
  program
    .command("help", { hidden: true })
    .argument("[command]")
    .action((name: string | undefined) => {
      const command = program.commands.find((c) => c.name() === name && name !== "help");
      if (name !== undefined && command === undefined) {
        env.err(usageErrorText(TOOL, { message: `${name}: unknown command` }).trimEnd());
        setStatus(Promise.resolve(1));
        return;
      }
      (command ?? program).outputHelp();
      setStatus(Promise.resolve(0));
    });
  return program;
}

/** Runs daxfs-branch with `args` (argv without node and script); resolves to the exit status. */
export async function main(args: string[], env: BranchEnv): Promise<number> {
  let status: Promise<number> | undefined;
  const program = buildProgram(env, (s) => {
    status = s;
  });
  if (args.length === 0) {
    program.outputHelp({ error: true });
    return 1;
  }
  try {
    await program.parseAsync(args, { from: "user" });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (["commander.helpDisplayed", "commander.help", "commander.version"].includes(err.code)) return 0;
    env.err(usageErrorText(TOOL, { message: commanderMessage(err.message) }).trimEnd());
    return 1;
  }
  if (status === undefined) return 1;
  try {
    return await status;
  } catch (err) {
    // Library errors that no command turned into a message: one line, never a stack trace.
    env.err(errorLine(TOOL, err instanceof Error ? err.message : String(err)).trimEnd());
    return 1;
  }
}
