/**
 * The C library entry points the tools need, loaded once through koffi. Everything here is a thin typed
 * wrapper that returns the raw result; callers turn -1 into a SyscallError with `lastErrno()`.
 *
 * The new mount API is called through syscall(2) by number rather than through glibc's wrappers, so the
 * package works with a C library older than glibc 2.36. Numbers 428..433 are the same on every Linux
 * architecture (they were added after the syscall tables were unified, in 5.2).
 */
import koffi from "koffi";
import { setStrerror } from "./errors.js";

const libc = koffi.load("libc.so.6");

export const SYS_move_mount = 429;
export const SYS_fsopen = 430;
export const SYS_fsconfig = 431;
export const SYS_fsmount = 432;

const syscallFn = libc.func("long syscall(long number, ...)");
const mmapFn = libc.func(
  "void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)",
);
const munmapFn = libc.func("int munmap(void *addr, size_t length)");
const msyncFn = libc.func("int msync(void *addr, size_t length, int flags)");
const mountFn = libc.func(
  "int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)",
);
const umount2Fn = libc.func("int umount2(const char *target, int flags)");
const ioctlFn = libc.func("int ioctl(int fd, unsigned long request, ...)");
const openFn = libc.func("int open(const char *path, int flags, ...)");
const closeFn = libc.func("int close(int fd)");
const readFn = libc.func("long read(int fd, _Out_ uint8_t *buf, size_t count)");
const sysconfFn = libc.func("long sysconf(int name)");
const posixFallocateFn = libc.func("int posix_fallocate(int fd, int64_t offset, int64_t len)");
const strerrorFn = libc.func("const char *strerror(int errnum)");
// The path as a string (koffi passes it as UTF-8) or as NUL-terminated bytes: a name need not be
// UTF-8 (mkdaxfs -d --byte-names).
const llistxattrFn = libc.func("long llistxattr(const char *path, _Out_ uint8_t *list, size_t size)");
const linkatFn = libc.func(
  "int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)",
);
const renameat2Fn = libc.func(
  "int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)",
);

setStrerror((errno) => String(strerrorFn(errno)));

/** errno of the last koffi call on this thread; read it before any other native call. */
export function lastErrno(): number {
  return koffi.errno();
}

/** A C pointer argument or null. Variadic arguments go as (type, value) pairs (koffi's convention). */
type VarArg = [
  "long" | "int" | "unsigned int" | "const char *" | "void *",
  number | string | null | Uint8Array,
];

export function syscall(number: number, ...args: VarArg[]): number {
  return Number(syscallFn(number, ...args.flat()));
}

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_NONE = 0x0;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MS_SYNC = 4;

const MAP_FAILED = (1n << 64n) - 1n;

/** Returns the mapping's address, or null on failure (errno set). */
export function mmap(
  addr: bigint | null,
  length: number,
  prot: number,
  flags: number,
  fd: number,
  offset: number,
): bigint | null {
  const ptr = mmapFn(addr, length, prot, flags, fd, offset);
  const address = ptr === null ? 0n : BigInt.asUintN(64, koffi.address(ptr));
  return address === MAP_FAILED || address === 0n ? null : address;
}

export function munmap(addr: bigint, length: number): number {
  return munmapFn(addr, length) as number;
}

export function msync(addr: bigint, length: number, flags: number): number {
  return msyncFn(addr, length, flags) as number;
}

/** An ArrayBuffer over memory that koffi does not own (no copy, no finaliser). */
export function viewOf(addr: bigint, length: number): ArrayBuffer {
  return koffi.view(addr, length);
}

export function mount(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: number,
  data: string | null,
): number {
  return mountFn(source, target, fstype, flags, data) as number;
}

export function umount2(target: string, flags: number): number {
  return umount2Fn(target, flags) as number;
}

/** ioctl with no argument, an integer argument or a pointer to a struct buffer. */
export function ioctl(fd: number, request: number, arg?: Uint8Array | number): number {
  if (arg === undefined) return ioctlFn(fd, request) as number;
  if (typeof arg === "number") return ioctlFn(fd, request, "long", arg) as number;
  return ioctlFn(fd, request, "void *", arg) as number;
}

export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;

export function open(path: string, flags: number): number {
  return openFn(path, flags) as number;
}

export function close(fd: number): number {
  return closeFn(fd) as number;
}

export function read(fd: number, buffer: Uint8Array): number {
  return Number(readFn(fd, buffer, buffer.length));
}

const _SC_PAGESIZE = 30;
export const pageSize = Number(sysconfFn(_SC_PAGESIZE));

/** posix_fallocate(3): returns 0 or the error number itself (it does not set errno). */
export function posixFallocate(fd: number, offset: number, length: number): number {
  return posixFallocateFn(fd, offset, length) as number;
}

/** llistxattr(2): the bytes of NUL-separated names written (or needed, for an empty `list`), or -1. */
export function llistxattr(path: string | Uint8Array, list: Uint8Array | null): number {
  // A string goes as it is: mkdaxfs lists every entry of a tree, and two Buffers per call were a
  // measurable part of a build of many small files (docs/benchmarks.md "Image builder").
  const cPath = typeof path === "string" ? path : Buffer.concat([path, Buffer.of(0)]);
  return Number(llistxattrFn(cPath, list, list?.length ?? 0));
}

export const AT_FDCWD = -100;
export const AT_SYMLINK_FOLLOW = 0x400;
export const RENAME_NOREPLACE = 1;

/**
 * linkat(2), paths relative to the working directory; a path that is not UTF-8 goes as its bytes
 * (NUL-terminated here).
 */
export function linkat(from: string, to: string | Uint8Array, flags: number): number {
  const cTo = typeof to === "string" ? to : Buffer.concat([to, Buffer.of(0)]);
  return linkatFn(AT_FDCWD, from, AT_FDCWD, cTo, flags) as number;
}

/** renameat2(2) (glibc 2.28 and later); paths relative to the working directory. */
export function renameat2(from: string, to: string, flags: number): number {
  return renameat2Fn(AT_FDCWD, from, AT_FDCWD, to, flags) as number;
}
