// copy_file_range(2) through koffi, handed to the core builder so large files are copied inside
// the kernel (as `cp` does) instead of through JavaScript buffers.
import { constants } from "node:os";
import type { CopyFileRange } from "@daxfs/core";
import koffi from "koffi";

const errnoNames = new Map(Object.entries(constants.errno).map(([name, number]) => [number, name]));

/** The system's copy_file_range, or undefined where libc cannot be loaded (the builder then reads and writes). */
export function loadCopyFileRange(): CopyFileRange | undefined {
  let native: ReturnType<ReturnType<typeof koffi.load>["func"]>;
  try {
    native = koffi
      .load("libc.so.6")
      .func(
        "long copy_file_range(int fd_in, _Inout_ int64_t *off_in, int fd_out, _Inout_ int64_t *off_out, size_t len, unsigned int flags)",
      );
  } catch {
    return undefined;
  }
  return (inFd, inOffset, outFd, outOffset, length) => {
    const copied = Number(native(inFd, [BigInt(inOffset)], outFd, [BigInt(outOffset)], length, 0));
    if (copied >= 0) return copied;
    const errno = koffi.errno();
    const code = errnoNames.get(errno) ?? `errno ${errno}`;
    throw Object.assign(new Error(`copy_file_range: ${code}`), { code, errno });
  };
}
