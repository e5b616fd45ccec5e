// A branch's tree as the image builder's input (docs/space.md "Compaction"): every name, inode
// attribute, mtime, symlink target and byte the branch shows, read through the same BranchView
// every tool reads with, so a new base built from it shows exactly that tree. Hard links stay hard
// links: one BuildFile (or BuildSymlink) object per inode number, the builder's hard-link rule.
import { FileType } from "@daxfs/format";
import type { BuildDir, BuildFile, BuildNode, BuildSymlink } from "../build/tree.js";
import { CorruptImageError } from "../errors.js";
import { fileTypeOf } from "../file-type.js";
import type { BranchView, Stat } from "../view.js";

export interface BranchTreeOptions {
  /** uid and gid 0 for every inode (mkdaxfs --all-root). */
  allRoot?: boolean;
  /** Keep no mtimes (mkdaxfs --zero-times): the new base is then plain v5. */
  zeroTimes?: boolean;
  /** Later mtimes are stored as this time, in ns (mkdaxfs's SOURCE_DATE_EPOCH). */
  clampTime?: bigint;
}

/**
 * The tree `view` shows now. File contents are read from the view when the builder copies them,
 * so the image must stay open (and unchanged) until the new image is written.
 */
export function branchTree(view: BranchView, options: BranchTreeOptions = {}): BuildDir {
  const attributes = (stat: Stat) => {
    let mtime: bigint | undefined = options.zeroTimes ? undefined : stat.mtime;
    if (mtime !== undefined && options.clampTime !== undefined && mtime > options.clampTime)
      mtime = options.clampTime;
    return {
      mode: stat.mode,
      uid: options.allRoot ? 0 : stat.uid,
      gid: options.allRoot ? 0 : stat.gid,
      ...(mtime ? { mtime } : {}),
    };
  };
  const directories = new Map<string, BuildDir>();
  // Inode number -> its node: a second name of one inode is the same object (a hard link).
  const leaves = new Map<number, BuildFile | BuildSymlink>();
  let root: BuildDir | undefined;
  // walk() yields parents before children and refuses a directory reachable twice.
  for (const { path, ino, stat } of view.walk()) {
    const type = fileTypeOf(stat.mode);
    let node: BuildNode;
    if (type === FileType.DIR) {
      const dir: BuildDir = { kind: "dir", ...attributes(stat), children: new Map() };
      directories.set(path, dir);
      node = dir;
    } else {
      const known = leaves.get(ino);
      node = known ?? leafNode(view, ino, stat, attributes(stat));
      if (!known) leaves.set(ino, node);
    }
    if (path === "/") {
      root = node as BuildDir;
      continue;
    }
    const cut = path.lastIndexOf("/");
    const parent = directories.get(cut === 0 ? "/" : path.slice(0, cut));
    if (!parent) throw new CorruptImageError(`${path}: parent directory not walked first`);
    parent.children.set(path.slice(cut + 1), node);
  }
  if (!root) throw new CorruptImageError("the branch has no root directory");
  return root;
}

function leafNode(
  view: BranchView,
  ino: number,
  stat: Stat,
  attributes: Pick<BuildFile, "mode" | "uid" | "gid" | "mtime">,
): BuildFile | BuildSymlink {
  const type = fileTypeOf(stat.mode);
  if (type === FileType.SYMLINK) return { kind: "symlink", ...attributes, target: view.readlink(ino) };
  if (type !== FileType.REGULAR)
    throw new CorruptImageError(
      `inode ${ino} has mode 0${stat.mode.toString(8)}, not a file type DAXFS stores`,
    );
  return {
    kind: "file",
    ...attributes,
    size: stat.size,
    content: (offset, length) => view.read(ino, offset, length),
  };
}
