// Entry points of the builder: an image in memory, an image file written atomically (a temporary
// file beside the target, renamed at the end, so a failed build leaves nothing at the path), and
// an image written into mapped memory (dma-buf, /dev/mem) with its split-mode backing file.
import { closeSync, ftruncateSync, openSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { hostPath } from "../names.js";
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

/**
 * Creates `path` with exactly `size` bytes filled by `fill`, through a temporary file in the same
 * directory that replaces `path` only once `fill` has succeeded. With `allocate`, every block is
 * allocated before the rename (a full file system fails the build, not a later writer through a
 * mapping); without it, what `fill` skipped stays a sparse hole.
 */
export function replaceFileAtomically(
  path: string,
  size: number,
  fill: (fd: number) => void,
  allocate?: AllocateFile,
): void {
  const temporary = join(dirname(path), `.${basename(path)}.mkdaxfs-${process.pid}.tmp`);
  let fd: number;
  try {
    fd = openSync(hostPath(temporary), "w", 0o644);
  } catch (error) {
    throw hostError(error, path);
  }
  try {
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
      allocate?.(fd, size);
    } catch (error) {
      throw hostError(error, path);
    }
    closeSync(fd);
    fd = -1;
    try {
      renameSync(hostPath(temporary), hostPath(path));
    } catch (error) {
      throw hostError(error, path);
    }
  } catch (error) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(hostPath(temporary));
    } catch {
      // Already renamed or never created: nothing to clean up.
    }
    throw error;
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
    allocate?: AllocateFile;
    sparse?: boolean;
  } = {},
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
    options.allocate,
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
  replaceFileAtomically(options.backingPath, plan.backingSize, (fd) =>
    emitImage(plan, sink, {
      ...options,
      backing: new FileSink(fd, { copyFileRange: options.copyFileRange, sparse: options.sparse }),
    }),
  );
}
