// The generator's one entry point: .ksy text in, generated files (repo-relative path → content) out.
import { emitCHeader } from "./emit-c.js";
import { emitFormatReference } from "./emit-md.js";
import { emitTypeScript } from "./emit-ts.js";
import { parseKsy } from "./ksy-model.js";

export const GENERATED_C_HEADER = "kernel/daxfs_format.h";
export const GENERATED_TS_CODECS = "packages/format/src/format.generated.ts";
export const GENERATED_FORMAT_REFERENCE = "docs/format.md";

export function generate(ksySource: string): Map<string, string> {
  const model = parseKsy(ksySource);
  return new Map([
    [GENERATED_C_HEADER, emitCHeader(model)],
    [GENERATED_TS_CODECS, emitTypeScript(model)],
    [GENERATED_FORMAT_REFERENCE, emitFormatReference(model)],
  ]);
}
