// One daxfs-fuse mount: open the image (a shared mapping, so several processes and kernels
// coordinate through coord_lock), serve a BranchFs over FUSE, listen on the control socket, and on
// unmount drop an uncommitted branch (SPEC 3.9.3).
import { closeSync, openSync, readFileSync, realpathSync, rmSync, type Stats, statSync } from "node:fs";
import type { Server } from "node:net";
import { resolve } from "node:path";
import {
  DaxfsError,
  type Errno,
  encodeName,
  FileImage,
  formatProblem,
  type ImageSource,
  MemoryImage,
  validate,
} from "@daxfs/core";
import { allocateHoles, type MappedMemory, mapFile, SyscallError } from "@daxfs/linux";
import Fuse from "fuse-native";
import { AllocatingImage } from "./allocating-image.js";
import { fuseNativeBinding } from "./binding.js";
import { BranchFs, type BranchFsOptions, type DirectoryForCache } from "./branch-fs.js";
import { controlSocketPath, startControlServer } from "./control.js";
import { fuseOperations, statInts } from "./fuse-ops.js";
import { type CacheControl, cacheTimeouts, KernelCache, MAIN_CACHE_SECONDS } from "./kernel-cache.js";

export interface MountOptions {
  image: string;
  mountpoint: string;
  branch?: string;
  parent?: string;
  /** Run the full validator first and refuse a bad image (SPEC 4). */
  validate?: boolean;
  /** Checked libfuse options (mount-options.ts); `ro` is added when the mount cannot write. */
  fuseOptions?: string[];
  log?: (message: string) => void;
}

/** A running daxfs-fuse mount (not a mount-table entry: that is @daxfs/branch's DaxfsMount). */
export interface FuseServer {
  fs: BranchFs;
  socketPath: string;
  /** Unmounts, drops an uncommitted branch, closes the socket and the image. */
  close(): Promise<void>;
  /** Resolves when the mount went away by itself (fusermount -u). */
  gone: Promise<void>;
}

/** fuse-native has no way to pass these; its option string is built by this one method. */
class DaxfsFuse extends Fuse {
  extraOptions: string[] = [];
  /** Seconds the kernel may cache names and attributes (kernel-cache.ts); 0 on a branch. */
  cacheSeconds = 0;
  declare _thread: Buffer;

  override _fuseOptions(): string {
    // A branch: no kernel caching of names or attributes, since other processes append to the
    // chain. Main: cached, and invalidated when a commit moves it (kernel-cache.ts).
    // The user's options come last, so their timeouts win.
    const ours = [`use_ino,${cacheTimeouts(this.cacheSeconds)},big_writes,max_write=131072`]
      .concat(this.extraOptions)
      .join(",");
    const theirs = super._fuseOptions();
    return theirs === "" ? `-o${ours}` : `${theirs},${ours}`;
  }
}

interface BindingCache extends CacheControl {
  /** Turns the binding's cache on, with the image mapping (once the mount is up). */
  start(): void;
  /** Listings a readdir produced (BranchFs.listTree), for the binding to answer from. */
  directories(listings: DirectoryForCache[]): void;
}

/** Entries listed ahead per readdir that reaches JavaScript (about 200 bytes each in the binding). */
const PREFETCH_ENTRIES = 20_000;

const bytesOf = (text: string) => {
  const bytes = encodeName(text);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
};

/**
 * The patched binding's caches for `fuse`'s mount (kernel-cache.ts, docs/fuse.md "Caching"), or
 * null without them (the prebuild). `mapped`: the image mapping, where file bytes can be read from.
 */
function bindingCache(fuse: DaxfsFuse, mapped: Uint8Array | null): BindingCache | null {
  const binding = fuseNativeBinding();
  const invalidate = binding?.daxfs_invalidate_root;
  const statCache = binding?.daxfs_stat_cache;
  const setImage = binding?.daxfs_set_image;
  const dirPut = binding?.daxfs_dir_put;
  if (!invalidate || !statCache || !setImage || !dirPut) return null;
  const put = (path: string, listing: DirectoryForCache) =>
    dirPut(
      fuse._thread,
      bytesOf(path),
      listing.entries.map((entry) => bytesOf(entry.name)),
      listing.stats.map(statInts),
      listing.targets.map((target) => (target === null ? null : bytesOf(target))),
      listing.offsets,
    );
  return {
    start: () => {
      setImage(
        fuse._thread,
        mapped ? Buffer.from(mapped.buffer, mapped.byteOffset, mapped.byteLength) : null,
      );
      statCache(fuse._thread, 1);
    },
    off: () => {
      statCache(fuse._thread, 0);
      setImage(fuse._thread, null);
    },
    directories: (listings) => {
      for (const listing of listings) put(listing.path, listing);
    },
    invalidateRoot: (names) =>
      new Promise((done) =>
        invalidate(
          fuse._thread,
          names.map((name) => Buffer.from(name.buffer, name.byteOffset, name.byteLength)),
          done,
        ),
      ),
    clearStats: () => statCache(fuse._thread, 1),
  };
}

interface OpenedImage {
  source: ImageSource;
  /** The image's bytes when it is one shared mapping. */
  mapped?: Uint8Array;
  /** msync for a mapping, fsync for a file. */
  sync(): void;
  close(): void;
}

/**
 * A shared mapping of the image, so compareExchange32 is a real CAS seen by every process and
 * kernel. An image that cannot be mapped as one view (over 4 GiB, or on a file system without
 * shared mmap) is served through pread/pwrite, with the lock-file CAS of docs/coordination.md.
 */
function openImage(path: string, writable: boolean, log: (message: string) => void): OpenedImage {
  let mapping: MappedMemory;
  try {
    mapping = mapFile(path, { writable });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== "EFBIG" && code !== "ENODEV" && code !== "EINVAL") throw error;
    log(`daxfs-fuse: ${path}: cannot be mapped (${code}); using pread/pwrite and a lock file`);
    const file = FileImage.open(path, { writable });
    return { source: file, sync: () => file.flush(), close: () => file.close() };
  }
  const mapped = new MemoryImage(mapping.bytes, writable, path);
  const opened = {
    source: mapped,
    mapped: mapping.bytes,
    sync: () => mapping.flush(),
    close: () => mapping.close(),
  };
  if (!writable) return opened;
  // A store into a hole of the mapping on a full file system is a SIGBUS: allocate the image's
  // blocks now, or allocate them write by write (allocating-image.ts, docs/fuse.md).
  let fd: number;
  try {
    fd = openSync(path, "r+");
  } catch (error) {
    mapping.close();
    throw error;
  }
  const whyNot = allocateHoles(fd, mapping.size, path);
  if (whyNot === null) {
    closeSync(fd);
    return opened;
  }
  log(
    `daxfs-fuse: ${path}: the image is sparse and cannot be allocated whole (${whyNot}); blocks are allocated as writes reach them, and a write the file system cannot hold fails with ENOSPC`,
  );
  return {
    source: new AllocatingImage(mapped, fd),
    sync: opened.sync,
    close: () => {
      mapping.close();
      closeSync(fd);
    },
  };
}

function isMounted(mountpoint: string): boolean {
  const escaped = mountpoint.replace(
    /[ \t\n\\]/g,
    (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`,
  );
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .some((line) => line.split(" ")[4] === escaped);
}

/** `given` is the mount point as the user wrote it, for the messages. */
function checkMountpoint(mountpoint: string, given: string): void {
  let stat: Stats;
  try {
    stat = statSync(mountpoint);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "EIO";
    const reason = code === "ENOENT" ? "mount point does not exist" : `cannot use mount point (${code})`;
    throw new DaxfsError(code === "ENOENT" ? "ENOENT" : "EIO", `${given}: ${reason}`);
  }
  if (!stat.isDirectory()) throw new DaxfsError("ENOTDIR", `${given}: mount point is not a directory`);
  // A mount point already in use (a running daxfs-fuse, any other mount): refused before the image
  // is opened, a branch created or a control socket touched. fuse-native would refuse it only at
  // the mount call, after all three, and the cleanup of that failure took the live mount's control
  // socket away (its branch could then be neither committed nor aborted).
  if (isMounted(realpathSync(mountpoint)))
    throw new DaxfsError(
      "EBUSY",
      `${given}: mount point in use (a file system is mounted there: unmount it or choose another directory)`,
    );
}

/**
 * "IMAGE: reason" for an image that cannot be opened, the form of every tool's error line
 * (docs/cli.md "Messages"): the image as the user named it and the system's reason in lower case,
 * not the mapping call's "open /abs/path: No such file or directory (ENOENT)".
 */
function imageOpenError(image: string, error: unknown): unknown {
  if (!(error instanceof SyscallError)) return error;
  const reason = error.message.replace(/^.*?: /, "").replace(/ \([A-Z0-9]+\)$/, "");
  const code: Errno = error.code === "ENOENT" || error.code === "EISDIR" ? error.code : "EIO";
  return new DaxfsError(code, `${image}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
}

/** A missing image or a directory, said before any attempt to map it (which would log a fallback first). */
function checkImage(given: string, path: string): void {
  let stat: Stats;
  try {
    stat = statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new DaxfsError("ENOENT", `${given}: no such file or directory`);
    return; // EACCES and the like: the open below says it in the same form
  }
  if (stat.isDirectory()) throw new DaxfsError("EISDIR", `${given}: is a directory, not an image`);
}

export async function mountDaxfs(options: MountOptions): Promise<FuseServer> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const image = resolve(options.image);
  const mountpoint = resolve(options.mountpoint);
  // Checked before the image is touched: a typo in the mount point must not create (and then
  // abort) a branch, which would cost a branch slot and log space for nothing.
  checkMountpoint(mountpoint, options.mountpoint);
  const wantsWrite = options.branch !== undefined && options.branch !== "main";
  checkImage(options.image, image);
  let opened: OpenedImage;
  try {
    try {
      opened = openImage(image, true, log);
    } catch (error) {
      if (wantsWrite) throw error;
      opened = openImage(image, false, log); // a read-only file still serves main
    }
  } catch (error) {
    throw imageOpenError(options.image, error);
  }
  const { source } = opened;
  try {
    if (options.validate) {
      const report = validate(source);
      if (report.problems.length > 0) {
        // The first problem and a count: a damaged image can have hundreds, and the error is one line.
        const more = report.problems.length - 1;
        const rest =
          more === 0 ? "" : ` (and ${more} more: daxfs-inspect ${options.image} validate lists them all)`;
        throw new DaxfsError(
          "EINVAL",
          `${image}: validation failed: ${formatProblem(report.problems[0] as (typeof report.problems)[number])}${rest}`,
        );
      }
    }
    const fsOptions: BranchFsOptions = {
      branch: options.branch,
      parent: options.parent,
      sync: () => opened.sync(),
    };
    const fs = BranchFs.open(source, fsOptions);
    const neverWrites = !fs.info().writable;
    const socketPath = controlSocketPath(mountpoint);
    // Set once the mount is up: a main mount's kernel cache, checked when a peer commits.
    let cache: KernelCache | null = null;
    let server: Server;
    try {
      server = await startControlServer(fs, socketPath, {
        changed: () => cache?.check() ?? Promise.resolve(),
      });
    } catch (error) {
      fs.close();
      throw error;
    }
    let caches: BindingCache | null = null;
    // Only where the binding can keep listings (the patched build): elsewhere they are not made.
    const hook =
      neverWrites && fuseNativeBinding()?.daxfs_dir_put
        ? {
            mapped: opened.mapped ?? null,
            // A walk of the tree then asks JavaScript once per PREFETCH_ENTRIES entries, not per directory.
            budget: PREFETCH_ENTRIES,
            directories: (listings: DirectoryForCache[]) => caches?.directories(listings),
          }
        : undefined;
    const fuse = new DaxfsFuse(
      mountpoint,
      fuseOperations(fs, log, DaxfsFuse.passesBytes === true, neverWrites, hook),
      { timeout: false, fsname: image, subtype: "daxfs" },
    );
    caches = neverWrites ? bindingCache(fuse, opened.mapped ?? null) : null;
    if (caches) fuse.cacheSeconds = MAIN_CACHE_SECONDS;
    const extra = [...(options.fuseOptions ?? [])];
    if (neverWrites && !extra.includes("ro")) extra.push("ro");
    fuse.extraOptions = extra;
    try {
      await new Promise<void>((ok, fail) => fuse.mount((err) => (err ? fail(err) : ok())));
    } catch (error) {
      server.close();
      rmSync(socketPath, { force: true });
      fs.close();
      throw error;
    }
    if (caches) {
      caches.start(); // readdir answers fill it from now on
      // Read-ahead of metadata: the first PREFETCH_ENTRIES entries of the tree, breadth first, are
      // listed into the binding before the mount is reported, so a walk right after the mount
      // does not wait for the first listing (docs/fuse.md "Caching"; bench/fuse/rootfs.ts
      // reports the mount time with it).
      try {
        caches.directories(fs.listTree("/", opened.mapped ?? null, PREFETCH_ENTRIES));
      } catch {
        // an unreadable tree: every request answers its own error
      }
      cache = new KernelCache(fs, caches, log);
    }
    let closed = false;
    let poll: NodeJS.Timeout | undefined;
    const finish = () => {
      if (closed) return false;
      closed = true;
      if (poll) clearInterval(poll);
      cache?.close();
      server.close();
      rmSync(socketPath, { force: true });
      try {
        fs.close();
      } finally {
        opened.close();
      }
      return true;
    };
    const gone = new Promise<void>((ok) => {
      poll = setInterval(() => {
        if (!isMounted(mountpoint) && finish()) ok();
        // A commit by a process that does not tell us (daxfs.ko, a killed peer): noticed here.
        else void cache?.check();
      }, 100); // fusermount -u to exit: well under the 0.5 s docs/fuse.md promises
    });
    const close = async () => {
      if (closed) return;
      await new Promise<void>((ok) => fuse.unmount(() => ok()));
      finish();
    };
    return { fs, socketPath, close, gone };
  } catch (error) {
    opened.close();
    throw error;
  }
}
