// Copies a file's bytes into an image sink chunk by chunk, so a 1 GiB file never sits in memory;
// a host file that changes while it is copied fails the build rather than yielding a torn image.
import { getSystemErrorMap } from "node:util";
import { DaxfsError, type Errno } from "../errors.js";
import { hostPath, showName } from "../names.js";
import { type HostCalls, nodeHostCalls } from "./host-calls.js";
import { withShortPath } from "./long-path.js";
import { type ImageSink, ImageWriteError } from "./sink.js";
import { type BuildFile, isHostContent } from "./tree.js";

const CHUNK = 1 << 20;
/** Files at least this big go through copy_file_range when the sink offers it. */
const IN_KERNEL_COPY_MIN = 256 << 10;
/**
 * Sparse images look for holes (two lseeks) only in files at least this big: a smaller one is
 * read whole, its holes seen as zeros, which costs less than the lseeks (20,000 4 KiB files:
 * docs/mkdaxfs.md "--sparse").
 */
const SEEK_HOLES_MIN = 64 << 10;

/**
 * Host failures by errno name: the image model's errno (errors.ts) and the C library's words
 * (strerror, lower-cased as the rest of a message).
 */
const HOST_ERRORS: Record<string, [Errno, string]> = {
  ENOENT: ["ENOENT", "no such file or directory"],
  EACCES: ["EPERM", "permission denied"],
  EPERM: ["EPERM", "operation not permitted"],
  ENOTDIR: ["ENOTDIR", "not a directory"],
  EISDIR: ["EISDIR", "is a directory"],
  ENOSPC: ["ENOSPC", "no space left on device"],
  EDQUOT: ["ENOSPC", "disk quota exceeded"],
  ELOOP: ["ELOOP", "too many levels of symbolic links"],
  EROFS: ["EROFS", "read-only file system"],
  EFBIG: ["EFBIG", "file too large"],
  ENAMETOOLONG: ["ENAMETOOLONG", "file name too long"],
  EEXIST: ["EEXIST", "file exists"],
  EBUSY: ["EBUSY", "device or resource busy"],
  EIO: ["EIO", "input/output error"],
};

/**
 * One clean line for a host I/O failure, "PATH: permission denied" (PATH escaped by showName),
 * whatever the errno. Never Node's own message: it ends in the call and the path that call was
 * given (`, open '.img.mkdaxfs-42.tmp'`), for the image file a temporary name rather than `-o`.
 */
export function hostError(error: unknown, path: string): DaxfsError {
  const { code, errno } = error as NodeJS.ErrnoException;
  const known = code === undefined ? undefined : HOST_ERRORS[code];
  if (known !== undefined) return new DaxfsError(known[0], `${showName(path)}: ${known[1]}`);
  // Any other errno: libuv's words for it (the table Node's messages start with); no errno at all
  // (not a system call's failure): the error's own message.
  // (node:fs reports errno negative, as libuv does; @daxfs/linux's SyscallError positive.)
  const described = errno === undefined ? undefined : getSystemErrorMap().get(-Math.abs(errno))?.[1];
  const reason = described ?? code ?? (error instanceof Error ? error.message : String(error));
  return new DaxfsError("EIO", `${showName(path)}: ${reason}`);
}

function changed(path: string): DaxfsError {
  return new DaxfsError("EIO", `${showName(path)}: file changed while being copied`);
}

/**
 * Reads bytes [from, to) of the host file's range at `offset` into the sink at `destination` +
 * from, straight into the sink's views.
 */
function readRange(
  fd: number,
  offset: number,
  sink: ImageSink,
  destination: number,
  from: number,
  to: number,
  chunk: number,
  calls: HostCalls,
  path: string,
): void {
  for (let done = from; done < to; ) {
    const n = Math.min(chunk, to - done);
    const view = sink.slice(destination + done, n);
    let filled = 0;
    while (filled < n) {
      const got = calls.pread(fd, view, filled, n - filled, offset + done + filled);
      if (got === 0) throw changed(path);
      filled += got;
    }
    done += n;
  }
}

/**
 * The ranges [from, to) of a host file's bytes [offset, offset + length) that hold data, relative
 * to `offset`: its holes (SEEK_DATA/SEEK_HOLE, where `calls` offers them) are left out, so a sparse
 * image skips them without reading them. A tar spool holds many members: the ranges are clipped
 * to this one's bytes.
 */
function* dataExtents(
  fd: number,
  offset: number,
  length: number,
  calls: HostCalls,
): Generator<[number, number]> {
  if (!calls.seekData || !calls.seekHole) {
    yield [0, length];
    return;
  }
  for (let at = 0; at < length; ) {
    const data = calls.seekData(fd, offset + at);
    // No data up to the file's end: a file that shrank is caught by the fstat check after the copy.
    if (data < 0 || data - offset >= length) return;
    const from = Math.max(at, data - offset);
    const to = Math.min(length, calls.seekHole(fd, offset + from) - offset);
    if (to <= from) {
      // No hole found past data (the file changing under us): read the rest.
      yield [from, length];
      return;
    }
    yield [from, to];
    at = to;
  }
}

/**
 * Writes bytes [0, length) of `file` to `sink` at `destination` (length defaults to the whole
 * file; the page-cache pre-warm copies a prefix). `label` names the file in errors. A host file is
 * read through `calls` (host-calls.ts).
 */
export function copyFileContent(
  file: BuildFile,
  sink: ImageSink,
  destination: number,
  label: string,
  length = file.size,
  calls: HostCalls = nodeHostCalls,
): void {
  const content = file.content;
  const chunk = Math.min(CHUNK, sink.maxSlice);
  if (content instanceof Uint8Array) {
    for (let done = 0; done < length; done += chunk) {
      const n = Math.min(chunk, length - done);
      sink.slice(destination + done, n).set(content.subarray(done, done + n));
    }
    return;
  }
  if (!isHostContent(content)) {
    for (let done = 0; done < length; done += chunk) {
      const n = Math.min(chunk, length - done);
      const bytes = content(done, n);
      if (bytes.length !== n)
        throw new DaxfsError("EIO", `${label}: content source returned ${bytes.length} bytes, expected ${n}`);
      sink.slice(destination + done, n).set(bytes);
    }
    return;
  }
  const path = content.path;
  let fd: number;
  try {
    // A scanned file deeper than PATH_MAX is opened through its directory (long-path.ts).
    fd = withShortPath(path, (short) => calls.open(hostPath(short)));
  } catch (error) {
    throw hostError(error, path);
  }
  try {
    const copied =
      length >= IN_KERNEL_COPY_MIN && sink.copyFromFd
        ? sink.copyFromFd(fd, content.offset, destination, length)
        : -1;
    if (copied >= 0 && copied < length) throw changed(path);
    if (copied < 0) {
      if (!sink.sparse || length < SEEK_HOLES_MIN)
        readRange(fd, content.offset, sink, destination, 0, length, chunk, calls, path);
      else
        for (const [from, to] of dataExtents(fd, content.offset, length, calls))
          readRange(fd, content.offset, sink, destination, from, to, chunk, calls, path);
    }
    const scanned = content.scanned;
    if (scanned) {
      const now = calls.fstat(fd);
      if (now.size !== scanned.size || now.ino !== scanned.ino || now.mtimeMs !== scanned.mtimeMs)
        throw changed(path);
    }
  } catch (error) {
    // The image's own write errors are the writer's to name (write.ts), not this source file's.
    throw error instanceof DaxfsError || error instanceof ImageWriteError ? error : hostError(error, path);
  } finally {
    calls.close(fd);
  }
}
