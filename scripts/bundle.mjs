// Bundles the start-up-sensitive CLIs (mkdaxfs, daxfs-inspect) into packages/NAME/dist/bundle/, one
// file each plus chunks for what they load lazily, after `tsc -b` has built dist/. Why: resolving and
// compiling ~60 ES modules one by one cost ~50 ms of every run (docs/cli.md "Start-up"); tsc stays the
// type checker and the library build, the bundle is only what the bins on PATH run.
//
// Left outside the bundle: @daxfs/linux and koffi (a native addon that finds its .node file relative to
// itself; loaded only where a tool needs system calls). The bundle sits at dist/bundle/, the same depth
// as dist/commands/, so paths a module builds from import.meta.url still land on the same files.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLED = ["mkdaxfs", "inspect"];

// Chunk names carry content hashes: start from an empty directory so none goes stale.
for (const name of BUNDLED)
  rmSync(join(root, "packages", name, "dist/bundle"), { recursive: true, force: true });
await Promise.all(
  BUNDLED.map((name) =>
    build({
      entryPoints: [join(root, "packages", name, "dist/cli.js")],
      outdir: join(root, "packages", name, "dist/bundle"),
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      external: ["@daxfs/linux", "koffi"],
      // commander and other CommonJS dependencies call require(): give the ES module bundle one.
      banner: {
        js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
      },
      logLevel: "warning",
    }),
  ),
);
