// Test helpers: decode a built image's base tree straight through the generated codecs (an
// independent path from the builder's planner), and describe a BuildDir the same way, so tests
// compare "what went in" with "what came out".

import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import {
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsDirent,
  DaxfsSuper,
} from "@daxfs/format";
import { type BuildDir, type BuildNode, isHostContent, storedMode } from "../build/tree.js";
import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from "../file-type.js";
import { decodeName, hostPath } from "../names.js";
import type { BranchView } from "../view.js";

export interface TreeDescription {
  mode: number;
  uid: number;
  gid: number;
  /** Regular files: hex of the bytes; symlinks: the target; dirs: absent. */
  data?: string;
  nlink: number;
  /** Key shared by every name of one inode (hard links), "" for dirs. */
  linkGroup: string;
  children?: Record<string, TreeDescription>;
}

/** A children record without a prototype: a name such as "__proto__" is an ordinary key in it. */
function childRecord(): Record<string, TreeDescription> {
  return Object.create(null) as Record<string, TreeDescription>;
}

/** Decodes the base tree of `image` (backing = split-mode file data) without the image model. */
export function readBaseTree(image: Uint8Array, backing?: Uint8Array): TreeDescription {
  const sb = DaxfsSuper.decode(image, 0);
  const baseOffset = Number(sb.baseOffset);
  const base = DaxfsBaseSuper.decode(image, baseOffset);
  const inode = (ino: number) =>
    DaxfsBaseInode.decode(image, baseOffset + Number(base.inodeOffset) + (ino - 1) * DaxfsBaseInode.size);
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  const describe = (ino: number): TreeDescription => {
    const slot = inode(ino);
    if (slot.ino !== ino) throw new Error(`inode slot ${ino} holds ino ${slot.ino}`);
    const size = Number(slot.size);
    const at = baseOffset + Number(slot.dataOffset);
    const out: TreeDescription = {
      mode: slot.mode,
      uid: slot.uid,
      gid: slot.gid,
      nlink: slot.nlink,
      linkGroup: "",
    };
    const type = slot.mode & S_IFMT;
    if (type === S_IFREG) {
      out.linkGroup = `ino${ino}`;
      const source = backing ?? image;
      const start = backing ? Number(slot.dataOffset) : at;
      out.data = hex(source.subarray(start, start + size));
    } else if (type === S_IFLNK) {
      out.linkGroup = `ino${ino}`;
      if (image[at + size] !== 0) throw new Error(`symlink ${ino} target not NUL-terminated`);
      out.data = decodeName(image.subarray(at, at + size));
    } else {
      if (size % DAXFS_DIRENT_SIZE !== 0) throw new Error(`dir ${ino} size ${size}`);
      out.children = childRecord();
      for (let i = 0; i < size / DAXFS_DIRENT_SIZE; i++) {
        const d = DaxfsDirent.decode(image, at + i * DAXFS_DIRENT_STRIDE);
        const name = decodeName(d.name.subarray(0, d.nameLen));
        if (inode(d.ino).mode !== d.mode) throw new Error(`dirent ${name} mode differs from inode ${d.ino}`);
        out.children[name] = describe(d.ino);
      }
    }
    return out;
  };
  return describe(base.rootInode);
}

function contentHex(node: Extract<BuildNode, { kind: "file" }>): string {
  const c = node.content;
  if (c instanceof Uint8Array) return Buffer.from(c).toString("hex");
  if (isHostContent(c)) {
    const bytes = readFileSync(c.path);
    return bytes.subarray(c.offset, c.offset + node.size).toString("hex");
  }
  return Buffer.from(c(0, node.size)).toString("hex");
}

/** Describes a build tree as readBaseTree would read it back; link groups are canonicalised by the caller. */
export function describeBuildTree(root: BuildDir): TreeDescription {
  const names = new Map<BuildNode, number>();
  const count = (node: BuildNode) => {
    names.set(node, (names.get(node) ?? 0) + 1);
    if (node.kind === "dir") for (const child of node.children.values()) count(child);
  };
  count(root);
  const groups = new Map<BuildNode, string>();
  const describe = (node: BuildNode): TreeDescription => {
    const base = { mode: storedMode(node), uid: node.uid, gid: node.gid };
    if (node.kind === "dir") {
      const children = childRecord();
      let subdirs = 0;
      for (const [name, child] of node.children) {
        children[name] = describe(child);
        if (child.kind === "dir") subdirs++;
      }
      return { ...base, nlink: 2 + subdirs, linkGroup: "", children };
    }
    if (!groups.has(node)) groups.set(node, `node${groups.size}`);
    const data = node.kind === "file" ? contentHex(node) : node.target;
    return { ...base, data, nlink: names.get(node) ?? 0, linkGroup: groups.get(node) as string };
  };
  return describe(root);
}

/** Replaces link-group labels by the first path that uses them, so two descriptions compare equal. */
export function canonicalLinkGroups(tree: TreeDescription): TreeDescription {
  const firstPath = new Map<string, string>();
  const walk = (node: TreeDescription, path: string): TreeDescription => {
    const out: TreeDescription = { ...node };
    if (node.linkGroup) {
      if (!firstPath.has(node.linkGroup)) firstPath.set(node.linkGroup, path);
      out.linkGroup = firstPath.get(node.linkGroup) as string;
    }
    if (node.children) {
      out.children = childRecord();
      for (const name of Object.keys(node.children).sort()) {
        out.children[name] = walk(node.children[name] as TreeDescription, `${path}/${name}`);
      }
    }
    return out;
  };
  return walk(tree, "");
}

/** The tree as the image model answers it: lookups by readdir, attributes by stat, bytes by read. */
export function describeView(view: BranchView): TreeDescription {
  const describe = (ino: number): TreeDescription => {
    const stat = view.stat(ino);
    const out: TreeDescription = {
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
      nlink: stat.nlink,
      linkGroup: "",
    };
    const type = stat.mode & S_IFMT;
    if (type === S_IFDIR) {
      out.children = childRecord();
      for (const entry of view.readdir(ino)) out.children[entry.name] = describe(entry.ino);
    } else {
      out.linkGroup = `ino${ino}`;
      out.data =
        type === S_IFLNK
          ? view.readlink(ino)
          : Buffer.from(view.read(ino, 0, stat.size + 10)).toString("hex");
    }
    return out;
  };
  return describe(1);
}

/**
 * A host directory as the same description, names and targets read as bytes (so an extract can be
 * compared with what went in); link groups by host inode.
 */
export function describeHostTree(directory: string): TreeDescription {
  const describe = (path: string): TreeDescription => {
    const stat = lstatSync(hostPath(path));
    const out: TreeDescription = {
      mode: stat.mode,
      uid: stat.uid,
      gid: stat.gid,
      nlink: stat.nlink,
      linkGroup: "",
    };
    if (stat.isDirectory()) {
      out.children = childRecord();
      for (const raw of readdirSync(hostPath(path), { encoding: "buffer" })) {
        const name = decodeName(raw);
        out.children[name] = describe(`${path}/${name}`);
      }
    } else {
      out.linkGroup = `host${stat.ino}`;
      out.data = stat.isSymbolicLink()
        ? decodeName(readlinkSync(hostPath(path), { encoding: "buffer" }))
        : readFileSync(hostPath(path)).toString("hex");
    }
    return out;
  };
  return describe(directory);
}
