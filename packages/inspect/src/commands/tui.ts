// `daxfs-inspect TARGET tui`: the same target in daxfs-tui (issue 12). The TUI depends on this
// package (it reuses the commands' helpers), so this package cannot import it back; it runs the
// daxfs-tui program instead: DAXFS_TUI if set, else the workspace's packages/tui build, else
// `daxfs-tui` on PATH. The child shares this process's terminal and its exit status is ours.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { DaxfsError } from "@daxfs/core";
import type { SourceOptions } from "../source.js";

/** daxfs-tui's arguments for the target daxfs-inspect was given. */
export function tuiArguments(options: SourceOptions & { backing?: string }): string[] {
  const args: string[] = [];
  if (options.image !== undefined) args.push(options.image);
  if (options.mount !== undefined) args.push("-m", options.mount);
  if (options.phys !== undefined) args.push("-p", options.phys);
  if (options.size !== undefined) args.push("-s", options.size);
  if (options.backing !== undefined) args.push("--backing", options.backing);
  return args;
}

function tuiProgram(env: NodeJS.ProcessEnv): string[] {
  if (env.DAXFS_TUI) return [env.DAXFS_TUI];
  const workspaceBuild = fileURLToPath(new URL("../../../tui/dist/cli.js", import.meta.url));
  return existsSync(workspaceBuild) ? [process.execPath, workspaceBuild] : ["daxfs-tui"];
}

export function tuiCommand(options: SourceOptions & { backing?: string }): Promise<number> {
  const [program, ...prefix] = tuiProgram(process.env) as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(program, [...prefix, ...tuiArguments(options)], { stdio: "inherit" });
    // A program that cannot be started (no daxfs-tui, a bad DAXFS_TUI) is a setup error, said in
    // one line as the other I/O errors are.
    child.on("error", (error: NodeJS.ErrnoException) =>
      reject(new DaxfsError("ENOENT", `${program}: cannot run daxfs-tui (${error.code ?? error.message})`)),
    );
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
