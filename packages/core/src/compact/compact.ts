// Offline compaction (docs/space.md "Compaction"): main's tree (base + main's log) becomes the base
// of a fresh image with an empty main log and no other branch record, so every byte of the delta
// region but main's first extent is free again. One implementation for daxfs-compact and
// `mkdaxfs --from-image`: openCompactionSource() refuses what cannot be folded, compactImage()
// writes the result through the builder's atomic temp-and-rename, so a failure leaves the input
// (and -o) as they were.
import { chmodSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { BranchState } from "@daxfs/format";
import { COORD_LOCK_OFFSET } from "../branch/coord-lock.js";
import { leaseHolderIsDead, readLeases } from "../branch/leases.js";
import { MAIN_BRANCH } from "../branch/lifecycle.js";
import { readU32 } from "../branch/records.js";
import { deltaUsage } from "../branch/space.js";
import { type ImageMode, type ImagePlan, planImage } from "../build/plan.js";
import { type AllocateFile, type UnnamedFiles, writeImageFile } from "../build/write.js";
import { DaxfsError, isDaxfsError } from "../errors.js";
import { DaxfsImage } from "../image.js";
import { hostPath, showName } from "../names.js";
import { type BranchTreeOptions, branchTree } from "./branch-tree.js";

/** An image opened to be folded, with what would be lost by replacing it. */
export interface CompactionSource {
  image: DaxfsImage;
  mode: ImageMode;
  /** Delta region bytes (branching images), else null. */
  deltaSize: number | null;
  /** Names (or `#id` for unnamed ones) of ACTIVE branches other than main. */
  activeBranches: string[];
  /** Live leases: mounts that still read the image. */
  liveLeases: number;
  /** The coordination lock word is held: a commit or branch change in progress, or a dead holder. */
  locked: boolean;
}

/**
 * Opens `path` read-only for folding. A split image is refused: its file data lives in a backing
 * file and the image itself only in memory (a dma-buf or physical range), so there is no file to
 * rewrite offline; rebuild it with mkdaxfs from a mount instead.
 */
export function openCompactionSource(path: string): CompactionSource {
  const image = DaxfsImage.openFile(path);
  try {
    if (image.geometry.pcache !== null || image.base?.externalData)
      throw new DaxfsError(
        "EOPNOTSUPP",
        `${showName(path)}: a split image keeps its file data in a backing file; it cannot be folded offline`,
      );
    if (!image.base) throw new DaxfsError("EINVAL", `${showName(path)}: the image has no base image`);
    const activeBranches = image
      .branches()
      .filter((record) => record.state === BranchState.ACTIVE && record.parentId !== 0)
      .map((record) => (record.name === "" ? `#${record.id}` : record.name));
    const liveLeases = image.branching
      ? readLeases(image).filter((lease) => !leaseHolderIsDead(lease)).length
      : 0;
    return {
      image,
      mode: image.branching ? "branching" : "static",
      deltaSize: image.deltaRegion?.size ?? null,
      activeBranches,
      liveLeases,
      locked: image.branching && readU32(image.source, COORD_LOCK_OFFSET) !== 0,
    };
  } catch (error) {
    image.close();
    throw error;
  }
}

export interface CompactOptions extends BranchTreeOptions {
  /** Where the result goes; default the input itself (temp file + rename). */
  output?: string;
  /** Compact although branches are ACTIVE or the image is mounted (they are lost). */
  force?: boolean;
  /** Mode of the result; default the input's. */
  mode?: "static" | "branching";
  /** Delta region bytes of a branching result; default the input's (64 MiB for a static input). */
  deltaSize?: number;
  /** Allocates the written file's blocks (mkdaxfs's default; see docs/fuse.md "Full file systems"). */
  allocate?: AllocateFile;
  /** Writes the result into an unnamed file first (a killed compaction leaves nothing). */
  unnamed?: UnnamedFiles;
  /** Blocks of zeros are left as holes of the result (daxfs-compact --sparse, as mkdaxfs --sparse). */
  sparse?: boolean;
}

export interface CompactResult {
  input: string;
  output: string;
  inPlace: boolean;
  /** Size of the input and of the result, in bytes. */
  bytesBefore: number;
  bytesAfter: number;
  /** Base image bytes of the input (the result's: `plan.baseSize`). */
  baseBefore: number;
  /** Bytes of main's log folded into the new base. */
  mainLogBytes: number;
  /** Delta region bytes in use before (docs/space.md "Warning"); after, main's empty log only. */
  deltaUsedBefore: number | null;
  plan: ImagePlan;
  /** ACTIVE branches that the result no longer has (only with `force`). */
  droppedBranches: string[];
}

/** Folds main of the image at `input` into a new base and writes the fresh image. */
export function compactImage(input: string, options: CompactOptions = {}): CompactResult {
  const output = options.output ?? input;
  const inPlace = resolve(output) === resolve(input);
  const source = openCompactionSource(input);
  const name = showName(input);
  try {
    if (!options.force && source.activeBranches.length > 0)
      throw new DaxfsError(
        "EBUSY",
        `${name}: active branches would be lost: ${source.activeBranches.join(", ")} (commit or abort them, or --force)`,
      );
    if (!options.force && source.liveLeases > 0)
      throw new DaxfsError(
        "EBUSY",
        `${name}: the image is mounted (${source.liveLeases} live lease${source.liveLeases === 1 ? "" : "s"}); unmount it first, or --force`,
      );
    if (!options.force && source.locked)
      throw new DaxfsError(
        "EBUSY",
        `${name}: the coordination lock is held (a branch operation in progress, or a holder that died); retry, or --force`,
      );
    const mode = options.mode ?? (source.mode === "branching" ? "branching" : "static");
    if (options.deltaSize !== undefined && mode !== "branching")
      throw new DaxfsError("EINVAL", `${name}: a delta region size needs a branching result`);
    const root = withImageName(name, () => branchTree(source.image.view(MAIN_BRANCH), options));
    const plan = withImageName(name, () =>
      planImage(root, {
        branching: mode === "branching",
        deltaSize: mode === "branching" ? (options.deltaSize ?? source.deltaSize ?? undefined) : undefined,
      }),
    );
    // File contents are read from the input while the result is written: in place, the rename at
    // the end replaces the input only once the result is complete.
    // In place, the result keeps the input's permission bits (a fresh file would get 0644).
    const keptMode = inPlace ? statSync(hostPath(input)).mode & 0o7777 : undefined;
    withImageName(
      name,
      () =>
        writeImageFile(plan, output, {
          allocate: options.allocate,
          unnamed: options.unnamed,
          sparse: options.sparse,
        }),
      output,
    );
    if (keptMode !== undefined) chmodSync(hostPath(output), keptMode);
    return {
      input,
      output,
      inPlace,
      bytesBefore: source.image.source.size,
      bytesAfter: plan.totalSize,
      baseBefore: source.image.geometry.base?.size ?? 0,
      mainLogBytes: source.image.findBranch(MAIN_BRANCH)?.logSize ?? 0,
      deltaUsedBefore: deltaUsage(source.image)?.used ?? null,
      plan,
      droppedBranches: source.activeBranches,
    };
  } finally {
    source.image.close();
  }
}

/**
 * Runs `body`; a DaxfsError that names neither the input nor `output` (a path inside the image, an
 * inode) gets the input's name in front, so every message is one `IMAGE: reason` line.
 */
function withImageName<T>(name: string, body: () => T, output?: string): T {
  try {
    return body();
  } catch (error) {
    const names = [name, ...(output === undefined ? [] : [showName(output)])];
    if (isDaxfsError(error) && !names.some((n) => error.message.startsWith(`${n}:`)))
      error.message = `${name}: ${error.message}`;
    throw error;
  }
}
