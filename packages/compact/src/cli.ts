#!/usr/bin/env node
// daxfs-compact: thin wrapper over main.ts (docs/space.md "Compaction").
import { runCli } from "@daxfs/core";
import { main } from "./main.js";

runCli("daxfs-compact", main, { stdout: process.stdout, stderr: process.stderr, env: process.env });
