#!/usr/bin/env node
// daxfs-branch: the process around main.ts (docs/branch.md).
import { runCli } from "@daxfs/core";
import { defaultBranchEnv } from "./env.js";
import { main } from "./main.js";

runCli("daxfs-branch", main, defaultBranchEnv);
