// Every failure the image model reports is a DaxfsError carrying the errno a filesystem user would
// expect, so that the FUSE reference can return it as-is and the CLIs can print one clean line.
import { constants } from "node:os";

/** Linux errnos Node's table lacks: EUCLEAN ("structure needs cleaning"), a corrupt image. */
const NOT_IN_NODE: Partial<Record<string, number>> = { EUCLEAN: 117 };

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
  | "EBADF"
  | "EILSEQ"
  | "ENOTTY";

const ERRNOS: readonly Errno[] = [
  "ENOENT",
  "EEXIST",
  "ENOTDIR",
  "EISDIR",
  "ENOTEMPTY",
  "EINVAL",
  "EROFS",
  "ESTALE",
  "ENOSPC",
  "ENAMETOOLONG",
  "EPERM",
  "EOPNOTSUPP",
  "EBUSY",
  "EIO",
  "EUCLEAN",
  "EFBIG",
  "ELOOP",
  "EXDEV",
  "EBADF",
  "EILSEQ",
  "ENOTTY",
];

/**
 * Errno numbers, for FUSE replies and exit codes: the platform's own table (os.constants.errno,
 * the one @daxfs/linux names syscall failures from), completed by NOT_IN_NODE.
 */
export const ERRNO_NUMBER: Record<Errno, number> = Object.fromEntries(
  ERRNOS.map((code) => [code, (constants.errno as Record<string, number>)[code] ?? NOT_IN_NODE[code]]),
) as Record<Errno, number>;

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
    // Where in the image, in hex as every offset the tools print (docs/cli.md "Numbers").
    super("EUCLEAN", offset === undefined ? message : `${message} (at 0x${offset.toString(16)})`);
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
