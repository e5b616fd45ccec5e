import { constants } from "node:os";

/** errno number -> symbolic name ("ENOENT"), from Node's table for this platform. */
const errnoNames = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // Aliases (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK) share a number: keep the first, canonical name.
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

export function errnoNumber(code: string): number | undefined {
  return (constants.errno as Record<string, number>)[code];
}

export interface SyscallErrorDetails {
  /** Path or object the call was about (mount point, device, file). */
  path?: string;
  /** Extra lines to append to the message, e.g. the kernel's fs_context log for a failed mount. */
  details?: string[];
  /** Human description of errno; defaults to the C library's strerror text. */
  description?: string;
}

/**
 * A failed system call: `errno` is the positive number, `code` its name ("ENOENT"), `syscall` what was called.
 * The message is one line a user can act on: "fsconfig(daxfs, phys) /mnt/x: Invalid argument (EINVAL)", then
 * any kernel log lines.
 */
export class SyscallError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  readonly path: string | undefined;
  readonly details: string[];

  constructor(syscall: string, errno: number, info: SyscallErrorDetails = {}) {
    const code = errnoName(errno);
    const description = info.description ?? describeErrno(errno);
    const where = info.path !== undefined ? ` ${info.path}` : "";
    const details = info.details ?? [];
    const tail = details.length > 0 ? `\n${details.map((line) => `  ${line}`).join("\n")}` : "";
    super(`${syscall}${where}: ${description} (${code})${tail}`);
    this.name = "SyscallError";
    this.errno = errno;
    this.code = code;
    this.syscall = syscall;
    this.path = info.path;
    this.details = details;
  }
}

let strerrorHook: ((errno: number) => string) | undefined;

/** Installed by libc.ts once the C library is loaded, so this module stays free of FFI. */
export function setStrerror(fn: (errno: number) => string): void {
  strerrorHook = fn;
}

function describeErrno(errno: number): string {
  return strerrorHook?.(errno) ?? errnoName(errno);
}

/** Turns an error thrown by node:fs (negative errno, string code) into a SyscallError. */
export function fromNodeError(err: unknown, syscall: string, path?: string): unknown {
  if (err instanceof SyscallError) return err;
  if (err instanceof Error && typeof (err as NodeJS.ErrnoException).errno === "number") {
    const e = err as NodeJS.ErrnoException;
    return new SyscallError(
      e.syscall ?? syscall,
      Math.abs(e.errno as number),
      path !== undefined ? { path } : {},
    );
  }
  return err;
}
