// The mkdaxfs service: a source (directory or tar layers) → a build tree → a planned image → one
// target (SPEC 2.10: a file, a dma-heap buffer that is then mounted, or physical memory). The CLI
// only parses flags into MkdaxfsOptions and prints what this returns.
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BuildDir,
  branchTree,
  DaxfsError,
  type HostCalls,
  hostError,
  hostPath,
  type ImagePlan,
  openCompactionSource,
  type PlannedInode,
  planImage,
  scanDirectory,
  writeImageFile,
} from "@daxfs/core";
import { allocateImageFile, listXattrs, unnamedFiles } from "@daxfs/linux";
import { loadCopyFileRange } from "./copy-range.js";
import { loadHostCalls } from "./host-calls.js";
import { XattrCensus } from "./xattrs.js";

export interface MkdaxfsOptions {
  directory?: string;
  /** --from-image: main of an existing image (base + main's log) is the source (docs/space.md "Compaction"). */
  fromImage?: string;
  tars: string[];
  output?: string;
  heap?: string;
  mountpoint?: string;
  phys?: bigint;
  /** -s: requested size (an upper bound for -o; the allocation for -H/-p). */
  size?: number;
  deltaSize?: number;
  branching: boolean;
  validate: boolean;
  pcacheSlots?: number;
  allRoot: boolean;
  /** Store names and symlink targets that are not valid UTF-8 as their bytes (--byte-names). */
  byteNames?: boolean;
  /** --zero-times: store no mtimes (every base time 0, as plain v5). */
  zeroTimes?: boolean;
  /** SOURCE_DATE_EPOCH in seconds: later mtimes are clamped to it. */
  sourceDateEpoch?: number | null;
  exclude: string[];
  strict: boolean;
  /**
   * --sparse: leave the image file's (split mode: the backing file's) blocks of zeros as holes
   * instead of writing and allocating them (docs/mkdaxfs.md "Sparse images").
   */
  sparse?: boolean;
}

export type Target =
  | { kind: "file"; path: string }
  | { kind: "heap"; heap: string; mountpoint: string }
  | { kind: "phys"; address: bigint };

export interface BuildHooks {
  onWarning?: (message: string) => void;
  /** Called once the layout is known, before data is copied. */
  onPlanned?: (plan: ImagePlan, target: Target) => void;
  onFileCopied?: (inode: PlannedInode, bytesCopied: number) => void;
  /** The scan's and the copy's system calls (buildToTarget: native, host-calls.ts). */
  hostCalls?: HostCalls;
}

export interface BuildResult {
  plan: ImagePlan;
  target: Target;
  /** Split mode: the backing file (-o). */
  backingPath: string | null;
  /** Bytes allocated at the target (-s for -H/-p, else the image size). */
  allocation: number;
}

/** SPEC 2.1 mode selection: split iff (-H or -p) and -o and -b; target precedence -H, -p, -o. */
export function selectTarget(options: MkdaxfsOptions): { target: Target; split: boolean } {
  const split =
    (options.heap !== undefined || options.phys !== undefined) &&
    options.output !== undefined &&
    options.branching;
  if (options.heap !== undefined)
    return { target: { kind: "heap", heap: options.heap, mountpoint: options.mountpoint ?? "" }, split };
  if (options.phys !== undefined) return { target: { kind: "phys", address: options.phys }, split };
  return { target: { kind: "file", path: options.output ?? "" }, split };
}

/**
 * A directory in $TMPDIR for the spool of tar bodies that cannot be read back from their source
 * (stdin, compressed layers). One that cannot be made (a missing, read-only or full TMPDIR) is one
 * line naming it, not an internal error.
 */
function makeSpoolDirectory(): string {
  const parent = process.env.TMPDIR || tmpdir();
  try {
    return mkdtempSync(join(parent, "mkdaxfs-tar-"));
  } catch (error) {
    const { code, message } = hostError(error, parent);
    throw new DaxfsError(code, `${message} (TMPDIR, where tar input is spooled)`);
  }
}

/** Reads the source into a build tree; `cleanup` removes the tar spool. */
export async function loadSource(
  options: MkdaxfsOptions,
  hooks: BuildHooks = {},
): Promise<{ root: BuildDir; cleanup: () => void }> {
  const xattrs = new XattrCensus(options.strict);
  const scanOptions = {
    hostCalls: hooks.hostCalls,
    allRoot: options.allRoot,
    zeroTimes: options.zeroTimes === true,
    clampTime:
      options.sourceDateEpoch === undefined || options.sourceDateEpoch === null
        ? undefined
        : BigInt(options.sourceDateEpoch) * 1_000_000_000n,
    exclude: options.exclude,
    strict: options.strict,
    onWarning: hooks.onWarning,
    onEntry: (path: string, shown: string) => xattrs.note(shown, listXattrs(hostPath(path))),
    onXattrs: (where: string, names: string[]) => xattrs.note(where, names),
  };
  if (options.fromImage !== undefined) {
    // The same reader as daxfs-compact: main's tree, hard links, owners, modes and mtimes.
    const { image } = openCompactionSource(options.fromImage);
    try {
      return { root: branchTree(image.view("main"), scanOptions), cleanup: () => image.close() };
    } catch (error) {
      image.close();
      throw error;
    }
  }
  const warnXattrs = () => {
    const warning = xattrs.warning();
    if (warning !== null) hooks.onWarning?.(warning);
  };
  if (options.directory !== undefined) {
    const root = scanDirectory(options.directory, scanOptions);
    warnXattrs();
    return { root, cleanup: () => {} };
  }
  const spoolDir = makeSpoolDirectory();
  const spool = { path: join(spoolDir, "spool"), fd: -1 };
  const cleanup = () => {
    if (spool.fd >= 0) closeSync(spool.fd);
    spool.fd = -1;
    rmSync(spoolDir, { recursive: true, force: true });
  };
  try {
    try {
      spool.fd = openSync(spool.path, "w+", 0o600);
    } catch (error) {
      throw hostError(error, spool.path);
    }
    // Loaded only for tar input, so directory builds do not pay for the tar parser.
    const { TarTreeBuilder } = await import("./tar.js");
    const builder = new TarTreeBuilder(spool, scanOptions);
    for (const tar of options.tars) await builder.addLayer(tar);
    warnXattrs();
    return { root: builder.root, cleanup };
  } catch (error) {
    cleanup();
    throw error;
  }
}

/** The source as messages name it: the directory, the image, or the tar files. */
export function sourceName(options: MkdaxfsOptions): string {
  return options.directory ?? options.fromImage ?? options.tars.join(", ");
}

/** Lays out the tree; a layout over -s names the source it came from. */
function planSource(root: BuildDir, options: MkdaxfsOptions, split: boolean): ImagePlan {
  try {
    return planImage(root, {
      branching: options.branching,
      deltaSize: options.deltaSize,
      size: options.size,
      split: split ? { pcacheSlots: options.pcacheSlots } : undefined,
      utf8Names: !options.byteNames,
    });
  } catch (error) {
    if (!(error instanceof DaxfsError)) throw error;
    const source = sourceName(options);
    if (error.code === "ENOSPC") throw new DaxfsError("ENOSPC", `${source}: ${error.message}`);
    // A name in another charset (a Latin-1 archive, say) is refused unless asked for: once stored,
    // it shows as escapes in every UTF-8 tool (docs/mkdaxfs.md "Names").
    if (error.code === "EILSEQ")
      throw new DaxfsError("EILSEQ", `${source}: ${error.message} (--byte-names stores it as bytes)`);
    throw error;
  }
}

/** Builds the image at its target. Nothing is left at -o if this throws. */
export async function buildToTarget(options: MkdaxfsOptions, hooks: BuildHooks = {}): Promise<BuildResult> {
  const { target, split } = selectTarget(options);
  const hostCalls = hooks.hostCalls ?? loadHostCalls();
  const { root, cleanup } = await loadSource(options, { ...hooks, hostCalls });
  try {
    const plan = planSource(root, options, split);
    hooks.onPlanned?.(plan, target);
    const emit = { onFileCopied: hooks.onFileCopied, copyFileRange: loadCopyFileRange(), hostCalls };
    if (target.kind === "file") {
      const allocate = options.sparse ? undefined : allocateImageFile(target.path, hooks.onWarning);
      writeImageFile(plan, target.path, {
        ...emit,
        allocate,
        unnamed: unnamedFiles,
        sparse: options.sparse === true,
      });
      return { plan, target, backingPath: null, allocation: plan.totalSize };
    }
    const allocation = options.size ?? plan.totalSize;
    const backingPath = split ? (options.output as string) : null;
    const memory = await import("./memory-targets.js");
    const sparse = options.sparse === true;
    if (target.kind === "heap")
      memory.writeToHeap(plan, target, allocation, {
        ...emit,
        backingPath,
        sparse,
        validate: options.validate,
      });
    else memory.writeToPhys(plan, target.address, allocation, { ...emit, backingPath, sparse });
    return { plan, target, backingPath, allocation };
  } finally {
    cleanup();
  }
}

/** The environment's SOURCE_DATE_EPOCH, checked: the latest mtime the image may store (docs/mkdaxfs.md). */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | null {
  const value = env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === "") return null;
  if (!/^\d+$/.test(value))
    throw new DaxfsError(
      "EINVAL",
      `SOURCE_DATE_EPOCH=${JSON.stringify(value)} is not a non-negative integer`,
    );
  return Number(value);
}
