/**
 * dma-buf handles: the daxfs GET_DMABUF ioctl (SPEC.md 3.13) and allocation from a dma-heap device
 * (SPEC.md 2.10, mkdaxfs -H). Both return raw descriptors that the caller closes (closeFd or fs.closeSync).
 */
import { SyscallError } from "./errors.js";
import * as c from "./libc.js";

/** _IO('D', 1): on any file or directory of a daxfs mount, a new dma-buf fd for its memory (close-on-exec). */
export const DAXFS_IOC_GET_DMABUF = 0x4401;

/** _IOWR('H', 0, struct dma_heap_allocation_data) with the 24-byte struct {u64 len; u32 fd; u32 fd_flags; u64 heap_flags}. */
export const DMA_HEAP_IOCTL_ALLOC = 0xc0184800;

function openPath(path: string): number {
  const fd = c.open(path, c.O_RDONLY | c.O_CLOEXEC);
  if (fd < 0) throw new SyscallError("open", c.lastErrno(), { path });
  return fd;
}

/**
 * Opens `path` (a daxfs mount root or any file in it) and asks for its dma-buf. A mount backed by phys= answers
 * ENOENT; anything that is not daxfs answers ENOTTY (or EINVAL/ENOIOCTLCMD-mapped errors from other drivers).
 */
export function getDmabufFd(path: string): number {
  const fd = openPath(path);
  try {
    const dmabuf = c.ioctl(fd, DAXFS_IOC_GET_DMABUF);
    if (dmabuf < 0) {
      const errno = c.lastErrno();
      throw new SyscallError("ioctl(DAXFS_IOC_GET_DMABUF)", errno, { path });
    }
    return dmabuf;
  } finally {
    c.close(fd);
  }
}

/** Allocates `size` bytes from a dma-heap device (e.g. /dev/dma_heap/system); the dma-buf fd is O_RDWR|O_CLOEXEC. */
export function allocDmaHeap(heapPath: string, size: number): number {
  if (!Number.isSafeInteger(size) || size <= 0) {
    throw new SyscallError("ioctl(DMA_HEAP_IOCTL_ALLOC)", 22, {
      path: heapPath,
      description: `invalid size ${size}`,
    });
  }
  const heap = c.open(heapPath, c.O_RDWR | c.O_CLOEXEC);
  if (heap < 0) throw new SyscallError("open", c.lastErrno(), { path: heapPath });
  try {
    const request = new Uint8Array(24);
    const fields = new DataView(request.buffer);
    fields.setBigUint64(0, BigInt(size), true);
    fields.setUint32(8, 0, true);
    fields.setUint32(12, c.O_RDWR | c.O_CLOEXEC, true);
    fields.setBigUint64(16, 0n, true);
    if (c.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, request) < 0) {
      throw new SyscallError("ioctl(DMA_HEAP_IOCTL_ALLOC)", c.lastErrno(), {
        path: heapPath,
        details: [`${size} bytes`],
      });
    }
    return fields.getUint32(8, true);
  } finally {
    c.close(heap);
  }
}

/** close(2) for descriptors these calls returned. */
export function closeFd(fd: number): void {
  if (c.close(fd) !== 0) throw new SyscallError("close", c.lastErrno());
}
