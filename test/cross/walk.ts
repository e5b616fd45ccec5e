// One tree listing, obtained from every implementation: the image model (BranchView), a host
// directory or FUSE mount (node:fs), and the kernel in a guest (test/kernel/walk.ts output).
// NOTES.md "Semantics": entries written by one implementation must replay to the same tree in
// every other, so the listings are compared field by field, with a readable diff on mismatch.
import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { DaxfsImage, MemoryImage } from "@daxfs/core";
import { parseWalk } from "../kernel/walk.js";

export type EntryType = "dir" | "file" | "symlink" | "other";

export interface WalkEntry {
  /** "." for the root, "./a/b" below it (find's spelling, as the guest prints it). */
  path: string;
  type: EntryType;
  /** Full st_mode. */
  mode: number;
  uid: number;
  gid: number;
  /** Directory sizes are filesystem-specific; `hostComparable` drops them. */
  size: number | null;
  nlink: number;
  sha256?: string;
  target?: string;
}

const S_IFMT = 0o170000;

export function typeOfMode(mode: number): EntryType {
  switch (mode & S_IFMT) {
    case 0o040000:
      return "dir";
    case 0o100000:
      return "file";
    case 0o120000:
      return "symlink";
    default:
      return "other";
  }
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const byPath = (a: WalkEntry, b: WalkEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** The image model's walk of `branch` (BranchView.walk + read + readlink). */
export function modelWalk(image: Uint8Array | string, branch = "main"): WalkEntry[] {
  const opened =
    typeof image === "string" ? DaxfsImage.openFile(image) : DaxfsImage.open(new MemoryImage(image, false));
  try {
    const view = opened.view(branch);
    const out: WalkEntry[] = [];
    for (const { path, ino, stat } of view.walk()) {
      const type = typeOfMode(stat.mode);
      out.push({
        path: path === "/" ? "." : `.${path}`,
        type,
        mode: stat.mode,
        uid: stat.uid,
        gid: stat.gid,
        size: stat.size,
        nlink: stat.nlink,
        ...(type === "file" ? { sha256: sha256(view.read(ino, 0, stat.size)) } : {}),
        ...(type === "symlink" ? { target: view.readlink(ino) } : {}),
      });
    }
    return out.sort(byPath);
  } finally {
    opened.close();
  }
}

/** The walk of a directory tree through the host kernel's VFS (a host directory or a FUSE mount). */
export function fsWalk(root: string): WalkEntry[] {
  const out: WalkEntry[] = [];
  const pending = ["."];
  while (pending.length > 0) {
    const rel = pending.pop() as string;
    const abs = rel === "." ? root : join(root, rel.slice(2));
    const st = lstatSync(abs);
    const type = typeOfMode(st.mode);
    out.push({
      path: rel,
      type,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      size: st.size,
      nlink: st.nlink,
      ...(type === "file" ? { sha256: sha256(readFileSync(abs)) } : {}),
      ...(type === "symlink" ? { target: readlinkSync(abs) } : {}),
    });
    if (type === "dir") for (const name of readdirSync(abs)) pending.push(`${rel}/${name}`);
  }
  return out.sort(byPath);
}

/** A guest walk (walkScript output lines) in the same shape. */
export function guestWalk(lines: string[]): WalkEntry[] {
  return parseWalk(lines)
    .map(({ blocks: _blocks, ...e }) => ({ ...e, type: typeOfMode(e.mode) }) as WalkEntry)
    .sort(byPath);
}

/** For comparison with a host directory: directory sizes are the filesystem's business. */
export function hostComparable(walk: WalkEntry[]): WalkEntry[] {
  return walk.map((e) => (e.type === "dir" ? { ...e, size: null } : e));
}

function show(e: WalkEntry): string {
  const parts = [
    e.type,
    `mode=0${e.mode.toString(8)}`,
    `uid=${e.uid}`,
    `gid=${e.gid}`,
    `size=${e.size}`,
    `nlink=${e.nlink}`,
  ];
  if (e.sha256 !== undefined) parts.push(`sha256=${e.sha256.slice(0, 16)}`);
  if (e.target !== undefined) parts.push(`target=${JSON.stringify(e.target)}`);
  return parts.join(" ");
}

const FIELDS = ["type", "mode", "uid", "gid", "size", "nlink", "sha256", "target"] as const;

/** "" when equal; otherwise one line per differing path, naming both sides. */
export function diffWalks(aName: string, a: WalkEntry[], bName: string, b: WalkEntry[]): string {
  const left = new Map(a.map((e) => [e.path, e]));
  const right = new Map(b.map((e) => [e.path, e]));
  const lines: string[] = [];
  for (const path of [...new Set([...left.keys(), ...right.keys()])].sort()) {
    const x = left.get(path);
    const y = right.get(path);
    if (!y) lines.push(`  ${JSON.stringify(path)}: only in ${aName} (${show(x as WalkEntry)})`);
    else if (!x) lines.push(`  ${JSON.stringify(path)}: only in ${bName} (${show(y)})`);
    else {
      const fields = FIELDS.filter((f) => x[f] !== y[f]);
      if (fields.length > 0)
        lines.push(
          `  ${JSON.stringify(path)}: ${fields
            .map((f) => {
              const fmt = (v: unknown) =>
                f === "mode" && typeof v === "number" ? `0${v.toString(8)}` : JSON.stringify(v);
              return `${f} ${aName}=${fmt(x[f])} ${bName}=${fmt(y[f])}`;
            })
            .join(", ")}`,
        );
    }
  }
  return lines.length === 0
    ? ""
    : `${aName} and ${bName} differ at ${lines.length} path(s):\n${lines.slice(0, 60).join("\n")}${
        lines.length > 60 ? `\n  ... and ${lines.length - 60} more` : ""
      }`;
}

/** Throws with the readable diff when the walks differ (and checks the walks are not empty). */
export function expectSameWalk(aName: string, a: WalkEntry[], bName: string, b: WalkEntry[]): void {
  if (a.length === 0 || b.length === 0)
    throw new Error(`empty walk: ${aName} has ${a.length} entries, ${bName} has ${b.length}`);
  const diff = diffWalks(aName, a, bName, b);
  if (diff) throw new Error(diff);
}
