// `validate`: the fsck of DAXFS (STYLE.md, fsck.erofs): one line per problem, a final verdict, exit
// status 0 when the image is valid and 1 when it is not. It reads the raw image, not the model, so
// it reports every problem it can find instead of the first one that stops an open.
import { type ImageSource, problemLine, validate, validationStatsText } from "@daxfs/core";
import { emit, type Output } from "../render.js";

export function validateCommand(
  source: ImageSource,
  out: Output,
  options: { backingSize?: number; maxProblems?: number },
): number {
  const started = performance.now();
  const report = validate(source, options);
  const seconds = (performance.now() - started) / 1000;
  const corrupt = report.problems.some((p) => p.kind === "corrupt");
  const valid = report.problems.length === 0 && report.omitted === 0;
  const verdict = valid
    ? "No errors found"
    : corrupt
      ? "Found some filesystem corruption"
      : "Found unsupported features";
  emit(
    out,
    {
      image: source.name,
      valid,
      verdict,
      problems: report.problems,
      omitted: report.omitted,
      stats: report.stats,
      seconds,
    },
    () => {
      const lines = report.problems.map((problem) => problemLine(problem, source.name));
      if (report.omitted > 0) lines.push(`... and ${report.omitted} more`);
      lines.push(`${source.name}: ${validationStatsText(report.stats)}`);
      lines.push(verdict);
      return lines;
    },
  );
  return valid ? 0 : 1;
}
