#!/usr/bin/env node
// daxfs-inspect: thin wrapper over main.ts (docs/inspect.md).
import { writeSync } from "node:fs";
import { runCli } from "@daxfs/core";
import { EXIT_USAGE, main } from "./main.js";

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") continue;
      if ((error as NodeJS.ErrnoException).code === "EPIPE") process.exit(0);
      throw error;
    }
  }
}

const encoder = new TextEncoder();
runCli(
  "daxfs-inspect",
  main,
  {
    stdout: (text) => writeAll(1, encoder.encode(text)),
    stdoutBytes: (bytes) => writeAll(1, bytes),
    stderr: (text) => writeAll(2, encoder.encode(text)),
  },
  EXIT_USAGE,
);
