// Host paths longer than PATH_MAX (4096 bytes) cannot be handed to a system call, and Node has no
// openat(2). A directory whose path grows past ANCHOR_BYTES is opened once and named from then on
// as /proc/self/fd/N, which the kernel resolves to that open directory (proc(5)), so every path a
// walk hands to lstat, readdir, open or mkdir stays short. A tree with normal paths opens nothing.
import { closeSync, constants, openSync } from "node:fs";
import { hostPath } from "../names.js";

/** Below PATH_MAX by more than one NAME_MAX (255) component, so a child path is always accepted. */
export const ANCHOR_BYTES = 3072;

export class DirectoryAnchors {
  private readonly fds: number[] = [];

  /** A name for the directory `path` that system calls accept: `path` itself while it is short. */
  shorten(path: string): string {
    if (path.length * 3 < ANCHOR_BYTES || Buffer.byteLength(path) < ANCHOR_BYTES) return path;
    const fd = openSync(hostPath(path), constants.O_RDONLY | constants.O_DIRECTORY);
    this.fds.push(fd);
    return `/proc/self/fd/${fd}`;
  }

  /** How many directories are held open. */
  get open(): number {
    return this.fds.length;
  }

  /** Closes the anchors; paths `shorten` returned are invalid afterwards. */
  close(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}
