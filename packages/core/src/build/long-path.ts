// Host paths longer than PATH_MAX (4096 bytes) cannot be handed to a system call, and Node has no
// openat(2). A long path is reached through its parent directory, opened a piece at a time (each
// piece shorter than ANCHOR_BYTES, the next one named through the previous as /proc/self/fd/N,
// which the kernel resolves to that open directory, proc(5)); the call then gets the short name
// /proc/self/fd/N/NAME and the descriptor is closed. Nothing stays open between calls, so a deep
// tree however wide never runs out of descriptors (EMFILE), and a tree with normal paths opens
// nothing.
import { closeSync, constants, openSync } from "node:fs";
import { hostPath } from "../names.js";

/** Below PATH_MAX by more than one NAME_MAX (255) component, so a child path is always accepted. */
export const ANCHOR_BYTES = 3072;

/**
 * Linux's O_PATH (the same value on x86, arm, arm64 and riscv; Node does not export it): a
 * descriptor that only names the directory, so a directory we may search but not read (mode 0100)
 * can stand on the way, as it can in a plain path.
 */
const O_PATH = 0o10000000;

/** Whether `path` can go to a system call as it is (bytes: names in names.ts form are shorter). */
export function isShortPath(path: string): boolean {
  return path.length * 3 < ANCHOR_BYTES || Buffer.byteLength(path) < ANCHOR_BYTES;
}

/** The end of the longest prefix of `path` ending before a '/' that is a short path. */
function pieceEnd(path: string, start: number): number {
  let end = -1;
  for (let slash = path.indexOf("/", start + 1); slash !== -1; slash = path.indexOf("/", slash + 1)) {
    if (!isShortPath(path.slice(0, slash))) break;
    end = slash;
  }
  return end;
}

/**
 * A descriptor naming directory `path`, whatever its length (O_PATH; the caller closes it). Its
 * ancestors are opened a piece at a time and closed on the way.
 */
export function openDirectoryPath(path: string): number {
  let fd: number | undefined;
  let rest = path;
  try {
    for (;;) {
      const named = fd === undefined ? rest : `/proc/self/fd/${fd}/${rest}`;
      const whole = isShortPath(named);
      const end = whole ? -1 : pieceEnd(named, fd === undefined ? 0 : `/proc/self/fd/${fd}`.length);
      // A piece cannot be shorter than one name (at most 255 bytes): if none fits, let the kernel
      // say ENAMETOOLONG for the whole path.
      const piece = whole || end <= 0 ? named : named.slice(0, end);
      const next = openSync(hostPath(piece), O_PATH | constants.O_DIRECTORY);
      if (fd !== undefined) closeSync(fd);
      fd = next;
      if (piece === named) return fd;
      rest = named.slice(end + 1);
    }
  } catch (error) {
    if (fd !== undefined) closeSync(fd);
    throw error;
  }
}

/**
 * Runs `use` with a name for `path` that system calls accept: `path` itself while it is short, else
 * /proc/self/fd/N/NAME, N its parent directory opened for the call. The name does not follow a
 * symlink `path` ends in any more than `path` does (only N is followed, which is the directory).
 */
export function withShortPath<T>(path: string, use: (short: string) => T): T {
  if (isShortPath(path)) return use(path);
  const slash = path.lastIndexOf("/");
  const fd = openDirectoryPath(path.slice(0, slash));
  try {
    return use(`/proc/self/fd/${fd}${path.slice(slash)}`);
  } finally {
    closeSync(fd);
  }
}
