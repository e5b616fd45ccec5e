// Guest scenario that prints a full tree walk of a mount, and its parser on the host. Paths are
// printed with a "|" separator (no test name contains one); busybox stat gives mode in hex.
import { createHash } from "node:crypto";
import { DaxfsImage, MemoryImage } from "@daxfs/core";
import type { ExpectedEntry } from "./tree.js";

/** Shell for the guest: walk MNT, printing S|path|mode|uid|gid|size|nlink|blocks, H|hash|path, L|path|target. */
export function walkScript(mnt: string): string {
  return `cd ${mnt}
find . -exec stat -c 'S|%n|%f|%u|%g|%s|%h|%b' {} +
find . -type f -exec sha256sum {} + | sed 's/^\\([0-9a-f]*\\)  /H|\\1|/'
find . -type l | while read -r p; do echo "L|$p|$(readlink "$p")"; done
cd /
`;
}

export interface WalkedEntry extends ExpectedEntry {
  blocks: number;
}

export function parseWalk(lines: string[]): WalkedEntry[] {
  const byPath = new Map<string, WalkedEntry>();
  for (const line of lines) {
    const [kind, ...rest] = line.split("|");
    if (kind === "S") {
      const [path, mode, uid, gid, size, nlink, blocks] = rest as string[];
      byPath.set(path as string, {
        path: path as string,
        mode: Number.parseInt(mode as string, 16),
        uid: Number(uid),
        gid: Number(gid),
        size: Number(size),
        nlink: Number(nlink),
        blocks: Number(blocks),
      });
    }
  }
  for (const line of lines) {
    const [kind, a, b] = line.split("|") as [string, string, string];
    const entry = byPath.get(kind === "H" ? b : a);
    if (kind === "H" && entry) entry.sha256 = a;
    if (kind === "L" && entry) entry.target = line.slice(`L|${a}|`.length);
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * The tree as @daxfs/core's BranchView of main reads it, in the walk's shape; with `contents`,
 * each regular file's sha256 too (as the guest's walk prints it).
 */
export function coreWalk(image: Uint8Array, contents = false): ExpectedEntry[] {
  const view = DaxfsImage.open(new MemoryImage(image, false)).view();
  return [...view.walk()]
    .map(({ path, ino, stat }) => ({
      path: path === "/" ? "." : `.${path.startsWith("/") ? path : `/${path}`}`,
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
      size: stat.size,
      nlink: stat.nlink,
      ...((stat.mode & 0o170000) === 0o120000 ? { target: view.readlink(ino) } : {}),
      ...(contents && (stat.mode & 0o170000) === 0o100000
        ? {
            sha256: createHash("sha256")
              .update(view.read(ino, 0, stat.size))
              .digest("hex"),
          }
        : {}),
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
