// The fuse-native operation table over a BranchFs: argument unpacking, Stat -> struct stat, and
// errors -> negative errno. Anything that is not a DaxfsError is a bug in us: it is logged once
// and answered with EIO rather than taking the mount down.
import {
  DaxfsError,
  decodeName,
  ERRNO_NUMBER,
  encodeName,
  entryTimestamp,
  hasEscapedBytes,
  isDaxfsError,
  type Stat,
} from "@daxfs/core";
import type { BranchFs, DirectoryForCache } from "./branch-fs.js";
import { fuseNativeUtimensFixed, utimensTimes } from "./utimens.js";

type Reply = (code: number, ...results: unknown[]) => void;

/** fuse-native carries times as whole ms (docs/fuse.md "Times"): ns are cut to ms here. */
const dateOf = (ns: bigint) => new Date(Number(ns / 1_000_000n));

/** struct stat for FUSE; times from the model (docs/semantics.md "Times"), in ms. */
export function toFuseStat(stat: Stat) {
  return {
    mode: stat.mode,
    uid: stat.uid,
    gid: stat.gid,
    size: stat.size,
    nlink: stat.nlink,
    ino: stat.ino,
    blocks: stat.blocks,
    blksize: 4096,
    atime: dateOf(stat.atime),
    mtime: dateOf(stat.mtime),
    ctime: dateOf(stat.ctime),
  };
}

/**
 * A stat in fuse-native's own layout (its getStatArray, read by the binding's populate_stat):
 * mode, uid, gid, size, dev, nlink, ino, rdev, blksize, blocks, atime, mtime, ctime (ms); 64-bit
 * values as two uint32s, low first. For listings handed to the binding's cache directly.
 */
export function statInts(stat: Stat): Uint32Array {
  const fuse = toFuseStat(stat);
  const ints = new Uint32Array(18);
  const wide = (at: number, value: number) => {
    ints[at] = value % 2 ** 32;
    ints[at + 1] = Math.floor(value / 2 ** 32);
  };
  ints[0] = fuse.mode;
  ints[1] = fuse.uid;
  ints[2] = fuse.gid;
  wide(3, fuse.size);
  ints[6] = fuse.nlink;
  ints[7] = fuse.ino;
  ints[9] = fuse.blksize;
  wide(10, fuse.blocks);
  wide(12, fuse.atime.getTime());
  wide(14, fuse.mtime.getTime());
  wide(16, fuse.ctime.getTime());
  return ints;
}

function errnoOf(error: unknown, log: (message: string) => void): number {
  if (isDaxfsError(error)) return -(ERRNO_NUMBER[error.code] ?? 5);
  // The image file's storage failing (pwrite on a full file system, in the plain-file mode): the
  // writer gets that errno, not EIO for a bug in us.
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (syscall !== undefined && (code === "ENOSPC" || code === "EFBIG" || code === "EIO" || code === "EROFS"))
    return -ERRNO_NUMBER[code];
  log(
    `daxfs-fuse: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  return -5;
}

// Names through the binding (docs/fuse.md "Names"). Patched and compiled at setup
// (patches/fuse-native@2.2.6.patch, scripts/build-fuse-binding.mjs), fuse-native hands paths and
// names over as Buffers of their bytes and takes Buffers back: they are decoded and encoded here,
// once, by names.ts. Its shipped prebuild decodes paths as UTF-8 with U+FFFD for bytes that are
// not, and encodes names and link targets as UTF-8, so a name that is not UTF-8 cannot cross it
// either way; rather than let such a name turn into another (f\xfe and f\xff would both arrive as
// "f\ufffd"), daxfs-fuse on the prebuild hides it from readdir and answers EILSEQ for a path or
// target that holds U+FFFD (so a name really holding U+FFFD is refused too) and for a link whose
// target is not UTF-8.

/** Whether `name` crosses the prebuilt binding as its own bytes and comes back as itself. */
export function crossesBinding(name: string): boolean {
  return !hasEscapedBytes(name) && !name.includes("\ufffd");
}

/** How names cross: as Buffers (the patched binding) or as UTF-8 strings (the prebuild). */
export interface NameCrossing {
  /** A path, name or target the binding handed over, as names.ts's string. */
  incoming(value: unknown): unknown;
  /** The names of a directory as the binding takes them. */
  names(names: string[]): unknown[];
  /** A link target as the binding takes it. */
  target(text: string, path: string): unknown;
}

const asBytes: NameCrossing = {
  incoming: (value) => (Buffer.isBuffer(value) ? decodeName(value) : value),
  names: (names) => names.map((name) => Buffer.from(encodeName(name))),
  target: (text) => Buffer.from(encodeName(text)),
};

const asUtf8: NameCrossing = {
  incoming: (value) => {
    if (typeof value === "string" && value.includes("\ufffd"))
      throw new DaxfsError("EILSEQ", "a name that is not UTF-8 cannot cross the prebuilt FUSE binding");
    return value;
  },
  names: (names) => names.filter(crossesBinding),
  target: (text, path) => {
    if (!crossesBinding(text))
      throw new DaxfsError(
        "EILSEQ",
        `${path}: the link's target is not UTF-8, which the prebuilt FUSE binding cannot pass`,
      );
    return text;
  },
};

/** Operations whose second argument is a path or target too (the first always is one). */
const TWO_NAMES = new Set(["rename", "link", "symlink"]);

/** Each operation with its path arguments turned into strings by `crossing` (EILSEQ if it cannot). */
function withNames<T extends Record<string, (...args: never[]) => unknown>>(
  table: T,
  crossing: NameCrossing,
): T {
  const wrapped: Record<string, (...args: unknown[]) => unknown> = {};
  for (const [name, operation] of Object.entries(table)) {
    const count = name === "init" ? 0 : TWO_NAMES.has(name) ? 2 : 1;
    wrapped[name] = (...args: unknown[]) => {
      try {
        for (let i = 0; i < count; i++) args[i] = crossing.incoming(args[i]);
      } catch (error) {
        return (args[args.length - 1] as Reply)(-(ERRNO_NUMBER[(error as DaxfsError).code] ?? 5));
      }
      return (operation as (...args: unknown[]) => unknown)(...args);
    };
  }
  return wrapped as unknown as T;
}

export function fuseOperations(
  fs: BranchFs,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
  /** The binding passes names as Buffers (fuse-native's `passesBytes`, the patched build). */
  passesBytes = false,
  /**
   * The mount never writes (main): file handles are inode numbers (BranchFs.openInode), and
   * flush, release, releasedir and opendir are left out, so libfuse answers them without a trip to
   * JavaScript (flush: ENOSYS once, then the kernel stops sending it); readdir answers carry each
   * entry's stat, which fills the patched binding's stat cache. docs/fuse.md "Caching".
   */
  neverWrites = false,
  /** Where readdir answers go besides libfuse on such a mount (the binding's cache, mount.ts). */
  cacheHook?: { mapped: Uint8Array | null; budget: number; directories(listings: DirectoryForCache[]): void },
) {
  const crossing = passesBytes ? asBytes : asUtf8;
  /** Runs `body`; its result (if any) follows a 0 status. */
  const run = (reply: Reply, body: () => unknown) => {
    let results: unknown;
    try {
      results = body();
    } catch (error) {
      return reply(errnoOf(error, log));
    }
    return reply(0, ...(Array.isArray(results) ? results : []));
  };
  /** read/write answer with the byte count in the status slot (fuse-native's convention). */
  const count = (reply: Reply, body: () => number) => {
    let n: number;
    try {
      n = body();
    } catch (error) {
      return reply(errnoOf(error, log));
    }
    return reply(n);
  };
  const unsupported = (reply: Reply) => reply(-ERRNO_NUMBER.EOPNOTSUPP);
  const patched = fuseNativeUtimensFixed();

  const table = {
    init: (reply: Reply) => reply(0),
    statfs: (_path: string, reply: Reply) =>
      run(reply, () => {
        const s = fs.statfs();
        return [
          {
            bsize: 4096,
            frsize: 4096,
            blocks: s.blocks,
            bfree: s.bfree,
            bavail: s.bfree,
            files: s.files,
            ffree: s.ffree,
            favail: s.ffree,
            namemax: 255,
          },
        ];
      }),
    getattr: (path: string, reply: Reply) => run(reply, () => [toFuseStat(fs.getattr(path))]),
    fgetattr: (_path: string, handle: number, reply: Reply) =>
      run(reply, () => [toFuseStat(fs.fgetattr(handle))]),
    access: (path: string, mode: number, reply: Reply) => run(reply, () => fs.access(path, mode)),
    readdir: (path: string, reply: Reply) =>
      run(reply, () => {
        const entries = fs.readdir(path);
        return [[".", "..", ...crossing.names(entries.map((e) => e.name))]];
      }),
    readlink: (path: string, reply: Reply) => run(reply, () => [crossing.target(fs.readlink(path), path)]),
    open: (path: string, flags: number, reply: Reply) => run(reply, () => [fs.open(path, flags)]),
    opendir: (path: string, _flags: number, reply: Reply) => run(reply, () => void fs.readdir(path)),
    release: (_path: string, handle: number, reply: Reply) => run(reply, () => fs.release(handle)),
    releasedir: (_path: string, _handle: number, reply: Reply) => reply(0),
    read: (_path: string, handle: number, buffer: Buffer, length: number, position: number, reply: Reply) =>
      count(reply, () => {
        const bytes = fs.read(handle, position, length);
        buffer.set(bytes);
        return bytes.length;
      }),
    write: (_path: string, handle: number, buffer: Buffer, length: number, position: number, reply: Reply) =>
      count(reply, () => fs.write(handle, position, Uint8Array.prototype.slice.call(buffer, 0, length))),
    create: (path: string, mode: number, reply: Reply) => run(reply, () => [fs.create(path, mode)]),
    mknod: (path: string, mode: number, _dev: number, reply: Reply) => run(reply, () => fs.mknod(path, mode)),
    truncate: (path: string, size: number, reply: Reply) => run(reply, () => fs.truncate(path, size)),
    ftruncate: (_path: string, handle: number, size: number, reply: Reply) =>
      run(reply, () => fs.ftruncate(handle, size)),
    mkdir: (path: string, mode: number, reply: Reply) => run(reply, () => fs.mkdir(path, mode)),
    rmdir: (path: string, reply: Reply) => run(reply, () => fs.rmdir(path)),
    unlink: (path: string, reply: Reply) => run(reply, () => fs.unlink(path)),
    rename: (from: string, to: string, reply: Reply) => run(reply, () => fs.rename(from, to)),
    symlink: (target: string, path: string, reply: Reply) => run(reply, () => fs.symlink(target, path)),
    link: (from: string, to: string, reply: Reply) => run(reply, () => fs.link(from, to)),
    chmod: (path: string, mode: number, reply: Reply) => run(reply, () => fs.chmod(path, mode)),
    chown: (path: string, uid: number, gid: number, reply: Reply) =>
      run(reply, () => fs.chown(path, uid, gid)),
    utimens: (path: string, atime: number, mtime: number, reply: Reply) =>
      run(reply, () => {
        const times = utimensTimes(atime, mtime, patched, entryTimestamp);
        fs.utimens(path, times.atime, times.mtime);
      }),
    flush: (_path: string, _handle: number, reply: Reply) => reply(0),
    fsync: (_path: string, _datasync: boolean, _handle: number, reply: Reply) => run(reply, () => fs.fsync()),
    fsyncdir: (_path: string, _datasync: boolean, _handle: number, reply: Reply) =>
      run(reply, () => fs.fsync()),
    // xattrs are not part of v5 (NOTES.md "Semantics").
    setxattr: (_p: string, _n: string, _v: Buffer, _pos: number, _f: number, reply: Reply) =>
      unsupported(reply),
    getxattr: (_p: string, _n: string, _pos: number, reply: Reply) => unsupported(reply),
    listxattr: (_p: string, reply: Reply) => unsupported(reply),
    removexattr: (_p: string, _n: string, reply: Reply) => unsupported(reply),
  };
  if (!neverWrites) return withNames(table, crossing);
  const {
    flush: _flush,
    release: _release,
    releasedir: _releasedir,
    opendir: _opendir,
    ...readOnly
  } = {
    ...table,
    open: (path: string, flags: number, reply: Reply) => run(reply, () => [fs.openInode(path, flags)]),
    read: (_path: string, ino: number, buffer: Buffer, length: number, position: number, reply: Reply) =>
      count(reply, () => {
        const bytes = fs.readInode(ino, position, length);
        buffer.set(bytes);
        return bytes.length;
      }),
    fgetattr: (_path: string, ino: number, reply: Reply) => run(reply, () => [toFuseStat(fs.statInode(ino))]),
    // A name the binding could not answer: its directory's listing goes to the binding, so its
    // siblings are answered there (a walk by paths, as dpkg --verify's, asks once per directory).
    getattr: (path: string, reply: Reply) =>
      run(reply, () => {
        const stat = fs.getattr(path);
        if (cacheHook && path !== "/")
          cacheHook.directories(
            fs.listTree(path.slice(0, path.lastIndexOf("/")) || "/", cacheHook.mapped, 0),
          );
        return [toFuseStat(stat)];
      }),
    readdir: (path: string, reply: Reply) =>
      run(reply, () => {
        const listings = fs.listTree(path, cacheHook?.mapped ?? null, cacheHook?.budget ?? 0);
        const { entries, self, stats } = listings[0] as DirectoryForCache;
        cacheHook?.directories(listings);
        const shown = entries.flatMap((entry, i) =>
          crossing.names([entry.name]).length === 1 ? [{ entry, stat: stats[i] as Stat }] : [],
        );
        const dot = toFuseStat(self);
        return [
          [".", "..", ...crossing.names(shown.map(({ entry }) => entry.name))],
          [dot, dot, ...shown.map(({ stat }) => toFuseStat(stat))],
        ];
      }),
  };
  return withNames(readOnly, crossing);
}
