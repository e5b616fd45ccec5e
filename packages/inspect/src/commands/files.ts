// ls, tree, stat, cat and extract: the file tree of one branch, read through BranchView (the same
// replay every tool uses). Walks are the view's iterative walk, so a deep tree costs no stack.
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lchownSync,
  linkSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  symlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import {
  type BranchView,
  compareNames,
  countInodeTypes,
  DaxfsError,
  fileTypeOf,
  hostPath,
  plural,
  S_IFDIR,
  S_IFLNK,
  type Stat,
  showName,
  typeCountText,
  withShortPath,
} from "@daxfs/core";
import { emit, modeString, type Output, shortTime, timeText } from "../render.js";

/**
 * `mkdir -p target`, one component at a time from the top. Not mkdirSync's `recursive`: Node 20's
 * loops for ever where a parent exists but cannot hold the child (`/proc/x`, under a dangling
 * symlink): the child says ENOENT, the parent EEXIST, and again. Here the first failure other than
 * EEXIST is the error, naming the path it failed on.
 */
function makeDirectories(target: string): void {
  for (let end = target.indexOf("/", 1); ; end = target.indexOf("/", end + 1)) {
    const prefix = end === -1 ? target : target.slice(0, end);
    try {
      mkdirSync(hostPath(prefix));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    if (end === -1) return;
  }
}

const CHUNK = 1 << 20;

const isDir = (mode: number) => fileTypeOf(mode) === S_IFDIR;
const isLink = (mode: number) => fileTypeOf(mode) === S_IFLNK;

/** How a path argument is walked: the last component is a symlink's own unless `dereference` (-L). */
export interface PathOptions {
  dereference?: boolean;
}

/** The path as shown: from the root, without empty or "." components (resolution takes it as given). */
function normalize(path: string | undefined): string {
  const parts = (path ?? "/").split("/").filter((p) => p !== "" && p !== ".");
  return `/${parts.join("/")}`;
}

/**
 * The inode a path argument names, by core's one path walk (symlinks in the middle followed,
 * errors naming the path).
 */
function resolveArgument(view: BranchView, path: string | undefined, options: PathOptions): number {
  return view.resolve(path ?? "/", { followFinal: options.dereference === true });
}

function longLine(view: BranchView, name: string, stat: Stat): string {
  const target = isLink(stat.mode) ? ` -> ${showName(view.readlink(stat.ino))}` : "";
  return `${modeString(stat.mode)} ${String(stat.nlink).padStart(3)} ${String(stat.uid).padStart(5)} ${String(stat.gid).padStart(5)} ${String(stat.size).padStart(10)} ${shortTime(stat.mtime)} ${showName(name)}${target}`;
}

export function lsCommand(
  view: BranchView,
  path: string | undefined,
  out: Output,
  options: PathOptions = {},
): void {
  const where = normalize(path);
  const ino = resolveArgument(view, path, options);
  const stat = view.stat(ino);
  const rows = isDir(stat.mode)
    ? view
        .readdir(ino)
        .sort((a, b) => compareNames(a.name, b.name))
        .map((entry) => ({ name: entry.name, stat: view.stat(entry.ino) }))
    : [{ name: where.split("/").pop() ?? where, stat }];
  emit(
    out,
    rows.map((r) => ({
      name: r.name,
      ...r.stat,
      target: isLink(r.stat.mode) ? view.readlink(r.stat.ino) : undefined,
    })),
    () => rows.map((r) => longLine(view, r.name, r.stat)),
  );
}

export function treeCommand(
  view: BranchView,
  path: string | undefined,
  out: Output,
  options: PathOptions = {},
): void {
  const where = normalize(path);
  const start = { path: where, ino: resolveArgument(view, path, options) };
  const rows: { path: string; stat: Stat }[] = [];
  const children = new Map<string, number[]>(); // parent path -> row indexes, in walk (name) order
  for (const { path: p, stat } of view.walk(start)) {
    rows.push({ path: p, stat });
    if (p !== where) {
      const parent = p.slice(0, p.lastIndexOf("/")) || "/";
      children.set(parent, [...(children.get(parent) ?? []), rows.length - 1]);
    }
  }
  emit(
    out,
    rows.map((r) => ({ path: r.path, ...r.stat })),
    () => {
      const lines: string[] = [];
      // Explicit stack (the tree's depth is the image's to choose), children in name order.
      const stack: { row: number; indent: string; last: boolean; top: boolean }[] = [
        { row: 0, indent: "", last: true, top: true },
      ];
      while (stack.length > 0) {
        const { row, indent, last, top } = stack.pop()!;
        const { path: p, stat } = rows[row]!;
        const name = showName(top ? p : p.slice(p.lastIndexOf("/") + 1));
        const suffix =
          isDir(stat.mode) && !top
            ? "/"
            : isLink(stat.mode)
              ? ` -> ${showName(view.readlink(stat.ino))}`
              : "";
        lines.push(top ? `${name}${suffix}` : `${indent}${last ? "└── " : "├── "}${name}${suffix}`);
        const kids = children.get(p) ?? [];
        const childIndent = top ? "" : `${indent}${last ? "    " : "│   "}`;
        for (let i = kids.length - 1; i >= 0; i--)
          stack.push({ row: kids[i]!, indent: childIndent, last: i === kids.length - 1, top: false });
      }
      // Names below the top by type, and the inodes they name (a hard link is one inode under two
      // names): the terms of mkdaxfs and info (docs/cli.md "Counts"), not tree(1)'s "N files".
      const names = rows.slice(1).map((r) => r.stat.mode);
      const inodes = new Set(rows.map((r) => r.stat.ino)).size;
      lines.push(
        "",
        `${plural(names.length, "directory entry", "directory entries")} (${typeCountText(countInodeTypes(names))}), ${plural(inodes, "inode")}`,
      );
      return lines;
    },
  );
}

export function statCommand(view: BranchView, path: string, out: Output, options: PathOptions = {}): void {
  const where = normalize(path);
  const stat = view.stat(resolveArgument(view, path, options));
  const target = isLink(stat.mode) ? view.readlink(stat.ino) : undefined;
  const type = isDir(stat.mode) ? "directory" : isLink(stat.mode) ? "symbolic link" : "regular file";
  emit(out, { path: where, type, ...stat, target }, () => [
    `  File: ${showName(where)}${target !== undefined ? ` -> ${showName(target)}` : ""}`,
    `  Size: ${stat.size}\tBlocks: ${stat.blocks}\t${type}`,
    `Inode: ${stat.ino}\tLinks: ${stat.nlink}`,
    `Access: (0${(stat.mode & 0o7777).toString(8).padStart(3, "0")}/${modeString(stat.mode)})  Uid: ${stat.uid}  Gid: ${stat.gid}`,
    // The times the image keeps (docs/semantics.md: base mtimes, a branch's entry times), in UTC.
    `Modify: ${timeText(stat.mtime)}`,
    `Change: ${timeText(stat.ctime)}`,
  ]);
}

/** Like cat(1), which opens the file: a symlink as the last component is followed. */
export function catCommand(view: BranchView, path: string, out: Output): void {
  const ino = resolveArgument(view, path, { dereference: true });
  const stat = view.stat(ino);
  if (isDir(stat.mode)) throw new DaxfsError("EISDIR", `${showName(path)}: is a directory`);
  if (out.json) {
    const data = view.read(ino, 0, stat.size);
    emit(
      out,
      { path: normalize(path), size: stat.size, base64: Buffer.from(data).toString("base64") },
      () => [],
    );
    return;
  }
  for (let at = 0; at < stat.size; at += CHUNK)
    out.writeBytes!(view.read(ino, at, Math.min(CHUNK, stat.size - at)));
}

/**
 * A stored time (ns) as the seconds Node's utimes takes, which it cuts to whole microseconds: a
 * double holds today's times to about 0.2 us, so half a microsecond more keeps the cut on the
 * stored microsecond instead of the one below it.
 */
const utimeSeconds = (ns: bigint) => (Number(ns / 1000n) + 0.5) / 1e6;

/**
 * withShortPath for extract's host calls: a failure (EACCES, ENOSPC...) names the real path, never
 * the /proc/self/fd name a deep one was given, nor no path at all (a write names none).
 */
function atHost<T>(host: string, use: (name: string) => T): T {
  try {
    return withShortPath(host, use);
  } catch (error) {
    if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === "string")
      (error as NodeJS.ErrnoException).path = showName(host);
    throw error;
  }
}

/**
 * Writes the branch's tree under `target` (created; must be empty if it exists). Run as root it
 * restores owners too, as GNU tar and fsck.erofs --extract do for the superuser; modes are set after
 * the owner, since chown clears setuid and setgid. Atime and mtime are the image's (docs/semantics.md
 * "Times"): a file's once written, a symlink's with lutimes, a directory's after everything in it.
 */
export function extractCommand(view: BranchView, target: string, out: Output, path = "/"): void {
  if (existsSync(hostPath(target)) && readdirSync(hostPath(target)).length > 0)
    throw new DaxfsError("EEXIST", `${showName(target)}: directory exists and is not empty`);
  // PATH by the one walk (a symlink as its last component is the link, unless PATH ends in "/"): a
  // directory's contents go into DIR, as the root's do, and DIR takes its attributes; anything else
  // goes into DIR under its own name (it can only be named by a real last component).
  const top = view.resolve(path);
  const start = isDir(view.stat(top).mode)
    ? { path: "/", ino: top }
    : {
        path: `/${path
          .split("/")
          .filter((name) => name !== "")
          .pop()}`,
        ino: top,
      };
  // The image answers everything before the first write: a corrupt directory, symlink or file
  // extent (its last byte read) fails here with its one line, and nothing is written.
  const entries = [...view.walk(start)].map((entry) => ({
    ...entry,
    linkTarget: isLink(entry.stat.mode) ? view.readlink(entry.ino) : undefined,
  }));
  for (const { ino, stat } of entries)
    if (!isDir(stat.mode) && !isLink(stat.mode) && stat.size > 0) view.read(ino, stat.size - 1, 1);
  makeDirectories(target);
  const keepOwners = process.getuid?.() === 0;
  /**
   * Owner, mode and times of `host`: a symlink's own (lchown, lutimes), as for every name the
   * image holds; `target` itself may be a symlink the user gave, to follow.
   */
  const setAttributes = (host: string, stat: Stat) => {
    const name = hostPath(host);
    const own = host !== target;
    if (keepOwners) (own ? lchownSync : chownSync)(name, stat.uid, stat.gid);
    if (!isLink(stat.mode)) chmodSync(name, stat.mode & 0o7777);
    (own ? lutimesSync : utimesSync)(name, utimeSeconds(stat.atime), utimeSeconds(stat.mtime));
  };
  // Every host name is the real path, target + image path; one longer than PATH_MAX is reached
  // through its parent directory for the call (core's withShortPath), so nothing stays open.
  const firstPathOf = new Map<number, string>(); // hard-linked files and symlinks: the name written first
  const directories: { host: string; stat: Stat }[] = [];
  const nameModes: number[] = []; // of every name below the root, for the summary
  let files = 0;
  let bytes = 0;
  for (const { path: below, ino, stat, linkTarget } of entries) {
    // Names come from the image: each is checked by the model (no '/', not '.' or '..'). Host
    // paths are kept in the string form of names.ts and given to fs calls as their exact bytes.
    const host = below === "/" ? target : `${target}${below}`;
    if (below !== "/") nameModes.push(stat.mode);
    if (isDir(stat.mode)) {
      // Ours to fill until its own mode is set, last.
      if (below !== "/") atHost(host, (name) => mkdirSync(hostPath(name), 0o700));
      directories.push({ host, stat });
      continue;
    }
    files++;
    const earlier = firstPathOf.get(ino);
    if (earlier !== undefined) {
      // A hard link, to a file or a symlink (link(2) does not follow one): one inode, several names.
      withShortPath(earlier, (from) => atHost(host, (name) => linkSync(hostPath(from), hostPath(name))));
      continue;
    }
    if (stat.nlink > 1) firstPathOf.set(ino, host);
    if (isLink(stat.mode)) {
      atHost(host, (name) => {
        symlinkSync(hostPath(linkTarget as string), hostPath(name));
        setAttributes(name, stat);
      });
      continue;
    }
    atHost(host, (name) => {
      // O_EXCL: a name already there (two image names one on a case-folding destination, one of
      // them a symlink) fails EEXIST instead of being followed out of DIR; mkdir, symlink and link
      // refuse an existing name by themselves.
      const fd = openSync(hostPath(name), "wx", 0o600);
      try {
        for (let at = 0; at < stat.size; at += CHUNK) {
          const chunk = view.read(ino, at, Math.min(CHUNK, stat.size - at));
          // write(2) may take less than asked (a filling disk); the next call then says why.
          for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
          bytes += chunk.length;
        }
      } finally {
        closeSync(fd);
      }
      setAttributes(name, stat);
    });
  }
  // Directory owners, modes and times last, deepest first, so a read-only directory does not
  // block its own contents and no later write (a hard link made in it) moves its mtime.
  for (let i = directories.length - 1; i >= 0; i--) {
    const { host, stat } = directories[i]!;
    atHost(host, (name) => setAttributes(name, stat));
  }
  emit(out, { target, directories: directories.length, files, bytes }, () => [
    `Extracted ${plural(nameModes.length, "directory entry", "directory entries")} (${typeCountText(countInodeTypes(nameModes))}), ${plural(bytes, "byte")} to ${showName(target)}`,
  ]);
}
