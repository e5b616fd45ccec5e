/**
 * Shared memory mappings as Uint8Arrays. The bytes are a view straight onto a MAP_SHARED mapping, so a write is
 * seen by every other mapping of the same file or dma-buf (other processes, the kernel module), and Atomics on an
 * Int32Array/BigInt64Array over them compile to real locked instructions on that memory: this is what the
 * coordination lock's compare-and-swap (OVERVIEW.md 1, "Coordination area") and the page cache's slot CAS
 * (OVERVIEW.md 7) need.
 */
import { closeSync, fstatSync, openSync } from "node:fs";
import { errnoNumber, fromNodeError, SyscallError } from "./errors.js";
import * as c from "./libc.js";

export interface MappedMemory {
  /** The mapped bytes; valid until close(). */
  readonly bytes: Uint8Array;
  readonly size: number;
  readonly writable: boolean;
  /** Write dirty pages back to the file (msync MS_SYNC); a no-op for memory that has no backing store. */
  flush(): void;
  /** Unmaps. Afterwards any access through `bytes` faults (SIGSEGV) instead of reading someone else's memory. */
  close(): void;
}

export interface MapOptions {
  writable: boolean;
}

export interface MapFdOptions extends MapOptions {
  /** Byte offset in the file; need not be page-aligned (the mapping is widened and the view trimmed). */
  offset?: number;
  /** Named in error messages (the file or device the fd is open on). */
  path?: string;
}

export interface MapFileOptions extends MapOptions {
  /** Bytes to map; defaults to the file size (give it for devices, whose st_size is 0). */
  size?: number;
}

/** A single JavaScript ArrayBuffer over foreign memory cannot exceed this (V8 limit on 64-bit, Node 20). */
export const MAX_VIEW_BYTES = 2 ** 32;

/**
 * Address ranges still reserved after close(), released when the ArrayBuffer view is garbage collected. Until
 * then the range stays PROT_NONE so a stale view faults instead of aliasing a later mapping.
 */
const reservations = new FinalizationRegistry<{ addr: bigint; length: number }>(({ addr, length }) => {
  c.munmap(addr, length);
});

function checkSize(syscall: string, size: number, path: string | undefined): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new SyscallError(syscall, errnoNumber("EINVAL") ?? 22, {
      path,
      description: `invalid size ${size}`,
    });
  }
  if (size > MAX_VIEW_BYTES) {
    throw new SyscallError(syscall, errnoNumber("EFBIG") ?? 27, {
      path,
      description: `${size} bytes exceed the 4 GiB one JavaScript view can address; map a window with mapFd(fd, size, { offset })`,
    });
  }
}

/** Maps `size` bytes of an open file descriptor from `offset`. The fd may be closed afterwards. */
export function mapFd(fd: number, size: number, options: MapFdOptions): MappedMemory {
  const path = options.path;
  const offset = options.offset ?? 0;
  checkSize("mmap", size, path);
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new SyscallError("mmap", errnoNumber("EINVAL") ?? 22, {
      path,
      description: `invalid offset ${offset}`,
    });
  }
  if (size === 0) return emptyMapping(options.writable);
  const lead = offset % c.pageSize;
  const length = size + lead;
  const prot = c.PROT_READ | (options.writable ? c.PROT_WRITE : 0);
  const addr = c.mmap(null, length, prot, c.MAP_SHARED, fd, offset - lead);
  if (addr === null) throw new SyscallError("mmap", c.lastErrno(), { path });

  const buffer = c.viewOf(addr, length);
  const bytes = new Uint8Array(buffer, lead, size);
  reservations.register(buffer, { addr, length });
  let open = true;
  return {
    bytes,
    size,
    writable: options.writable,
    flush() {
      if (!open || !options.writable) return;
      if (c.msync(addr, length, c.MS_SYNC) !== 0) {
        const errno = c.lastErrno();
        // Anonymous and device memory (dma-buf, /dev/mem) have nothing to write back.
        if (errno !== errnoNumber("EINVAL") && errno !== errnoNumber("ENOSYS")) {
          throw new SyscallError("msync", errno, { path });
        }
      }
    },
    close() {
      if (!open) return;
      open = false;
      // Replace the mapping in place with an inaccessible reservation (one atomic mmap, no window in which
      // another thread could map something at this address); the registry unmaps it once the view is gone.
      const reserved = c.mmap(
        addr,
        length,
        c.PROT_NONE,
        c.MAP_FIXED | c.MAP_PRIVATE | c.MAP_ANONYMOUS | c.MAP_NORESERVE,
        -1,
        0,
      );
      if (reserved === null) throw new SyscallError("munmap", c.lastErrno(), { path });
    },
  };
}

/** Opens `path` and maps it whole (or its first `size` bytes) MAP_SHARED. */
export function mapFile(path: string, options: MapFileOptions): MappedMemory {
  let fd: number;
  try {
    fd = openSync(path, options.writable ? "r+" : "r");
  } catch (err) {
    throw fromNodeError(err, "open", path);
  }
  try {
    const size = options.size ?? fstatSync(fd).size;
    return mapFd(fd, size, { writable: options.writable, path });
  } catch (err) {
    throw fromNodeError(err, "fstat", path);
  } finally {
    closeSync(fd);
  }
}

function emptyMapping(writable: boolean): MappedMemory {
  return { bytes: new Uint8Array(0), size: 0, writable, flush() {}, close() {} };
}
