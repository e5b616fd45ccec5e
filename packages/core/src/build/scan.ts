// Turns a host directory into a BuildDir (SPEC 2.2-2.4, with our fixes): entries examined with
// lstat, hard links (same st_dev/st_ino) become one BuildFile, special files are skipped with a
// warning (or refused), and file contents stay on disk until the writer streams them.
import { closeSync, constants, readdirSync, readlinkSync, type Stats, statSync } from "node:fs";
import { DaxfsError } from "../errors.js";
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../file-type.js";
import { decodeName, hostPath, showName } from "../names.js";
import { hostError } from "./content.js";
import { compileGlob } from "./glob.js";
import { type HostCalls, type HostStat, nodeHostCalls } from "./host-calls.js";
import { isShortPath, openDirectoryPath } from "./long-path.js";
import type { BuildDir, BuildFile, BuildNode, BuildSymlink } from "./tree.js";

export interface ScanOptions {
  /** Store uid and gid 0 for everything (--all-root). */
  allRoot?: boolean;
  /** Globs of paths to leave out; one without '/' matches a name at any depth. */
  exclude?: string[];
  /** Refuse special files instead of skipping them (--strict). */
  strict?: boolean;
  /** One line per skipped entry. */
  onWarning?: (message: string) => void;
  /**
   * Called for every entry kept (the root too) with its name for system calls and its real path for
   * messages: checks core has no system call for (mkdaxfs counts extended attributes here).
   */
  onEntry?: (path: string, shown: string) => void;
  /** Store no times (--zero-times): every base mtime 0, the image then plain v5 in this respect. */
  zeroTimes?: boolean;
  /** SOURCE_DATE_EPOCH in ns: later mtimes are stored as this (reproducible-builds.org). */
  clampTime?: bigint;
  /** The lstat per entry (default: Node's fs; host-calls.ts). */
  hostCalls?: HostCalls;
}

/**
 * The latest mtime an image holds: S64_MAX ns (2262-04-11), where every reader's time type ends (the
 * kernel clamps a base mtime there, Linux's ktime range). A field of 64 unsigned bits would wrap a
 * tar's year-4000 mtime into a random date; clamped, it reads back as the farthest time there is.
 */
export const MAX_STORED_MTIME = (1n << 63n) - 1n;

/**
 * The mtime a scanned entry keeps (extension BASE_MTIME, docs/mkdaxfs.md "Times"): its own in ns,
 * none with zeroTimes, at most clampTime; times before the epoch are stored as 0, times after
 * MAX_STORED_MTIME as that.
 */
export function storedMtime(mtimeNs: bigint, options: Pick<ScanOptions, "zeroTimes" | "clampTime">): bigint {
  if (options.zeroTimes || mtimeNs < 0n) return 0n;
  if (options.clampTime !== undefined && mtimeNs > options.clampTime) return options.clampTime;
  return mtimeNs > MAX_STORED_MTIME ? MAX_STORED_MTIME : mtimeNs;
}

/** The types DAXFS cannot store, by their st_mode type bits. */
const SPECIAL_KINDS = new Map([
  [constants.S_IFCHR, "character device"],
  [constants.S_IFBLK, "block device"],
  [constants.S_IFIFO, "FIFO"],
  [constants.S_IFSOCK, "socket"],
]);

/** Scans `directory` (followed if it is a symlink, like the public builder) into a build tree. */
export function scanDirectory(directory: string, options: ScanOptions = {}): BuildDir {
  let rootStat: Stats;
  try {
    rootStat = statSync(hostPath(directory));
  } catch (error) {
    throw hostError(error, directory);
  }
  if (!rootStat.isDirectory()) throw new DaxfsError("ENOTDIR", `${showName(directory)}: not a directory`);
  options.onEntry?.(directory, directory);
  const owner = (s: Stats) => (options.allRoot ? { uid: 0, gid: 0 } : { uid: s.uid, gid: s.gid });
  const entryOwner = (s: HostStat) => (options.allRoot ? { uid: 0, gid: 0 } : { uid: s.uid, gid: s.gid });
  const calls = options.hostCalls ?? nodeHostCalls;
  const excluded = (options.exclude ?? []).map(compileGlob);
  const hardLinks = new Map<string, BuildFile | BuildSymlink>();
  const root: BuildDir = {
    kind: "dir",
    mode: rootStat.mode,
    ...owner(rootStat),
    children: new Map(),
    mtime: options.zeroTimes
      ? 0n
      : storedMtime(statSync(hostPath(directory), { bigint: true }).mtimeNs, options),
  };

  // Iterative: a deep source tree must not exhaust the JS stack. Each directory is named by its real
  // path; one deeper than PATH_MAX is opened while its entries are read and named by its descriptor
  // (long-path.ts), so the walk holds at most one open whatever the tree's width, and file contents
  // keep their real paths (the writer opens them the same way).
  const pending: Array<{ shownPath: string; relative: string; dir: BuildDir }> = [
    { shownPath: directory, relative: "", dir: root },
  ];
  while (pending.length > 0) {
    const { shownPath, relative, dir } = pending.pop() as (typeof pending)[number];
    let anchor: number | undefined;
    try {
      if (!isShortPath(shownPath)) anchor = openDirectoryPath(shownPath);
    } catch (error) {
      throw hostError(error, shownPath);
    }
    try {
      scanOne(anchor === undefined ? shownPath : `/proc/self/fd/${anchor}`, shownPath, relative, dir);
    } finally {
      if (anchor !== undefined) closeSync(anchor);
    }
  }
  return root;

  /** Adds the entries of `dir` (named `hostDir` for system calls, `shownPath` really) and queues its directories. */
  function scanOne(hostDir: string, shownPath: string, relative: string, dir: BuildDir): void {
    let names: string[];
    try {
      names = readdirSync(hostPath(hostDir));
      // Names are bytes. Node decodes them as UTF-8 with U+FFFD for bytes that are not; only then
      // are they read again as bytes, into the reversible form of names.ts (3x slower per name).
      if (names.some((name) => name.includes("\ufffd")))
        names = readdirSync(hostPath(hostDir), { encoding: "buffer" }).map(decodeName);
    } catch (error) {
      throw hostError(error, shownPath);
    }
    names.sort();
    const prefix = hostDir.endsWith("/") ? hostDir : `${hostDir}/`;
    const shownPrefix = shownPath.endsWith("/") ? shownPath : `${shownPath}/`;
    // Outside deep directories the two names are one string; the relative path (for --exclude
    // and the directories below) is built only where it is used.
    const sameNames = prefix === shownPrefix;
    const relativeOf = (name: string) => (relative === "" ? name : `${relative}/${name}`);
    for (const name of names) {
      const path = prefix + name;
      const shown = sameNames ? path : shownPrefix + name;
      if (excluded.length > 0 && excluded.some((matches) => matches(relativeOf(name)))) continue;
      // One lstat, with ns times (a second, plain lstat per entry cost a tenth of a build of many
      // small files).
      let stat: HostStat;
      try {
        stat = calls.lstat(hostPath(path));
      } catch (error) {
        throw hostError(error, shown);
      }
      const node = scanEntry(path, shown, stat, entryOwner(stat), hardLinks, options);
      if (!node) continue;
      options.onEntry?.(path, shown);
      node.mtime ??= storedMtime(stat.mtimeNs, options);
      dir.children.set(name, node);
      if (node.kind === "dir") pending.push({ shownPath: shown, relative: relativeOf(name), dir: node });
    }
  }
}

/** `path` is the name for system calls and the file's content; `shown` the real path, for messages. */
function scanEntry(
  path: string,
  shown: string,
  stat: HostStat,
  owner: { uid: number; gid: number },
  hardLinks: Map<string, BuildFile | BuildSymlink>,
  options: ScanOptions,
): BuildNode | null {
  const mode = stat.mode;
  const type = mode & S_IFMT;
  if (type === S_IFDIR) return { kind: "dir", mode, ...owner, children: new Map() };
  const linkKey = stat.nlink > 1 ? `${stat.dev}:${stat.ino}` : null;
  const known = linkKey ? hardLinks.get(linkKey) : undefined;
  if (known) return known;
  let node: BuildFile | BuildSymlink;
  if (type === S_IFREG) {
    const size = stat.size;
    node = {
      kind: "file",
      mode,
      ...owner,
      size,
      content: {
        kind: "host",
        path: shown,
        offset: 0,
        scanned: { ino: stat.ino, size, mtimeMs: stat.mtimeMs },
      },
    };
  } else if (type === S_IFLNK) {
    let raw: Buffer;
    try {
      raw = readlinkSync(hostPath(path), { encoding: "buffer" });
    } catch (error) {
      throw hostError(error, shown);
    }
    node = { kind: "symlink", mode, ...owner, target: decodeName(raw) };
  } else {
    const kind = SPECIAL_KINDS.get(type) ?? "special file";
    if (options.strict)
      throw new DaxfsError("EPERM", `${showName(shown)}: ${kind} cannot be stored in a DAXFS image`);
    options.onWarning?.(
      `skipping ${showName(shown)}: ${kind} (DAXFS stores files, directories and symlinks only)`,
    );
    return null;
  }
  if (linkKey) hardLinks.set(linkKey, node);
  return node;
}
