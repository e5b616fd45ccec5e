// daxfs-fuse IMAGE MNT [--branch NAME [--parent NAME]] [-o OPTS] [--validate] [-f] (docs/fuse.md): mounts,
// serves until unmounted or stopped, and resolves to the exit status. Exit status: 0 unmounted
// cleanly; 1 the mount could not be made or torn down (one line on stderr says why).

import { resolve } from "node:path";
import {
  commanderMessage,
  errorLine,
  isDaxfsError,
  rejectExtraArguments,
  usageErrorText,
  versionText,
} from "@daxfs/core";
import { Command, CommanderError } from "commander";
import { mountDaxfs } from "./mount.js";
import { parseMountOptions } from "./mount-options.js";
import { fuseNativeUtimensFixed } from "./utimens.js";

export interface FuseIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Resolves when the server is asked to stop (SIGINT, SIGTERM): the mount is then closed. */
  stop: Promise<void>;
}

const TOOL = "daxfs-fuse";

interface FuseFlags {
  branch?: string;
  parent?: string;
  validate?: boolean;
  options?: string[];
}

/** Runs daxfs-fuse with `argv` (without node and script); resolves once the mount is gone. */
export async function main(argv: string[], io: FuseIo): Promise<number> {
  let request: { image: string; mountpoint: string; flags: FuseFlags } | undefined;
  const program = new Command("daxfs-fuse")
    .description("Serve a DAXFS image over FUSE: main read-only, or a writable branch")
    .argument("<image>", "DAXFS image file (branching images can be written)")
    .argument("<mountpoint>", "directory to mount on")
    .option("-b, --branch <name>", "branch to serve (default main, read-only)")
    .option("-p, --parent <name>", "create --branch as a new child of this branch")
    .option(
      "-o, --options <list>",
      "FUSE mount options, comma-separated (allow_other, default_permissions, ro, nosuid, ...)",
      (list: string, previous: string[] | undefined) => [...(previous ?? []), list],
    )
    .option("--validate", "check the whole image before mounting")
    .option("-f, --foreground", "stay in the foreground (always the case; accepted for compatibility)")
    .version(versionText(TOOL, import.meta.url).trimEnd(), "--version", "print the version")
    .addHelpText(
      "after",
      "\nServes in the foreground until the mount goes (fusermount -u MOUNTPOINT) or SIGINT/SIGTERM; an uncommitted\nbranch is then dropped (commit it first: daxfs-branch commit -m MOUNTPOINT). Exit status: 0 after a clean\nunmount, 1 on any error (one line on stderr).",
    )
    .exitOverride()
    // Errors are printed below as short usage errors.
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })
    .action((image: string, mountpoint: string, flags: FuseFlags) => {
      request = { image, mountpoint, flags };
    });
  rejectExtraArguments(program);
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.exitCode === 0) return 0;
    io.stderr(usageErrorText(TOOL, { message: commanderMessage(error.message) }));
    return 1;
  }
  if (!request) return 1;
  const { image, mountpoint, flags } = request;
  for (const [path, what] of [
    [image, "IMAGE"],
    [mountpoint, "MOUNTPOINT"],
  ] as const)
    if (path === "") {
      io.stderr(usageErrorText(TOOL, { message: `${what}: empty path` }));
      return 1;
    }
  if (flags.parent !== undefined && flags.branch === undefined) {
    io.stderr(usageErrorText(TOOL, { message: "--parent: needs --branch" }));
    return 1;
  }
  let fuseOptions: string[];
  try {
    fuseOptions = parseMountOptions(
      flags.options ?? [],
      flags.branch !== undefined && flags.branch !== "main",
    );
  } catch (error) {
    // A bad -o is a bad command line: the option named, and the pointer to --help.
    const reason = error instanceof Error ? error.message : String(error);
    io.stderr(usageErrorText(TOOL, { message: `-o/--options: ${reason}` }));
    return 1;
  }
  let mount: Awaited<ReturnType<typeof mountDaxfs>>;
  try {
    mount = await mountDaxfs({
      fuseOptions,
      image,
      mountpoint,
      branch: flags.branch,
      parent: flags.parent,
      validate: flags.validate,
    });
  } catch (error) {
    const message = isDaxfsError(error) || error instanceof Error ? error.message : String(error);
    // The mount works on the absolute path; the user is shown the image as they named it, as
    // daxfs-inspect and mkdaxfs name theirs (docs/cli.md "Messages").
    const absolute = `${resolve(image)}: `;
    io.stderr(
      errorLine(TOOL, message.startsWith(absolute) ? `${image}: ${message.slice(absolute.length)}` : message),
    );
    return 1;
  }
  const info = mount.fs.info();
  io.stdout(
    `daxfs-fuse: ${info.image} branch ${info.branch} mounted on ${mountpoint} (${info.writable ? "writable" : "read-only"}); control ${mount.socketPath}\n`,
  );
  if (info.writable && !fuseNativeUtimensFixed())
    io.stderr(
      "daxfs-fuse: warning: fuse-native's upstream addon keeps one time per utimens (tar x, cp -p lose mtimes); run node scripts/build-fuse-binding.mjs\n",
    );
  const stopped = await Promise.race([mount.gone.then(() => false), io.stop.then(() => true)]);
  if (!stopped) return 0;
  try {
    await mount.close();
    return 0;
  } catch (error) {
    io.stderr(errorLine(TOOL, error instanceof Error ? error.message : String(error)));
    return 1;
  }
}
