// In-kernel file copy through koffi, handed to the core builder so large files are copied inside
// the kernel (as `cp` does) instead of through JavaScript buffers.
//
// Why splice(2) through a 1 MiB pipe rather than one copy_file_range(2): on ext4 (no reflink)
// copy_file_range runs do_splice_direct with a 16-page internal pipe, i.e. 64 KiB writes. `cp`
// writes at file offset 0, so each 64 KiB lands as one page-cache folio; an image's data starts at
// a block offset such as 16 KiB (plan.ts), so each 64 KiB write splits into three folios and the
// copy ran 1.6-1.9x slower than cp's (bench/mkdaxfs, docs/benchmarks.md). Our own pipe of 1 MiB,
// with writes ending on 1 MiB boundaries of the image, lets the page cache use large folios again.
import type { CopyFileRange } from "@daxfs/core";
import { errnoName } from "@daxfs/linux";
import koffi from "koffi";

const O_CLOEXEC = 0o2000000;
const F_SETPIPE_SZ = 1031;
/** The default fs.pipe-max-size; a smaller grant (the sysctl lowered) still works, just slower. */
const PIPE_BYTES = 1 << 20;

type Native = ReturnType<ReturnType<typeof koffi.load>["func"]>;

function errnoError(call: string): Error & { code: string; errno: number } {
  const errno = koffi.errno();
  const code = errnoName(errno);
  return Object.assign(new Error(`${call}: ${code}`), { code, errno });
}

/** The system's in-kernel copy, or undefined where libc cannot be loaded (the builder then reads and writes). */
export function loadCopyFileRange(): CopyFileRange | undefined {
  let copyFileRange: Native;
  let splice: Native;
  let pipe2: Native;
  let fcntl: Native;
  let close: Native;
  try {
    const libc = koffi.load("libc.so.6");
    copyFileRange = libc.func(
      "long copy_file_range(int fd_in, _Inout_ int64_t *off_in, int fd_out, _Inout_ int64_t *off_out, size_t len, unsigned int flags)",
    );
    splice = libc.func(
      "long splice(int fd_in, _Inout_ int64_t *off_in, int fd_out, _Inout_ int64_t *off_out, size_t len, unsigned int flags)",
    );
    pipe2 = libc.func("int pipe2(_Out_ int *fds, int flags)");
    fcntl = libc.func("int fcntl(int fd, int cmd, ...)");
    close = libc.func("int close(int fd)");
  } catch {
    return undefined;
  }

  const byCopyFileRange: CopyFileRange = (inFd, inOffset, outFd, outOffset, length) => {
    const copied = Number(copyFileRange(inFd, [BigInt(inOffset)], outFd, [BigInt(outOffset)], length, 0));
    if (copied >= 0) return copied;
    throw errnoError("copy_file_range");
  };

  /** Copies up to `length` bytes through a fresh pipe; -1 if splice cannot start here (nothing copied). */
  const bySplice = (inFd: number, inOffset: number, outFd: number, outOffset: number, length: number) => {
    const fds = [-1, -1];
    if (pipe2(fds, O_CLOEXEC) !== 0) return -1;
    const [readEnd, writeEnd] = fds as [number, number];
    try {
      const granted = fcntl(writeEnd, F_SETPIPE_SZ, "int", PIPE_BYTES) as number;
      const pipeBytes = granted > 0 ? granted : 64 << 10;
      let done = 0;
      while (done < length) {
        // End each batch on a pipe-size boundary of the destination (see the header comment).
        const destination = outOffset + done;
        const want = Math.min(length - done, pipeBytes - (destination % pipeBytes));
        const got = Number(splice(inFd, [BigInt(inOffset + done)], writeEnd, null, want, 0));
        if (got < 0) {
          if (done === 0) return -1;
          throw errnoError("splice");
        }
        if (got === 0) break; // the source's end
        for (let written = 0; written < got; ) {
          const n = Number(splice(readEnd, null, outFd, [BigInt(destination + written)], got - written, 0));
          if (n <= 0) throw n < 0 ? errnoError("splice") : errnoError("splice (no progress)");
          written += n;
        }
        done += got;
      }
      return done;
    } finally {
      close(readEnd);
      close(writeEnd);
    }
  };

  return (inFd, inOffset, outFd, outOffset, length) => {
    const copied = bySplice(inFd, inOffset, outFd, outOffset, length);
    return copied >= 0 ? copied : byCopyFileRange(inFd, inOffset, outFd, outOffset, length);
  };
}
