// Entry points of the builder: an image in memory, an image file written atomically (a temporary
// file beside the target, renamed at the end, so a failed build leaves nothing at the path), and
// an image written into mapped memory (dma-buf, /dev/mem) with its split-mode backing file.
import {
  closeSync,
  ftruncateSync,
  lstatSync,
  openSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  unlinkSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { DaxfsError } from "../errors.js";
import { decodeName, hostPath, showName } from "../names.js";
import { hostError } from "./content.js";
import { type EmitOptions, emitImage } from "./encode.js";
import { type BuildOptions, type ImagePlan, planImage } from "./plan.js";
import { type CopyFileRange, FileSink, ImageWriteError, MemorySink } from "./sink.js";
import type { BuildDir } from "./tree.js";

/** Builds a static or branching image in memory (tests, small trees). */
export function buildImage(root: BuildDir, options: BuildOptions = {}): Uint8Array {
  if (options.split) throw new RangeError("buildImage: use buildSplitImage for split mode");
  const plan = planImage(root, options);
  const bytes = new Uint8Array(plan.totalSize);
  emitImage(plan, new MemorySink(bytes));
  return bytes;
}

/** Builds a split-mode image and its backing file's bytes in memory. */
export function buildSplitImage(
  root: BuildDir,
  options: BuildOptions & { split: { pcacheSlots?: number } },
): {
  image: Uint8Array;
  backing: Uint8Array;
} {
  const plan = planImage(root, options);
  const image = new Uint8Array(plan.totalSize);
  const backing = new Uint8Array(plan.backingSize);
  emitImage(plan, new MemorySink(image), { backing: new MemorySink(backing) });
  return { image, backing };
}

/**
 * Allocates the blocks of a file's first `length` bytes (posix_fallocate; core has no native
 * bindings, so the caller provides it); throws an error with `code` (ENOSPC...).
 */
export type AllocateFile = (fd: number, length: number) => void;

/** What a path names, for the message refusing it as an image file. */
function fileKind(stat: Stats): string {
  if (stat.isDirectory()) return "is a directory";
  if (stat.isCharacterDevice()) return "is a character device, not a regular file";
  if (stat.isBlockDevice()) return "is a block device, not a regular file";
  if (stat.isFIFO()) return "is a FIFO, not a regular file";
  if (stat.isSocket()) return "is a socket, not a regular file";
  return "is not a regular file";
}

/**
 * The file an image written to `path` replaces (docs/mkdaxfs.md `-o`): `path` itself, or the file a
 * symlink there points to (followed, as open(2) of the public tool and mkfs.erofs follow it, rather
 * than replaced by the rename). Anything but a regular file or a new name is refused with one line,
 * before anything is written: the rename would put the image in place of a directory entry, a
 * device node (`-o /dev/pmem0` would lose the node) or a FIFO, where the writer meant to write into
 * it. Throws a DaxfsError naming `path`.
 */
export function imageFilePath(path: string): string {
  // "" would be resolved as the working directory by some calls and as nothing by others.
  if (path === "") throw new DaxfsError("ENOENT", "'': empty file name");
  let stat: Stats;
  try {
    stat = statSync(hostPath(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") throw hostError(error, path);
    if (path.endsWith("/"))
      throw new DaxfsError("EISDIR", `${showName(path)}: names a directory, not a file`);
    let dangling = false;
    try {
      dangling = lstatSync(hostPath(path)).isSymbolicLink();
    } catch {
      // No entry at all: a new file.
    }
    if (dangling) throw new DaxfsError("ENOENT", `${showName(path)}: symbolic link to a missing file`);
    return path;
  }
  if (stat.isDirectory()) throw new DaxfsError("EISDIR", `${showName(path)}: is a directory`);
  if (!stat.isFile()) throw new DaxfsError("EINVAL", `${showName(path)}: ${fileKind(stat)}`);
  try {
    if (!lstatSync(hostPath(path)).isSymbolicLink()) return path;
    // realpath(3) itself: node:fs's own realpathSync walks the path as a string, losing bytes
    // that are not UTF-8.
    return decodeName(realpathSync.native(hostPath(path), { encoding: "buffer" }));
  } catch (error) {
    throw hostError(error, path);
  }
}

/**
 * Unnamed files (open(2) O_TMPFILE), as the caller can provide them (core has no native bindings;
 * @daxfs/linux `openUnnamedFile`/`linkUnnamedFile`).
 */
export interface UnnamedFiles {
  /** A new unnamed file in `directory`, open for writing; null where none can be made. */
  open(directory: string | Uint8Array): number | null;
  /** Gives the unnamed file at `fd` the new name `path` in that directory. */
  link(fd: number, path: string | Uint8Array): void;
}

export interface ReplaceOptions {
  /** Allocates every block before the file gets its name (else holes stay sparse). */
  allocate?: AllocateFile;
  /** Write into an unnamed file, so a writer killed half-way (Ctrl-C) leaves nothing behind. */
  unnamed?: UnnamedFiles;
}

/**
 * Creates `path` with exactly `size` bytes filled by `fill`, through a temporary file in the same
 * directory that replaces `path` only once `fill` has succeeded. With `allocate`, every block is
 * allocated before the rename (a full file system fails the build, not a later writer through a
 * mapping); without it, what `fill` skipped stays a sparse hole. With `unnamed` (where the file
 * system has O_TMPFILE) the temporary file has no name until it is complete: a process killed by a
 * signal leaves nothing; otherwise a failure is cleaned up but a signal leaves the named
 * temporary file.
 */
export function replaceFileAtomically(
  path: string,
  size: number,
  fill: (fd: number) => void,
  options: ReplaceOptions = {},
): void {
  const target = imageFilePath(path);
  const temporary = hostPath(join(dirname(target), `.${basename(target)}.mkdaxfs-${process.pid}.tmp`));
  let fd: number | null = null;
  let named = false;
  try {
    try {
      fd = options.unnamed?.open(hostPath(dirname(target))) ?? null;
      if (fd === null) {
        fd = openSync(temporary, "w", 0o644);
        named = true;
      }
    } catch (error) {
      throw hostError(error, path);
    }
    // Sized after the fill: ascending writes that extend the file are cheaper for the file system
    // than writes into a pre-sized sparse file (copy_file_range into a hole ran 2x slower on ext4).
    try {
      fill(fd);
    } catch (error) {
      // A full file system names the image being written (`path`), not a source file.
      throw error instanceof ImageWriteError ? hostError(error.failure, path) : error;
    }
    try {
      ftruncateSync(fd, size);
      // After the fill, so only the holes it left are allocated (allocating first would put the
      // writes into unwritten extents, as slow as the pre-sized file above).
      options.allocate?.(fd, size);
      if (!named) {
        // Named only now, complete, and at once renamed over the target. A file of that name is
        // a leftover of a killed writer of the same pid (named mode): it goes.
        rmSync(temporary, { force: true });
        options.unnamed?.link(fd, temporary);
        named = true;
      }
      const closing = fd;
      fd = null;
      closeSync(closing);
      renameSync(temporary, hostPath(target));
      named = false;
    } catch (error) {
      throw hostError(error, path);
    }
  } finally {
    if (fd !== null) closeSync(fd);
    if (named) {
      try {
        unlinkSync(temporary);
      } catch {
        // Never created: nothing to clean up.
      }
    }
  }
}

/**
 * Writes a static or branching image to the file `path` (SPEC 2.10: sized to the computed size),
 * fully allocated when `allocate` is given. With `sparse`, blocks of zeros (a source file's holes
 * and zero blocks, unwritten regions) are left as holes: the same bytes in less disk space
 * (docs/mkdaxfs.md `--sparse`).
 */
export function writeImageFile(
  plan: ImagePlan,
  path: string,
  options: Omit<EmitOptions, "backing"> & {
    copyFileRange?: CopyFileRange;
    sparse?: boolean;
  } & ReplaceOptions = {},
): void {
  if (plan.mode === "split")
    throw new RangeError("writeImageFile: a split image lives in memory; use writeImageToMemory");
  replaceFileAtomically(
    path,
    plan.totalSize,
    (fd) =>
      emitImage(
        plan,
        new FileSink(fd, { copyFileRange: options.copyFileRange, sparse: options.sparse }),
        options,
      ),
    { allocate: options.allocate, unnamed: options.unnamed },
  );
}

/**
 * Writes an image into mapped memory of at least `plan.totalSize` bytes, zeroing it first (a
 * /dev/mem range is not zero). In split mode the backing file at `backingPath` is written too,
 * with its blocks of zeros left as holes when `sparse` (as writeImageFile's).
 */
export function writeImageToMemory(
  plan: ImagePlan,
  memory: Uint8Array,
  options: Omit<EmitOptions, "backing"> & {
    backingPath?: string;
    copyFileRange?: CopyFileRange;
    unnamed?: UnnamedFiles;
    sparse?: boolean;
  } = {},
): void {
  if (memory.length < plan.totalSize)
    throw new RangeError(`memory of ${memory.length} bytes cannot hold a ${plan.totalSize}-byte image`);
  memory.fill(0);
  const sink = new MemorySink(memory);
  if (plan.mode !== "split") {
    emitImage(plan, sink, options);
    return;
  }
  if (!options.backingPath) throw new RangeError("split mode needs a backing file path");
  replaceFileAtomically(
    options.backingPath,
    plan.backingSize,
    (fd) =>
      emitImage(plan, sink, {
        ...options,
        backing: new FileSink(fd, { copyFileRange: options.copyFileRange, sparse: options.sparse }),
      }),
    { unnamed: options.unnamed },
  );
}
