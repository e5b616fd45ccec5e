import { count, isDir, isSymlink, statLine } from "./derive.js";
import type { Session } from "./session.js";

// One screenful of a file: text with line numbers, or a hex dump when the bytes are not text.
// The caller reads one page of bytes at the current offset; this decides what fits and where the
// next page starts, so a file is never read whole.

export const PREVIEW_READ = 8192;

export interface PreviewPage {
  binary: boolean;
  lines: string[];
  /** Where the next page starts, or undefined at the end of the file. */
  next?: { offset: number; line: number };
}

/** Text unless a NUL or many control bytes appear (the test `file` and `less` make, roughly). */
export function looksBinary(bytes: Uint8Array): boolean {
  let control = 0;
  for (const byte of bytes) {
    if (byte === 0) return true;
    if (byte < 9 || (byte > 13 && byte < 32) || byte === 127) control++;
  }
  return bytes.length > 0 && control * 10 > bytes.length;
}

const hex2 = (n: number) => n.toString(16).padStart(2, "0");

/** `perRow` bytes a line (16, or 8 in a narrow pane), hex then ASCII, as `hexdump -C` prints them. */
export function hexPage(
  bytes: Uint8Array,
  offset: number,
  rows: number,
  fileSize: number,
  perRow = 16,
): PreviewPage {
  const lines: string[] = [];
  let at = 0;
  for (; lines.length < rows && at < bytes.length; at += perRow) {
    const chunk = bytes.subarray(at, at + perRow);
    const hexes = [...chunk].map(hex2);
    const left = hexes.slice(0, 8).join(" ");
    const right = hexes.slice(8).join(" ");
    const ascii = [...chunk].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    if (perRow <= 8) {
      lines.push(`${(offset + at).toString(16).padStart(8, "0")}  ${left.padEnd(23)}  |${ascii}|`);
      continue;
    }
    lines.push(
      `${(offset + at).toString(16).padStart(8, "0")}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`,
    );
  }
  const end = offset + Math.min(at, bytes.length);
  return { binary: true, lines, next: end < fileSize ? { offset: end, line: 1 } : undefined };
}

export function textPage(
  bytes: Uint8Array,
  offset: number,
  line: number,
  rows: number,
  fileSize: number,
): PreviewPage {
  const lines: string[] = [];
  let start = 0;
  const width = String(line + rows).length;
  while (lines.length < rows && start < bytes.length) {
    let end = bytes.indexOf(10, start);
    // A line longer than the page read is shown cut; the next page starts after what was read.
    const whole = end >= 0;
    if (!whole) end = bytes.length;
    const text = new TextDecoder().decode(bytes.subarray(start, end)).replace(/\t/g, "    ");
    lines.push(`${String(line + lines.length).padStart(width)} ${text}`);
    start = whole ? end + 1 : end;
    if (!whole && offset + end < fileSize) break;
  }
  const nextOffset = offset + start;
  return {
    binary: false,
    lines,
    next: nextOffset < fileSize ? { offset: nextOffset, line: line + lines.length } : undefined,
  };
}

export interface PreviewTarget {
  branch: string;
  ino: number;
  path: string;
}

/** The preview of one path at `position`: a directory summary, a symlink target or a page of a file. */
export function previewOf(
  session: Session,
  target: PreviewTarget,
  position: { offset: number; line: number },
  rows: number,
  width = 80,
): PreviewPage & { title: string } {
  const stat = session.stat(target.branch, target.ino);
  if (isDir(stat.mode)) {
    const entries = session.readdir(target.branch, target.ino);
    const dirs = entries.filter((e) => isDir(e.mode)).length;
    const links = entries.filter((e) => isSymlink(e.mode)).length;
    return {
      title: `${target.path} (directory)`,
      binary: false,
      lines: [
        statLine(stat),
        `${count(entries.length, "entry", "entries")}: ${count(dirs, "directory", "directories")}, ${count(links, "symlink")}, ${count(entries.length - dirs - links, "file")}`,
      ],
    };
  }
  if (isSymlink(stat.mode))
    return {
      title: `${target.path} (symlink)`,
      binary: false,
      lines: [statLine(stat), `-> ${session.readlink(target.branch, target.ino)}`],
    };
  const binary = looksBinary(session.read(target.branch, target.ino, 0, 512));
  const pageRows = rows - 1;
  const perRow = width >= 78 ? 16 : 8;
  const bytes = session.read(
    target.branch,
    target.ino,
    position.offset,
    binary ? pageRows * perRow : PREVIEW_READ,
  );
  const page = binary
    ? hexPage(bytes, position.offset, pageRows, stat.size, perRow)
    : textPage(bytes, position.offset, position.line, pageRows, stat.size);
  const shown = page.next ? page.next.offset : stat.size;
  return {
    ...page,
    lines: [statLine(stat), ...page.lines],
    title: `${target.path} (${stat.size} bytes${stat.size > 0 ? `, ${position.offset}-${shown}` : ""}${binary ? ", hex" : ""})`,
  };
}
