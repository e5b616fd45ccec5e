// Files without a name until they are complete (open(2) O_TMPFILE). An image written into one and
// named only at the end leaves nothing behind when the writer dies half-way: Ctrl-C, SIGTERM or
// SIGKILL during `mkdaxfs -o` would otherwise leave the temporary file (as big as the image) on a
// file system that may be filling up (docs/mkdaxfs.md "-o"). node:fs has the open, with the flag
// spelled as a number, but not the linkat(2) that names the file.
import { constants, openSync } from "node:fs";
import { SyscallError } from "./errors.js";
import * as c from "./libc.js";

/** __O_TMPFILE of the asm-generic flags (x86, arm64, riscv...); O_TMPFILE adds O_DIRECTORY. */
const O_TMPFILE = 0o20000000 | constants.O_DIRECTORY;

/** File systems and kernels that cannot make an unnamed file answer with one of these. */
const UNSUPPORTED = new Set(["EOPNOTSUPP", "ENOTSUP", "EISDIR", "EINVAL"]);

/**
 * Opens a new unnamed regular file in `directory` for reading and writing (mode 0644 less the
 * umask); null where the file system or kernel cannot make one (the caller then uses a named
 * temporary file). Other failures (ENOSPC, EROFS, EACCES...) are thrown as node:fs throws them.
 */
export function openUnnamedFile(directory: string | Uint8Array): number | null {
  try {
    return openSync(Buffer.from(directory), O_TMPFILE | constants.O_RDWR, 0o644);
  } catch (error) {
    if (UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? "")) return null;
    throw error;
  }
}

/**
 * Gives the unnamed file open at `fd` the name `path` (a new name in the directory it was opened
 * in). linkat through /proc/self/fd with AT_SYMLINK_FOLLOW, which needs no privilege (AT_EMPTY_PATH
 * would need CAP_DAC_READ_SEARCH). Throws a SyscallError (EEXIST, ENOSPC...).
 */
export function linkUnnamedFile(fd: number, path: string | Uint8Array): void {
  if (c.linkat(`/proc/self/fd/${fd}`, path, c.AT_SYMLINK_FOLLOW) !== 0)
    throw new SyscallError("linkat", c.lastErrno(), { path: Buffer.from(path).toString() });
}

/** Both, in the shape @daxfs/core's image writers take them (`ReplaceOptions.unnamed`). */
export const unnamedFiles = { open: openUnnamedFile, link: linkUnnamedFile };
