// Every failure the image model reports is a DaxfsError carrying the errno a filesystem user would
// expect, so that the FUSE reference can return it as-is and the CLIs can print one clean line.

export type Errno =
  | "ENOENT"
  | "EEXIST"
  | "ENOTDIR"
  | "EISDIR"
  | "ENOTEMPTY"
  | "EINVAL"
  | "EROFS"
  | "ESTALE"
  | "ENOSPC"
  | "ENAMETOOLONG"
  | "EPERM"
  | "EOPNOTSUPP"
  | "EBUSY"
  | "EIO"
  | "EUCLEAN"
  | "EFBIG"
  | "ELOOP"
  | "EXDEV"
  | "EBADF";

/** Linux errno numbers, for FUSE replies and exit codes. */
export const ERRNO_NUMBER: Record<Errno, number> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  ENAMETOOLONG: 36,
  ENOTEMPTY: 39,
  ELOOP: 40,
  EOPNOTSUPP: 95,
  ESTALE: 116,
  EUCLEAN: 117,
};

export class DaxfsError extends Error {
  override readonly name = "DaxfsError";
  constructor(
    readonly code: Errno,
    message: string,
  ) {
    super(message);
  }

  get errno(): number {
    return ERRNO_NUMBER[this.code];
  }
}

/**
 * The image's bytes contradict the format: a bad magic, a length that runs past its region, an
 * unknown entry type. `offset` is the absolute byte offset of the offending structure.
 */
export class CorruptImageError extends DaxfsError {
  constructor(
    message: string,
    readonly offset?: number,
  ) {
    super("EUCLEAN", offset === undefined ? message : `${message} (at byte ${offset})`);
  }
}

export function isDaxfsError(error: unknown, code?: Errno): error is DaxfsError {
  return error instanceof DaxfsError && (code === undefined || error.code === code);
}

/** u64 fields decode as bigint; offsets and sizes must also be exact JS numbers to be used. */
export function toSafeNumber(value: bigint, what: string, offset?: number): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new CorruptImageError(`${what} ${value} is too large`, offset);
  return Number(value);
}
