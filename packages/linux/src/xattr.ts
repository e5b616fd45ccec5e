// Extended attribute names of a host file, for mkdaxfs: DAXFS v5 has no place for xattrs, so the
// builder counts the files that carry any and warns (or, with --strict, refuses; docs/mkdaxfs.md).
import { SyscallError } from "./errors.js";
import { lastErrno, llistxattr } from "./libc.js";

const ENOTSUP = 95;
const ERANGE = 34;

/**
 * The names of `path`'s extended attributes, without following a final symlink (llistxattr(2)).
 * Empty where the file system has none or does not support them. Throws a SyscallError otherwise.
 */
export function listXattrs(path: string | Uint8Array): string[] {
  for (;;) {
    const size = llistxattr(path, null);
    if (size === 0) return [];
    if (size < 0) {
      const errno = lastErrno();
      if (errno === ENOTSUP) return [];
      throw new SyscallError("llistxattr", errno, { path: String(path) });
    }
    const list = new Uint8Array(size);
    const got = llistxattr(path, list);
    if (got < 0) {
      const errno = lastErrno();
      if (errno === ERANGE) continue; // grew between the two calls
      throw new SyscallError("llistxattr", errno, { path: String(path) });
    }
    return Buffer.from(list.subarray(0, got))
      .toString("utf8")
      .split("\0")
      .filter((name) => name.length > 0);
  }
}
