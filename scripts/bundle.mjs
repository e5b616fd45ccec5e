// Bundles the start-up-sensitive CLIs (mkdaxfs, daxfs-inspect, daxfs-compact) into packages/NAME/dist/bundle/cli.cjs,
// one CommonJS file each, after `tsc -b` has built dist/. Why: resolving and compiling ~60 ES modules
// one by one cost ~50 ms of every run, and Node 20's CommonJS loader starts a single file faster
// than its ES module loader (docs/cli.md "Start-up"). tsc stays the type checker and the library
// build; the bundle is only what the bins on PATH run.
//
// koffi stays outside (a native addon that finds its .node file relative to itself); it is loaded
// when the module that needs it is first used (lazily initialised in the bundle, as the dynamic
// import()s in the sources ask). The bundle sits at dist/bundle/, the same depth as dist/commands/,
// so paths a module builds from import.meta.url still land on the same files.
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLED = ["mkdaxfs", "inspect", "compact"];

/**
 * koffi as @daxfs/linux (which uses it) has it installed, by a path relative to the bundle: a bundled
 * package (daxfs-inspect) need not depend on koffi itself for the require to resolve.
 */
const koffiFromLinux = {
  name: "koffi-from-linux",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^koffi$/ }, () => ({
      path: "../../../linux/node_modules/koffi",
      external: true,
    }));
  },
};

for (const name of BUNDLED)
  rmSync(join(root, "packages", name, "dist/bundle"), { recursive: true, force: true });
await Promise.all(
  BUNDLED.map((name) =>
    build({
      entryPoints: [join(root, "packages", name, "dist/cli.js")],
      outfile: join(root, "packages", name, "dist/bundle/cli.cjs"),
      bundle: true,
      format: "cjs",
      platform: "node",
      target: "node20",
      plugins: [koffiFromLinux],
      // CommonJS has no import.meta: give the modules that use import.meta.url this file's URL.
      define: { "import.meta.url": "__importMetaUrl" },
      banner: { js: 'const __importMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
      logLevel: "warning",
    }),
  ),
);
