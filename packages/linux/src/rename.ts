/**
 * renameat2(2) with RENAME_NOREPLACE, which node:fs does not offer: the move fails with EEXIST instead of
 * replacing an existing target (docs/semantics.md "Inside a branch: POSIX"; daxfs-fuse's EINVAL for a free
 * target under libfuse 2 is in docs/fuse.md).
 */
import { SyscallError } from "./errors.js";
import * as c from "./libc.js";

/** Renames `from` to `to` unless `to` exists (EEXIST); any failure is a SyscallError naming both. */
export function renameNoReplace(from: string, to: string): void {
  if (c.renameat2(from, to, c.RENAME_NOREPLACE) !== 0)
    throw new SyscallError("renameat2", c.lastErrno(), { path: `${from} -> ${to}` });
}
