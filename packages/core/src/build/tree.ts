// The abstract tree the image builder lays out (docs/mkdaxfs.md). Sources (a host directory, tar
// layers, a test's fast-check tree) are turned into this shape first, so the layout code never
// touches a file system and every source gets the same numbering, sorting and validity rules.

import { S_IFDIR, S_IFLNK, S_IFREG } from "../file-type.js";

/** A directory; `mode` is the full st_mode (the type bits are forced to S_IFDIR). */
export interface BuildDir {
  kind: "dir";
  /** Modification time in ns since the epoch (extension BASE_MTIME); absent or 0: none. */
  mtime?: bigint;
  mode: number;
  uid: number;
  gid: number;
  children: Map<string, BuildNode>;
}

/**
 * A regular file. The SAME object under several names is one hard-linked inode (SPEC 2.4, with
 * NOTES.md 6: one inode slot, no zero slots).
 */
export interface BuildFile {
  kind: "file";
  /** Modification time in ns since the epoch (extension BASE_MTIME); absent or 0: none. */
  mtime?: bigint;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  content: FileContent;
}

/** A symbolic link; stored as the target bytes plus a NUL (SPEC 1.6.4). */
export interface BuildSymlink {
  kind: "symlink";
  /** Modification time in ns since the epoch (extension BASE_MTIME); absent or 0: none. */
  mtime?: bigint;
  mode: number;
  uid: number;
  gid: number;
  target: string;
}

export type BuildNode = BuildDir | BuildFile | BuildSymlink;

/**
 * Where a file's bytes come from: in memory, a function returning `length` bytes at `offset`, or
 * a range of a host file that the writers stream without loading it whole.
 */
export type FileContent = Uint8Array | ((offset: number, length: number) => Uint8Array) | HostFileContent;

/** `size` bytes of the host file `path` starting at `offset` (a scanned file, or a tar spool). */
export interface HostFileContent {
  kind: "host";
  path: string;
  offset: number;
  /**
   * The file as it was scanned; the copy fails with "changed while being copied" if the file no
   * longer matches it when the copy ends (a tar spool, written by us, needs no check).
   */
  scanned?: { ino: number; size: number; mtimeMs: number };
}

export function isHostContent(content: FileContent): content is HostFileContent {
  return typeof content === "object" && !(content instanceof Uint8Array);
}

export { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../file-type.js";

/** The st_mode stored for a node: its permission bits with the type bits its kind implies. */
export function storedMode(node: BuildNode): number {
  const type = node.kind === "dir" ? S_IFDIR : node.kind === "file" ? S_IFREG : S_IFLNK;
  return type | (node.mode & 0o7777);
}

export function makeDir(options: { mode?: number; uid?: number; gid?: number } = {}): BuildDir {
  return {
    kind: "dir",
    mode: options.mode ?? 0o755,
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
    children: new Map(),
  };
}

export function makeFile(
  content: Uint8Array | string,
  options: { mode?: number; uid?: number; gid?: number } = {},
): BuildFile {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    kind: "file",
    mode: options.mode ?? 0o644,
    uid: options.uid ?? 0,
    gid: options.gid ?? 0,
    size: bytes.length,
    content: bytes,
  };
}

export function makeSymlink(target: string, options: { uid?: number; gid?: number } = {}): BuildSymlink {
  return { kind: "symlink", mode: 0o777, uid: options.uid ?? 0, gid: options.gid ?? 0, target };
}
