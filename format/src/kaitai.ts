// Compiles format/daxfs.ksy with the official kaitai-struct-compiler (JavaScript target) and loads
// the result with the kaitai-struct runtime: an independent parser of the same format, used by the
// tests to cross-check the generated codecs and images built by our tools.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const require = createRequire(import.meta.url);

export const KSY_PATH = fileURLToPath(new URL("../daxfs.ksy", import.meta.url));

interface KaitaiCompiler {
  compile(language: string, ksy: unknown, importer: unknown, debug: boolean): Promise<Record<string, string>>;
}

/** Compiles the .ksy to JavaScript; returns the compiler's files (name → source). */
export async function compileKsyToJavaScript(
  ksySource = readFileSync(KSY_PATH, "utf8"),
): Promise<Record<string, string>> {
  const compiler = require("kaitai-struct-compiler") as KaitaiCompiler;
  return compiler.compile("javascript", parse(ksySource), null, false);
}

// biome-ignore lint/suspicious/noExplicitAny: the compiled parser is untyped JavaScript.
export type KaitaiModule = any;

/** Compiles and loads the parser; `Daxfs` is the root class, its nested types hang off it. */
export async function loadKaitaiParser(): Promise<{ Daxfs: KaitaiModule; KaitaiStream: KaitaiModule }> {
  const files = await compileKsyToJavaScript();
  const source = files["Daxfs.js"];
  if (!source)
    throw new Error(`kaitai-struct-compiler produced no Daxfs.js (got ${Object.keys(files).join(", ")})`);
  const KaitaiStream = require("kaitai-struct/KaitaiStream") as KaitaiModule;
  const exports: KaitaiModule = {};
  const localRequire = (name: string) => {
    if (name === "kaitai-struct/KaitaiStream") return KaitaiStream;
    throw new Error(`compiled parser asked for unexpected module ${name}`);
  };
  new Function("exports", "require", "define", source)(exports, localRequire, undefined);
  return { Daxfs: exports.Daxfs as KaitaiModule, KaitaiStream };
}
