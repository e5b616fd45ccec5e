// Test-only image construction with the generated codecs: small valid images for the validator's
// unit tests and fuzzing, plus branch records and raw delta entries (which mkdaxfs never writes).
// Layout follows NOTES.md layout facts 1-6 exactly, so an image built here must validate clean.
import {
  DAXFS_BASE_INODE_SIZE,
  DAXFS_BASE_MAGIC,
  DAXFS_BLOCK_SIZE,
  DAXFS_BRANCH_TABLE_OFFSET,
  DAXFS_BRANCHING_BASE_OFFSET,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DAXFS_MAX_BRANCHES,
  DAXFS_STATIC_BASE_OFFSET,
  DAXFS_SUPER_MAGIC,
  DAXFS_VERSION,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDeltaCreate,
  DaxfsDeltaDelete,
  DaxfsDeltaHdr,
  DaxfsDeltaRename,
  DaxfsDeltaSymlink,
  DaxfsDeltaWrite,
  DaxfsDirent,
  DaxfsSuper,
  DeltaType,
} from "@daxfs/format";
import type { BuildDir, BuildNode } from "../build/tree.js";

const BLOCK = DAXFS_BLOCK_SIZE;
const align = (value: number) => Math.ceil(value / BLOCK) * BLOCK;
const encoder = new TextEncoder();

export interface TestBranch {
  name: string;
  id: number;
  parentId: number;
  state?: number; // default ACTIVE
  entries?: Uint8Array[]; // encoded delta entries, laid back to back
  capacity?: number; // default 64 KiB
}

export interface TestImageOptions {
  branching?: boolean;
  branches?: TestBranch[];
  deltaSize?: number;
}

export function dir(children: Record<string, BuildNode> = {}, mode = 0o755): BuildDir {
  return { kind: "dir", mode: 0o040000 | mode, uid: 0, gid: 0, children: new Map(Object.entries(children)) };
}

export function file(content: string | Uint8Array, mode = 0o644): BuildNode {
  const bytes = typeof content === "string" ? encoder.encode(content) : content;
  return { kind: "file", mode: 0o100000 | mode, uid: 0, gid: 0, size: bytes.length, content: bytes };
}

export function symlink(target: string): BuildNode {
  return { kind: "symlink", mode: 0o120777, uid: 0, gid: 0, target };
}

interface Planned {
  node: BuildNode;
  ino: number;
  entries: { name: Uint8Array; node: BuildNode }[];
  names: number;
  subdirs: number;
  dataOffset: number;
  payload: Uint8Array;
}

/** Builds a base image (breadth-first inode numbers, root = 1, data in inode order). */
function buildBase(root: BuildDir): Uint8Array {
  const planned = new Map<BuildNode, Planned>();
  const order: Planned[] = [];
  const visit = (node: BuildNode) => {
    let plan = planned.get(node);
    if (!plan) {
      plan = {
        node,
        ino: order.length + 1,
        entries: [],
        names: 0,
        subdirs: 0,
        dataOffset: 0,
        payload: new Uint8Array(0),
      };
      planned.set(node, plan);
      order.push(plan);
    }
    return plan;
  };
  visit(root);
  for (let i = 0; i < order.length; i++) {
    const plan = order[i]!;
    if (plan.node.kind !== "dir") continue;
    const sorted = [...plan.node.children.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [name, child] of sorted) {
      const childPlan = visit(child);
      childPlan.names++;
      if (child.kind === "dir") plan.subdirs++;
      plan.entries.push({ name: encoder.encode(name), node: child });
    }
  }
  const inodeTableEnd = BLOCK + order.length * DAXFS_BASE_INODE_SIZE;
  let cursor = align(inodeTableEnd);
  const dataStart = cursor;
  for (const plan of order) {
    const node = plan.node;
    if (node.kind === "dir") {
      const array = new Uint8Array(plan.entries.length * DAXFS_DIRENT_STRIDE);
      plan.entries.forEach((entry, index) => {
        const child = planned.get(entry.node)!;
        const name = new Uint8Array(255);
        name.set(entry.name);
        DaxfsDirent.encode(array, index * DAXFS_DIRENT_STRIDE, {
          ...DaxfsDirent.zero(),
          ino: child.ino,
          mode: entry.node.mode,
          nameLen: entry.name.length,
          name,
        });
      });
      plan.payload = array;
    } else if (node.kind === "symlink") {
      const target = encoder.encode(node.target);
      plan.payload = new Uint8Array(target.length + 1);
      plan.payload.set(target);
    } else {
      plan.payload = node.content as Uint8Array;
    }
    if (plan.payload.length > 0) {
      plan.dataOffset = cursor;
      cursor += align(plan.payload.length);
    }
  }
  const base = new Uint8Array(cursor);
  DaxfsBaseSuper.encode(base, 0, {
    ...DaxfsBaseSuper.zero(),
    magic: DAXFS_BASE_MAGIC,
    version: DAXFS_VERSION,
    blockSize: BLOCK,
    totalSize: BigInt(cursor),
    inodeOffset: BigInt(BLOCK),
    inodeCount: order.length,
    rootInode: 1,
    dataOffset: BigInt(dataStart),
  });
  for (const plan of order) {
    const node = plan.node;
    const size =
      node.kind === "dir"
        ? plan.entries.length * DAXFS_DIRENT_SIZE
        : node.kind === "symlink"
          ? plan.payload.length - 1
          : plan.payload.length;
    DaxfsBaseInode.encode(base, BLOCK + (plan.ino - 1) * DAXFS_BASE_INODE_SIZE, {
      ...DaxfsBaseInode.zero(),
      ino: plan.ino,
      mode: node.mode,
      uid: node.uid,
      gid: node.gid,
      size: BigInt(size),
      dataOffset: BigInt(plan.dataOffset),
      nlink: node.kind === "dir" ? 2 + plan.subdirs : plan.names,
    });
    base.set(plan.payload, plan.dataOffset);
  }
  return base;
}

/** A complete image: superblock, optional branch table and delta region with the given branches. */
export function buildTestImage(root: BuildDir, options: TestImageOptions = {}): Uint8Array {
  const base = buildBase(root);
  const inodeCount = DaxfsBaseSuper.decode(base, 0).inodeCount;
  const branching = options.branching ?? options.branches !== undefined;
  const baseOffset = branching ? DAXFS_BRANCHING_BASE_OFFSET : DAXFS_STATIC_BASE_OFFSET;
  const deltaOffset = baseOffset + base.length;
  const deltaSize = branching ? (options.deltaSize ?? 1 << 20) : 0;
  const image = new Uint8Array(deltaOffset + deltaSize);
  image.set(base, baseOffset);
  const sb = {
    ...DaxfsSuper.zero(),
    magic: DAXFS_SUPER_MAGIC,
    version: DAXFS_VERSION,
    blockSize: BLOCK,
    totalSize: BigInt(image.length),
    baseOffset: BigInt(baseOffset),
    baseSize: BigInt(base.length),
    nextInodeId: BigInt(inodeCount + 1),
  };
  if (branching) {
    let alloc = deltaOffset;
    let maxId = 0;
    const slotsUsed = options.branches ?? [];
    slotsUsed.forEach((branch, slot) => {
      const capacity = branch.capacity ?? 64 * 1024;
      let used = 0;
      for (const entry of branch.entries ?? []) {
        image.set(entry, alloc + used);
        used += entry.length;
      }
      const name = new Uint8Array(32);
      name.set(encoder.encode(branch.name));
      DaxfsBranch.encode(image, DAXFS_BRANCH_TABLE_OFFSET + slot * DaxfsBranch.size, {
        ...DaxfsBranch.zero(),
        branchId: BigInt(branch.id),
        parentId: BigInt(branch.parentId),
        deltaLogOffset: BigInt(alloc),
        deltaLogSize: BigInt(used),
        deltaLogCapacity: BigInt(capacity),
        state: branch.state ?? 1,
        nextLocalIno: BigInt(inodeCount + 1),
        name,
      });
      alloc += capacity;
      maxId = Math.max(maxId, branch.id);
    });
    Object.assign(sb, {
      branchTableOffset: BigInt(DAXFS_BRANCH_TABLE_OFFSET),
      branchTableEntries: DAXFS_MAX_BRANCHES,
      activeBranches: slotsUsed.filter((b) => (b.state ?? 1) === 1).length,
      nextBranchId: BigInt(maxId + 1),
      nextInodeId: BigInt(inodeCount + 1 + 1000),
      deltaRegionOffset: BigInt(deltaOffset),
      deltaRegionSize: BigInt(deltaSize),
      deltaAllocOffset: BigInt(alloc),
    });
  }
  DaxfsSuper.encode(image, 0, sb);
  return image;
}

// ---- raw delta entries (SPEC.md 1.5) -------------------------------------------------------------

function entry(
  type: DeltaType,
  ino: number,
  payloadSize: number,
  tail: Uint8Array[],
  totalOverride?: number,
): { bytes: Uint8Array; payload: number } {
  const tailLength = tail.reduce((sum, part) => sum + part.length, 0);
  const total = DaxfsDeltaHdr.size + payloadSize + tailLength;
  const bytes = new Uint8Array(total);
  DaxfsDeltaHdr.encode(bytes, 0, {
    type,
    totalSize: totalOverride ?? total,
    ino: BigInt(ino),
    timestamp: 1n,
  });
  let at = DaxfsDeltaHdr.size + payloadSize;
  for (const part of tail) {
    bytes.set(part, at);
    at += part.length;
  }
  return { bytes, payload: DaxfsDeltaHdr.size };
}

export function writeEntry(ino: number, fileOffset: number, data: Uint8Array): Uint8Array {
  const { bytes, payload } = entry(DeltaType.WRITE, ino, DaxfsDeltaWrite.size, [data]);
  DaxfsDeltaWrite.encode(bytes, payload, { offset: BigInt(fileOffset), len: data.length, flags: 0 });
  return bytes;
}

export function createEntry(
  type: DeltaType.CREATE | DeltaType.MKDIR,
  parentIno: number,
  newIno: number,
  name: string,
  mode: number,
): Uint8Array {
  const nameBytes = encoder.encode(name);
  const { bytes, payload } = entry(type, newIno, DaxfsDeltaCreate.size, [nameBytes]);
  DaxfsDeltaCreate.encode(bytes, payload, {
    parentIno: BigInt(parentIno),
    newIno: BigInt(newIno),
    mode,
    uid: 0,
    gid: 0,
    nameLen: nameBytes.length,
    flags: 0,
  });
  return bytes;
}

export function deleteEntry(parentIno: number, ino: number, name: string): Uint8Array {
  const nameBytes = encoder.encode(name);
  const { bytes, payload } = entry(DeltaType.DELETE, ino, DaxfsDeltaDelete.size, [nameBytes]);
  DaxfsDeltaDelete.encode(bytes, payload, {
    parentIno: BigInt(parentIno),
    nameLen: nameBytes.length,
    flags: 0,
    reserved: 0,
  });
  return bytes;
}

export function renameEntry(
  oldParent: number,
  newParent: number,
  ino: number,
  oldName: string,
  newName: string,
): Uint8Array {
  const oldBytes = encoder.encode(oldName);
  const newBytes = encoder.encode(newName);
  const { bytes, payload } = entry(DeltaType.RENAME, ino, DaxfsDeltaRename.size, [oldBytes, newBytes]);
  DaxfsDeltaRename.encode(bytes, payload, {
    oldParentIno: BigInt(oldParent),
    newParentIno: BigInt(newParent),
    ino: BigInt(ino),
    oldNameLen: oldBytes.length,
    newNameLen: newBytes.length,
    reserved: 0,
  });
  return bytes;
}

export function symlinkEntry(parentIno: number, newIno: number, name: string, target: string): Uint8Array {
  const nameBytes = encoder.encode(name);
  const targetBytes = encoder.encode(target);
  const { bytes, payload } = entry(DeltaType.SYMLINK, newIno, DaxfsDeltaSymlink.size, [
    nameBytes,
    targetBytes,
    new Uint8Array(1),
  ]);
  DaxfsDeltaSymlink.encode(bytes, payload, {
    parentIno: BigInt(parentIno),
    newIno: BigInt(newIno),
    uid: 0,
    gid: 0,
    nameLen: nameBytes.length,
    targetLen: targetBytes.length,
    pad: new Uint8Array(4),
  });
  return bytes;
}

/** A small tree with every kind of inode: nested dirs, a hard link, a symlink, an empty dir and file. */
export function sampleTree(): BuildDir {
  const shared = file("shared bytes\n");
  return dir({
    "hello.txt": file("hello, world\n"),
    empty: file(""),
    link: symlink("hello.txt"),
    hard1: shared,
    docs: dir({
      "readme.md": file("# readme\n".repeat(600)),
      nested: dir({ deep: dir({ "leaf.bin": file(new Uint8Array(5000).fill(7)) }) }),
      hard2: shared,
    }),
    "empty-dir": dir(),
  });
}
