// The one path resolver over a branch's tree (path_resolution(7)): every path is taken from the
// root; "." and ".." are honoured on the directories actually walked (".." after a symlink leaves
// the link's target, as in Linux); a symlink met before the last component is followed (its
// target relative to the directory holding it, or from the root when absolute), the last one only
// when asked (the `-L` convention) or when the path goes on with "/" or "/.". More than
// MAX_SYMLINK_FOLLOWS links in one walk is ELOOP, as Linux's MAXSYMLINKS. Errors name the path:
// `no entry "nope" in /etc`, never inode numbers. BranchView.resolve is this walk; daxfs-inspect,
// the TUI and daxfs-fuse reach it through the view.
import { DAXFS_NAME_MAX, FileType } from "@daxfs/format";
import { DaxfsError } from "./errors.js";
import { nameByteLength, showName } from "./names.js";

/** Links one walk may follow before ELOOP (Linux MAXSYMLINKS, fs/namei.c). */
export const MAX_SYMLINK_FOLLOWS = 40;

/** What the walk needs of a tree; BranchView supplies it over its index. */
export interface PathTree {
  readonly rootIno: number;
  /** The inode `name` names in directory `dir`, or undefined. */
  child(dir: number, name: string): number | undefined;
  typeOf(ino: number): FileType | undefined;
  readlink(ino: number): string;
}

export interface WalkOptions {
  /** Follow a symlink in the last component too (stat -L, cat). */
  followFinal?: boolean;
}

interface Step {
  ino: number;
  name: string;
}

/** The directories walked so far as a path, for messages ("/" for the root). */
function shownPath(steps: Step[]): string {
  return steps.length === 1 ? "/" : steps.map((step) => showName(step.name)).join("/");
}

/** The inode `path` names in `tree` (see the head of this file for the rules). */
export function walkPath(tree: PathTree, path: string, options: WalkOptions = {}): number {
  const steps: Step[] = [{ ino: tree.rootIno, name: "" }];
  // Components still to walk, the next one last; a followed link's target is pushed on top, with
  // the link it came from beside it (`via`), so a name missing from a target says whose it is.
  const pending = path.split("/").reverse();
  const via: (string | undefined)[] = pending.map(() => undefined);
  let follows = 0;
  while (pending.length > 0) {
    const name = pending.pop() as string;
    const from = via.pop();
    if (name === "" || name === ".") continue;
    if (name === "..") {
      if (steps.length > 1) steps.pop();
      continue;
    }
    const dir = steps[steps.length - 1] as Step;
    if (tree.typeOf(dir.ino) !== FileType.DIR)
      throw new DaxfsError("ENOTDIR", `${shownPath(steps)}: not a directory`);
    if (nameByteLength(name) > DAXFS_NAME_MAX)
      throw new DaxfsError(
        "ENAMETOOLONG",
        `name "${showName(name.slice(0, 40))}..." in ${shownPath(steps)} is longer than ${DAXFS_NAME_MAX} bytes`,
      );
    const ino = tree.child(dir.ino, name);
    if (ino === undefined)
      throw new DaxfsError(
        "ENOENT",
        `no entry "${showName(name)}" in ${shownPath(steps)}${from === undefined ? "" : ` (${from})`}`,
      );
    // Last means nothing follows, not even a "/" (a trailing "/" or "/." asks for a directory).
    const last = pending.length === 0;
    if (tree.typeOf(ino) === FileType.SYMLINK && (!last || options.followFinal)) {
      if (++follows > MAX_SYMLINK_FOLLOWS)
        throw new DaxfsError("ELOOP", `${showName(path)}: too many levels of symbolic links`);
      const target = tree.readlink(ino);
      const parts = target.split("/").reverse();
      pending.push(...parts);
      const link = `${shownPath(steps).replace(/\/$/, "")}/${showName(name)}`;
      via.push(...parts.map(() => `the target of ${link} -> ${showName(target)}`));
      if (target.startsWith("/")) steps.length = 1;
      continue;
    }
    steps.push({ ino, name });
  }
  const found = steps[steps.length - 1] as Step;
  if (/\/\.?$/.test(path) && steps.length > 1 && tree.typeOf(found.ino) !== FileType.DIR)
    throw new DaxfsError("ENOTDIR", `${shownPath(steps)}: not a directory`);
  return found.ino;
}
