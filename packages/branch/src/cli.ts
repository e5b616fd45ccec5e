#!/usr/bin/env node
import { defaultBranchEnv } from "./env.js";
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2), defaultBranchEnv);
