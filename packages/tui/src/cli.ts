#!/usr/bin/env node
// daxfs-tui: thin wrapper over main.ts (docs/tui.md). React's production build (smaller, no
// development checks) is chosen through NODE_ENV before React loads (ui.ts loads it, and Ink, only
// to draw, hiding the CI variables while they load).
import { runCli } from "@daxfs/core";

process.env.NODE_ENV ??= "production";
const tty = process.stdin.isTTY && process.stdout.isTTY;
const { EXIT_USAGE, main } = await import("./main.js");

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
