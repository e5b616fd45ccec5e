#!/usr/bin/env node
// daxfs-tui: thin wrapper over main.ts (docs/tui.md). React's production build (smaller, no
// development checks) is chosen through NODE_ENV before React loads, hence the dynamic import.
import { runCli } from "@daxfs/core";

process.env.NODE_ENV ??= "production";
const tty = process.stdin.isTTY && process.stdout.isTTY;
// Ink (is-in-ci) and chalk (supports-color) decide once, when they load, whether they run under CI
// (CI, CONTINUOUS_INTEGRATION or any CI_* variable): Ink then draws nothing until exit and chalk drops
// colours, a blank terminal for a person whose shell exports CI. On a terminal the TUI is interactive
// whatever the environment says, so those variables are hidden while Ink loads and put back
// afterwards (children and the app see the real environment).
const ciVariables = Object.entries(process.env).filter(
  ([name]) => name === "CI" || name === "CONTINUOUS_INTEGRATION" || name.startsWith("CI_"),
);
if (tty) for (const [name] of ciVariables) delete process.env[name];
const { EXIT_USAGE, main } = await import("./main.js");
for (const [name, value] of ciVariables) process.env[name] = value;

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
