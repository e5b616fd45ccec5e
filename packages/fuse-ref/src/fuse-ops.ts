// The fuse-native operation table over a BranchFs: argument unpacking, Stat -> struct stat, and
// errors -> negative errno. Anything that is not a DaxfsError is a bug in us: it is logged once
// and answered with EIO rather than taking the mount down.
import { type DaxfsError, ERRNO_NUMBER, entryTimestamp, isDaxfsError, type Stat } from "@daxfs/core";
import type { BranchFs } from "./branch-fs.js";
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

function errnoOf(error: unknown, log: (message: string) => void): number {
  if (isDaxfsError(error)) return -(ERRNO_NUMBER[(error as DaxfsError).code] ?? 5);
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

export function fuseOperations(
  fs: BranchFs,
  log: (message: string) => void = (m) => process.stderr.write(`${m}\n`),
) {
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

  return {
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
        return [[".", "..", ...entries.map((e) => e.name)]];
      }),
    readlink: (path: string, reply: Reply) => run(reply, () => [fs.readlink(path)]),
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
}
