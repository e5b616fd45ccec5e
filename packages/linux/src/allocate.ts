// Allocating a file's blocks up front. A shared mapping of a sparse file faults with SIGBUS, which
// kills the process, when a store into a hole finds the file system full; with every block
// allocated, a store can no longer fail for want of space (the image of a branching mount is such a
// mapping: docs/fuse.md "Full file systems").
import { fstatSync, statfsSync } from "node:fs";
import { SyscallError } from "./errors.js";
import { posixFallocate } from "./libc.js";

/**
 * Allocates every block of the file's bytes [start, end) (posix_fallocate(3); glibc writes a zero
 * into each hole where the file system has no fallocate). Throws a SyscallError, e.g. ENOSPC.
 */
export function allocateFile(fd: number, end: number, path?: string, start = 0): void {
  if (end <= start) return;
  const error = posixFallocate(fd, start, end - start);
  if (error !== 0) throw new SyscallError("posix_fallocate", error, { path });
}

/**
 * Allocates the holes of the file's first `length` bytes, if its file system has room for them:
 * returns null once every block is allocated, else why not (one phrase for a message). A file
 * system without the room is not tried, so a failed attempt never leaves it full. `path` names
 * the file in a failure.
 */
export function allocateHoles(fd: number, length: number, path: string): string | null {
  const missing = length - fstatSync(fd).blocks * 512;
  if (missing > 0) {
    // The file's own file system, through its descriptor: `path` may be reached by a symlink
    // from another one.
    const { bavail, bsize } = statfsSync(`/proc/self/fd/${fd}`);
    if (bavail * bsize < missing) return `no space left on device for its ${missing} unallocated bytes`;
  }
  try {
    // Also when st_blocks suggests no holes: blocks of file-system metadata count there too.
    allocateFile(fd, length, path);
    return null;
  } catch (error) {
    const { code, message } = error as SyscallError;
    return code === "ENOSPC" ? "no space left on device" : message;
  }
}

/**
 * The image writers' allocation hook for the image file `path` (@daxfs/core's AllocateFile, used
 * by mkdaxfs and daxfs-compact): every block allocated, so no later writer through a shared mapping
 * (a daxfs-fuse branch) can die of SIGBUS on a full file system. Where the file system cannot hold
 * the whole image, the image stays sparse with one warning: it is still a valid image, and
 * daxfs-fuse allocates such an image's blocks write by write.
 */
export function allocateImageFile(
  path: string,
  onWarning?: (message: string) => void,
): (fd: number, length: number) => void {
  return (fd, length) => {
    const whyNot = allocateHoles(fd, length, path);
    if (whyNot !== null)
      onWarning?.(
        `${path}: the image's ${length} bytes cannot be allocated up front (${whyNot}); it is left sparse`,
      );
  };
}
