// The diff view's content pane: a line diff (longest common subsequence) of a changed text file,
// or the lines of an added or removed one. Each side is read up to DIFF_READ bytes, so the table
// stays small whatever the file's size.
import { S_IFMT, S_IFREG } from "@daxfs/core";
import type { BranchDiff, DiffChange } from "@daxfs/inspect";
import { looksBinary } from "./preview.js";
import { load, type Session } from "./session.js";

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
    } else if (i < n && (j >= m || (lcs[i + 1]?.[j] ?? 0) >= (lcs[i]?.[j + 1] ?? 0))) {
      // Removals before additions, as diff -u prints a changed run.
      out.push(`- ${left[i]}`);
      i++;
    } else {
      out.push(`+ ${right[j]}`);
      j++;
    }
  }
  return out;
}

/**
 * The changed runs of a line diff with `context` unchanged lines around each, as `diff -u` prints
 * them: each hunk opens with `@@ -start,count +start,count @@` (1-based lines of each side).
 */
export function hunks(lines: readonly string[], context = 3): string[] {
  const changed = lines.map((line) => !line.startsWith("  "));
  // Lines kept: within `context` of a changed line.
  const keep = lines.map((_, i) => {
    for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++)
      if (changed[k]) return true;
    return false;
  });
  const out: string[] = [];
  let oldLine = 1;
  let newLine = 1;
  for (let i = 0; i < lines.length; ) {
    if (!keep[i]) {
      const line = lines[i] as string;
      if (!line.startsWith("+")) oldLine++;
      if (!line.startsWith("-")) newLine++;
      i++;
      continue;
    }
    let end = i;
    while (end < lines.length && keep[end]) end++;
    const run = lines.slice(i, end);
    const olds = run.filter((l) => !l.startsWith("+")).length;
    const news = run.filter((l) => !l.startsWith("-")).length;
    out.push(`@@ -${oldLine},${olds} +${newLine},${news} @@`, ...run);
    oldLine += olds;
    newLine += news;
    i = end;
  }
  return out;
}

/** The first DIFF_READ bytes of a regular file at `path` in a branch, or undefined for other types. */
function head(session: Session, branch: string, path: string): Uint8Array | undefined {
  const view = session.view(branch);
  const ino = view.resolve(path);
  if ((view.stat(ino).mode & S_IFMT) !== S_IFREG) return undefined;
  return view.read(ino, 0, DIFF_READ);
}

/** What the content pane shows for one change of `diff`. */
export function changeContent(session: Session, diff: BranchDiff, change: DiffChange): string[] {
  const got = load(() => ({
    before:
      change.change === "added"
        ? new Uint8Array(0)
        : head(session, diff.against.name, change.from ?? change.path),
    after: change.change === "removed" ? new Uint8Array(0) : head(session, diff.branch.name, change.path),
  }));
  if (!got.ok) return [got.error];
  const { before, after } = got.value;
  if (!before || !after) return ["(not a regular file)"];
  if (looksBinary(before) || looksBinary(after)) return ["(binary contents)"];
  // A file's last newline ends its last line; it does not start another.
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes).replace(/\n$/, "");
  if (change.change === "added")
    return decode(after)
      .split("\n")
      .map((line) => `+ ${line}`);
  if (change.change === "removed")
    return decode(before)
      .split("\n")
      .map((line) => `- ${line}`);
  // Hunks only: a change past the first screen is shown, not the unchanged top.
  const shown = hunks(lineDiff(decode(before), decode(after)));
  return shown.length > 0 ? shown : ["(the contents read are the same)"];
}
