#!/usr/bin/env node
// Compiles fuse-native's addon from its patched source (patches/fuse-native@2.2.6.patch: paths,
// names and link targets cross as Buffers of their bytes, docs/fuse.md "Names"), into
// build/Release/fuse.node, which node-gyp-build loads before the shipped prebuild. Run by
// scripts/setup.sh after `pnpm install`. Needs gcc and the headers of the running node (include/node
// beside its binary: the official builds, NodeSource and Debian's nodejs install them there);
// libfuse 2's headers and library come from fuse-shared-library (as binding.gyp uses them). If it fails
// it exits 1 and changes nothing: daxfs-fuse then runs on the prebuild, which refuses names that
// are not UTF-8 instead (docs/fuse.md "Names").
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));
const fromFuseRef = createRequire(join(repo, "packages/fuse-ref/package.json"));
const fuseNative = dirname(fromFuseRef.resolve("fuse-native/package.json"));
const fromFuseNative = createRequire(join(fuseNative, "package.json"));

function fail(message) {
  process.stderr.write(`build-fuse-binding: ${message}\n`);
  process.exit(1);
}

const source = join(fuseNative, "fuse-native.c");
if (!readFileSync(source, "utf8").includes("fuse_native_passes_bytes"))
  fail(`${source} is not the patched source (run pnpm install)`);
// Node's own headers: fuse-native.c uses libuv (uv.h) besides Node-API, so npm's node-api-headers
// is not enough, and libuv's structures must be those of the running node.
const nodeHeaders = join(dirname(dirname(process.execPath)), "include", "node");
for (const header of ["node_api.h", "uv.h"])
  if (!existsSync(join(nodeHeaders, header))) fail(`no ${header} in ${nodeHeaders} (Node's headers)`);
const napiMacros = dirname(fromFuseNative.resolve("napi-macros/napi-macros.h"));
// fuse-shared-library exports the bundled libfuse 2's paths (what binding.gyp uses).
const { include: fuseInclude, lib: fuseLibrary } = fromFuseNative("fuse-shared-library");
if (!existsSync(fuseLibrary)) fail(`no libfuse at ${fuseLibrary}`);

const release = join(fuseNative, "build", "Release");
mkdirSync(release, { recursive: true });
const output = join(release, "fuse.node");
const partial = `${output}.partial`;
try {
  execFileSync(
    "gcc",
    [
      "-O2",
      "-g",
      "-Wall",
      "-shared",
      "-fPIC",
      "-D_FILE_OFFSET_BITS=64",
      `-I${nodeHeaders}`,
      `-I${napiMacros}`,
      `-I${fuseInclude}`,
      source,
      fuseLibrary,
      `-Wl,-rpath,${dirname(fuseLibrary)}`,
      "-o",
      partial,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
} catch (error) {
  rmSync(partial, { force: true });
  fail(`gcc failed: ${error.message}`);
}
renameSync(partial, output);
// The binding node-gyp-build now loads must be this one.
const check = spawnSync(
  process.execPath,
  ["-e", "process.stdout.write(String(require('fuse-native').passesBytes))"],
  {
    cwd: join(repo, "packages/fuse-ref"),
    encoding: "utf8",
  },
);
if (check.stdout !== "true") {
  rmSync(output, { force: true });
  fail(`the compiled binding did not load: ${check.stderr.trim()}`);
}
process.stdout.write(`build-fuse-binding: ${output}\n`);
