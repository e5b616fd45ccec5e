#!/usr/bin/env node
// daxfs-tui: thin wrapper over main.ts (docs/tui.md).
import { runCli } from "@daxfs/core";
import { EXIT_USAGE, main } from "./main.js";

const tty = process.stdin.isTTY && process.stdout.isTTY;
runCli(
  "daxfs-tui",
  main,
  {
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
    terminal: tty ? { stdin: process.stdin, stdout: process.stdout } : undefined,
    env: process.env,
  },
  EXIT_USAGE,
);
