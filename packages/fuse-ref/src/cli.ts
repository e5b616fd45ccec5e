#!/usr/bin/env node
// daxfs-fuse: the process around main.ts. It exits as soon as main resolves: the FUSE binding may
// keep handles open after the unmount.
import { rmSync } from "node:fs";
import { errorLine } from "@daxfs/core";
import { main } from "./main.js";

const stop = new Promise<void>((resolve) => {
  process.once("SIGINT", () => resolve());
  process.once("SIGTERM", () => resolve());
});
main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  stop,
}).then(
  (status) => {
    // Started by daxfs-branch create, whose log of this process is of no use once the mount ended
    // cleanly; after a failure it stays for the user (docs/branch.md "The daxfs-fuse log").
    const log = process.env.DAXFS_FUSE_LOG;
    if (status === 0 && log !== undefined && log !== "") rmSync(log, { force: true });
    process.exit(status);
  },
  (error: unknown) => {
    process.stderr.write(
      errorLine("daxfs-fuse", `internal error: ${error instanceof Error ? error.message : String(error)}`),
    );
    process.exit(1);
  },
);
