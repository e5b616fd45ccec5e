// `pnpm gen` writes the generated C header and TypeScript codecs; `pnpm gen --check` fails (exit 1)
// when the committed files differ from a fresh generation, naming each file that drifted.
// Options: --ksy FILE (default format/daxfs.ksy), --root DIR (default the repository root).
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { generate } from "./generate.js";
import { KsyMappingError } from "./ksy-model.js";

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function main(args: string[]): number {
  const repoRoot = resolve(
    option(args, "--root") ?? join(dirname(fileURLToPath(import.meta.url)), "..", ".."),
  );
  const ksyPath = resolve(option(args, "--ksy") ?? join(repoRoot, "format", "daxfs.ksy"));
  const check = args.includes("--check");
  let source: string;
  try {
    source = readFileSync(ksyPath, "utf8");
  } catch (error) {
    console.error(`daxfs-gen: ${ksyPath}: ${(error as NodeJS.ErrnoException).code ?? "cannot read"}`);
    return 2;
  }
  let files: Map<string, string>;
  try {
    files = generate(source);
  } catch (error) {
    if (error instanceof KsyMappingError) {
      console.error(`daxfs-gen: ${ksyPath}: ${error.message}`);
      return 1;
    }
    throw error;
  }
  let drifted = 0;
  for (const [relative, content] of files) {
    const target = join(repoRoot, relative);
    if (check) {
      let current = "";
      try {
        current = readFileSync(target, "utf8");
      } catch {
        // A missing file is drift like any other.
      }
      if (current !== content) {
        console.error(
          `daxfs-gen: ${relative} differs from a fresh generation of ${ksyPath}; run \`pnpm gen\``,
        );
        drifted++;
      }
    } else {
      writeFileSync(target, content);
      console.log(`wrote ${relative}`);
    }
  }
  if (check && drifted === 0) console.log(`generated files match ${ksyPath}`);
  return drifted === 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
