// A line diff of two short texts (longest common subsequence), for the diff view's content pane.
// Inputs are capped by the caller (DIFF_READ bytes of each side), so the table stays small.

export const DIFF_READ = 64 * 1024;
const MAX_LINES = 2000;

/** `  same`, `- only in a`, `+ only in b` lines, in order. */
export function lineDiff(a: string, b: string): string[] {
  const left = a.split("\n").slice(0, MAX_LINES);
  const right = b.split("\n").slice(0, MAX_LINES);
  const n = left.length;
  const m = right.length;
  // lcs[i][j] = LCS length of left[i..] and right[j..], one row per i.
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      (lcs[i] as Uint16Array)[j] =
        left[i] === right[j]
          ? ((lcs[i + 1] as Uint16Array)[j + 1] as number) + 1
          : Math.max((lcs[i + 1] as Uint16Array)[j] as number, (lcs[i] as Uint16Array)[j + 1] as number);
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && left[i] === right[j]) {
      out.push(`  ${left[i]}`);
      i++;
      j++;
    } else if (
      j < m &&
      (i >= n || ((lcs[i] as Uint16Array)[j + 1] as number) >= ((lcs[i + 1] as Uint16Array)[j] as number))
    ) {
      out.push(`+ ${right[j]}`);
      j++;
    } else {
      out.push(`- ${left[i]}`);
      i++;
    }
  }
  return out;
}
