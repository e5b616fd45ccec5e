// Every failure the image model reports is a DaxfsError carrying the errno a filesystem user would
// expect, so that the FUSE reference can return it as-is and the CLIs can print one clean line.
import { constants } from "node:os";
import { getSystemErrorMap } from "node:util";

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
  | "ENOTTY"
  | "EACCES";

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
  "EACCES",
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

/** strerror(3)'s words where libuv's differ ("illegal operation on a directory" for EISDIR). */
const STRERROR: Partial<Record<string, string>> = {
  EISDIR: "is a directory",
  ELOOP: "too many levels of symbolic links",
  EIO: "input/output error",
};

/**
 * A failed system call on the file `shown` (its name as messages show it) as one DaxfsError:
 * "NAME: reason" in the system's words for every errno ("src/a/x: not a directory", "NAME: name
 * too long"), never a bare "ENOTDIR", and the errno as its code where DAXFS has it (EIO otherwise).
 */
export function systemError(error: unknown, shown: string): DaxfsError {
  const { code, errno } = error as NodeJS.ErrnoException;
  const reason =
    (code !== undefined ? STRERROR[code] : undefined) ??
    (errno !== undefined ? getSystemErrorMap().get(errno)?.[1] : undefined) ??
    code ??
    String(error);
  const known = (ERRNOS as readonly string[]).includes(code ?? "");
  return new DaxfsError(known ? (code as Errno) : "EIO", `${shown}: ${reason}`);
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
