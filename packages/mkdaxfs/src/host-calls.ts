// The builder's per-entry and per-file system calls (core's HostCalls) through koffi: statx into
// one reused buffer, open, pread straight into the image window, close. Node's lstatSync and
// fstatSync build a Stats object (four Dates, or twenty BigInts) per call; on 20,000 small files
// that, and the garbage it leaves, cost more CPU time than the system calls themselves
// (docs/benchmarks.md "Image builder"). The image bytes do not depend on which calls ran.
import type { HostCalls, HostStat } from "@daxfs/core";
import { errnoName } from "@daxfs/linux";
import koffi from "koffi";

const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
/** STATX_BASIC_STATS: type, mode, nlink, uid, gid, times, ino, size, blocks. */
const STATX_BASIC_STATS = 0x7ff;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;

/** struct statx (include/uapi/linux/stat.h): the same layout on every architecture. */
const STATX_BYTES = 256;
const STX = {
  nlink: 16,
  uid: 20,
  gid: 24,
  mode: 28,
  ino: 32,
  size: 40,
  mtimeSec: 112,
  mtimeNsec: 120,
  devMajor: 136,
  devMinor: 140,
} as const;

type Native = ReturnType<ReturnType<typeof koffi.load>["func"]>;

function errnoError(call: string, path?: string | Buffer): Error & { code: string; errno: number } {
  const errno = koffi.errno();
  const code = errnoName(errno);
  const where = path === undefined ? "" : ` ${String(path)}`;
  return Object.assign(new Error(`${call}${where}: ${code}`), { code, errno });
}

/** A path as C wants it: NUL-terminated bytes (a name need not be UTF-8: --byte-names). */
function cPath(path: string | Buffer): string | Buffer {
  return typeof path === "string" ? path : Buffer.concat([path, Buffer.of(0)]);
}

/** The native calls, or undefined where libc or statx cannot be loaded (the builder then uses Node's fs). */
export function loadHostCalls(): HostCalls | undefined {
  let statx: Native;
  let open: Native;
  let pread: Native;
  let close: Native;
  let lseek: Native;
  try {
    const libc = koffi.load("libc.so.6");
    statx = libc.func("int statx(int dirfd, const char *path, int flags, unsigned int mask, void *buf)");
    open = libc.func("int open(const char *path, int flags)");
    pread = libc.func("long pread(int fd, void *buf, size_t count, int64_t offset)");
    close = libc.func("int close(int fd)");
    lseek = libc.func("int64_t lseek(int fd, int64_t offset, int whence)");
  } catch {
    return undefined;
  }
  // One buffer for every statx: each result is read out before the next call.
  const buffer = Buffer.alloc(STATX_BYTES);

  const readStatx = (): HostStat => {
    const seconds = buffer.readInt32LE(STX.mtimeSec + 4) * 0x1_0000_0000 + buffer.readUInt32LE(STX.mtimeSec);
    const nanoseconds = buffer.readUInt32LE(STX.mtimeNsec);
    return {
      mode: buffer.readUInt16LE(STX.mode),
      uid: buffer.readUInt32LE(STX.uid),
      gid: buffer.readUInt32LE(STX.gid),
      nlink: buffer.readUInt32LE(STX.nlink),
      size: buffer.readUInt32LE(STX.size + 4) * 0x1_0000_0000 + buffer.readUInt32LE(STX.size),
      dev: buffer.readUInt32LE(STX.devMajor) * 0x1_0000_0000 + buffer.readUInt32LE(STX.devMinor),
      ino: buffer.readUInt32LE(STX.ino + 4) * 0x1_0000_0000 + buffer.readUInt32LE(STX.ino),
      mtimeNs: BigInt(seconds) * 1_000_000_000n + BigInt(nanoseconds),
      // Stats#mtimeMs's formula (Node's msFromTimeSpec), so tar spools checked against statSync agree.
      mtimeMs: seconds * 1e3 + nanoseconds / 1e6,
    };
  };

  return {
    lstat(path) {
      if (statx(AT_FDCWD, cPath(path), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, buffer) !== 0)
        throw errnoError("statx", path);
      return readStatx();
    },
    open(path) {
      const fd = open(cPath(path), O_RDONLY | O_CLOEXEC) as number;
      if (fd < 0) throw errnoError("open", path);
      return fd;
    },
    pread(fd, into, offset, length, position) {
      const target = offset === 0 ? into : into.subarray(offset);
      const got = Number(pread(fd, target, length, position));
      if (got < 0) throw errnoError("pread");
      return got;
    },
    fstat(fd) {
      if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buffer) !== 0) throw errnoError("statx");
      return readStatx();
    },
    close(fd) {
      close(fd);
    },
    // Holes of a sparse file or tar spool, for --sparse (core content.ts). A file system without
    // SEEK_DATA (EINVAL) shows one data extent up to the end, as Linux's generic lseek does.
    seekData(fd, from) {
      const at = Number(lseek(fd, from, SEEK_DATA));
      if (at >= 0) return at;
      const code = errnoName(koffi.errno());
      if (code === "ENXIO") return -1;
      if (code === "EINVAL") return from;
      throw errnoError("lseek");
    },
    seekHole(fd, from) {
      const at = Number(lseek(fd, from, SEEK_HOLE));
      if (at >= 0) return at;
      const code = errnoName(koffi.errno());
      if (code === "EINVAL") return Number.MAX_SAFE_INTEGER;
      // Past the end: the file shrank since SEEK_DATA; the copy's read then reports the change.
      if (code === "ENXIO") return from;
      throw errnoError("lseek");
    },
  };
}
