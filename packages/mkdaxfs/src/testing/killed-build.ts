// Child process for mkdaxfs.test.ts: builds SOURCE into OUTPUT as mkdaxfs does and kills itself with
// SIGKILL once the first file's bytes are in the image file, half-way through writing it.
import { buildToTarget } from "../mkdaxfs.js";

const [source, output] = process.argv.slice(2);
if (source === undefined || output === undefined) throw new Error("usage: killed-build SOURCE OUTPUT");
await buildToTarget(
  {
    directory: source,
    tars: [],
    output,
    branching: true,
    validate: false,
    allRoot: false,
    exclude: [],
    strict: false,
  },
  { onFileCopied: () => process.kill(process.pid, "SIGKILL") },
);
