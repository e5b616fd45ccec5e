// Images for the kernel tests, derived from builder output with the generated codecs: a branching
// image whose main log carries entries (the kernel must replay them), and corrupt images that
// `validate` must refuse (NOTES.md "Validity", SPEC 4), each with the reason it is corrupt.
import {
  buildImage,
  decodeName,
  encodeDeltaEntry,
  makeDir,
  makeFile,
  makeSymlink,
  type NewDeltaEntry,
} from "@daxfs/core";
import { damagedImages, damageSeed } from "@daxfs/core/testing";
import {
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDirent,
  DaxfsSuper,
  DeltaType,
  SetattrValid,
} from "@daxfs/format";
import { patternBytes } from "./tree.js";

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Absolute offset of inode `ino`'s slot. */
function inodeSlot(img: Uint8Array, ino: number): number {
  const base = Number(DaxfsSuper.decode(img, 0).baseOffset);
  return base + Number(DaxfsBaseSuper.decode(img, base).inodeOffset) + (ino - 1) * DaxfsBaseInode.size;
}

/** The inode number and dirent offset of `name` in directory `dirIno`. */
export function childOf(img: Uint8Array, dirIno: number, name: string): { ino: number; dirent: number } {
  const base = Number(DaxfsSuper.decode(img, 0).baseOffset);
  const dir = DaxfsBaseInode.decode(img, inodeSlot(img, dirIno));
  const count = Number(dir.size) / 271;
  for (let i = 0; i < count; i++) {
    const at = base + Number(dir.dataOffset) + i * 272;
    const de = DaxfsDirent.decode(img, at);
    if (Buffer.from(de.name.subarray(0, de.nameLen)).toString() === name) return { ino: de.ino, dirent: at };
  }
  throw new Error(`fixture: no ${name} in directory ${dirIno}`);
}

export function resolvePath(img: Uint8Array, path: string): number {
  let ino = 1;
  for (const part of path.split("/").filter(Boolean)) ino = childOf(img, ino, part).ino;
  return ino;
}

function smallTree() {
  const root = makeDir();
  const sub = makeDir({ mode: 0o700 });
  sub.children.set("inner", makeFile("inner\n"));
  root.children.set("sub", sub);
  root.children.set("a", makeFile(patternBytes(10000, 1)));
  root.children.set("b", makeFile("bee\n"));
  root.children.set("link", makeSymlink("a"));
  return root;
}

/** Absolute offset of main's branch record. */
function mainSlot(img: Uint8Array): number {
  const sb = DaxfsSuper.decode(img, 0);
  const table = Number(sb.branchTableOffset);
  for (let i = 0; i < sb.branchTableEntries; i++) {
    if (DaxfsBranch.decode(img, table + i * DaxfsBranch.size).branchId === 1n)
      return table + i * DaxfsBranch.size;
  }
  throw new Error("fixture: the builder wrote no main record");
}

/** A branching image whose main record's log holds `entries` (mkdaxfs writes main at build). */
export function imageWithMainLog(
  entries: (img: Uint8Array) => NewDeltaEntry[],
  deltaSize = 4 << 20,
  tree = smallTree(),
): Uint8Array {
  const img = buildImage(tree, { branching: true, deltaSize });
  const slot = mainSlot(img);
  const main = DaxfsBranch.decode(img, slot);
  let at = Number(main.deltaLogOffset) + Number(main.deltaLogSize);
  for (const entry of entries(img)) {
    const bytes = encodeDeltaEntry(entry, { absoluteOffset: at, alignData: entry.type === DeltaType.WRITE });
    img.set(bytes, at);
    at += bytes.length;
  }
  view(img).setBigUint64(
    slot + DaxfsBranch.offsets.deltaLogSize,
    BigInt(at - Number(main.deltaLogOffset)),
    true,
  );
  // The fixtures number new inodes from 100: the counters must lie past them (SPEC 3.8.2).
  view(img).setBigUint64(DaxfsSuper.offsets.nextInodeId, 200n, true);
  view(img).setBigUint64(slot + DaxfsBranch.offsets.nextLocalIno, 200n, true);
  return img;
}

/** A name (or target) of raw bytes, in the string form of @daxfs/core's names.ts. */
const bytes = (...values: number[]) => decodeName(Uint8Array.from(values));

/**
 * Names that are not UTF-8 (docs/semantics.md "Names"), in the base and in main's log: f\xfe and
 * f\xff (one byte apart), a Latin-1 directory d\xe9 beside the UTF-8 "dé", a symlink whose target is
 * such bytes, a file created by the log under such a name and one renamed to another.
 */
export function byteNamesImage(): Uint8Array {
  const root = makeDir();
  root.children.set(bytes(0x66, 0xfe), makeFile("first\n"));
  root.children.set(bytes(0x66, 0xff), makeFile("second\n"));
  const latin1 = makeDir();
  latin1.children.set(bytes(0x78, 0x0a, 0x5c), makeFile("newline and backslash\n"));
  root.children.set(bytes(0x64, 0xe9), latin1);
  root.children.set("dé", makeFile("utf-8\n"));
  root.children.set("link", makeSymlink(bytes(0x66, 0xfe)));
  return imageWithMainLog(
    (img) => [
      {
        type: DeltaType.CREATE,
        ino: 100,
        parentIno: 1,
        newIno: 100,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        name: bytes(0x6e, 0x80, 0xff),
      },
      { type: DeltaType.WRITE, ino: 100, fileOffset: 0, data: new TextEncoder().encode("from the log\n") },
      {
        type: DeltaType.RENAME,
        ino: resolvePath(img, "dé"),
        oldParentIno: 1,
        newParentIno: 1,
        renamedIno: resolvePath(img, "dé"),
        oldName: "dé",
        newName: bytes(0x72, 0xe9),
      },
    ],
    4 << 20,
    root,
  );
}

/**
 * The main-log scenario: overwrite inside a base file, extend it, truncate and regrow another,
 * create files and directories, a symlink, delete, rename, chmod/chown. The expected tree is
 * asserted literally in the test and compared with @daxfs/core's BranchView.
 */
export function mainLogImage(deltaSize?: number): Uint8Array {
  return imageWithMainLog((img) => {
    const a = resolvePath(img, "a");
    const b = resolvePath(img, "b");
    const sub = resolvePath(img, "sub");
    const inner = resolvePath(img, "sub/inner");
    const next = 100;
    return [
      { type: DeltaType.WRITE, ino: a, fileOffset: 5000, data: new TextEncoder().encode("MIDDLE") },
      { type: DeltaType.WRITE, ino: a, fileOffset: 12000, data: new TextEncoder().encode("TAIL") },
      { type: DeltaType.TRUNCATE, ino: b, newSize: 2 },
      { type: DeltaType.TRUNCATE, ino: b, newSize: 6 },
      {
        type: DeltaType.MKDIR,
        ino: next,
        parentIno: 1,
        newIno: next,
        mode: 0o040750,
        uid: 5,
        gid: 6,
        name: "newdir",
      },
      {
        type: DeltaType.CREATE,
        ino: next + 1,
        parentIno: next,
        newIno: next + 1,
        mode: 0o100600,
        uid: 5,
        gid: 6,
        name: "newfile",
      },
      {
        type: DeltaType.WRITE,
        ino: next + 1,
        fileOffset: 0,
        data: new TextEncoder().encode("hello from the log\n"),
      },
      {
        type: DeltaType.SYMLINK,
        ino: next + 2,
        parentIno: next,
        newIno: next + 2,
        uid: 0,
        gid: 0,
        name: "tob",
        target: "../b",
      },
      {
        type: DeltaType.RENAME,
        ino: inner,
        oldParentIno: sub,
        newParentIno: next,
        renamedIno: inner,
        oldName: "inner",
        newName: "moved",
      },
      { type: DeltaType.DELETE, ino: resolvePath(img, "link"), parentIno: 1, name: "link" },
      {
        type: DeltaType.SETATTR,
        ino: b,
        mode: 0o600,
        uid: 42,
        gid: 43,
        valid: SetattrValid.MODE | SetattrValid.UID | SetattrValid.GID,
        size: 0,
      },
    ];
  }, deltaSize);
}

export interface CorruptImage {
  name: string;
  why: string;
  bytes: Uint8Array;
  /** Refused even without `validate` (checks every mount performs). */
  always?: boolean;
}

/** A dozen ways to break a valid image, each naming the rule it breaks. */
export function corruptImages(): CorruptImage[] {
  const good = () => buildImage(smallTree());
  const out: CorruptImage[] = [];
  const add = (name: string, why: string, edit: (img: Uint8Array, dv: DataView) => void, always = false) => {
    const img = good();
    edit(img, view(img));
    out.push({ name, why, bytes: img, always });
  };
  const base = Number(DaxfsSuper.decode(good(), 0).baseOffset);
  const slot = (img: Uint8Array, ino: number) => inodeSlot(img, ino);
  add("c_magic", "superblock magic", (_i, dv) => dv.setUint32(0, 0x12345678, true), true);
  add("c_basemagic", "base magic", (_i, dv) => dv.setUint32(base, 0, true), true);
  add("c_baseout", "base region outside the image", (img, dv) =>
    dv.setBigUint64(DaxfsSuper.offsets.baseSize, BigInt(img.length) * 4n, true),
  );
  add("c_inodes", "inode table outside the base", (_i, dv) =>
    dv.setUint32(base + DaxfsBaseSuper.offsets.inodeCount, 0x7fffffff, true),
  );
  add("c_rootfile", "root is not a directory", (img, dv) => dv.setUint32(slot(img, 1) + 4, 0o100644, true));
  add("c_direntino", "dirent names an inode out of range", (img, dv) =>
    dv.setUint32(childOf(img, 1, "b").dirent, 9999, true),
  );
  add("c_slash", "name contains '/'", (img) => {
    img[childOf(img, 1, "b").dirent + DaxfsDirent.offsets.name] = 0x2f;
  });
  add("c_dup", "duplicate name", (img) => {
    const a = childOf(img, 1, "a").dirent;
    const b = childOf(img, 1, "b").dirent;
    img.copyWithin(b + 8, a + 8, a + 272); // same name_len and name, b's ino and mode
  });
  add("c_dataout", "file data outside the base", (img, dv) =>
    dv.setBigUint64(slot(img, resolvePath(img, "a")) + 24, 1n << 40n, true),
  );
  add("c_dirsize", "directory size not a multiple of 271", (img, dv) =>
    dv.setBigUint64(slot(img, 1) + 16, 271n * 4n + 1n, true),
  );
  add("c_nlink", "file nlink differs from its names", (img, dv) =>
    dv.setUint32(slot(img, resolvePath(img, "b")) + 32, 3, true),
  );
  add("c_dirnlink", "directory nlink is not 2 + subdirectories", (img, dv) =>
    dv.setUint32(slot(img, 1) + 32, 7, true),
  );
  add("c_nonul", "symlink target without its NUL", (img) => {
    const ino = resolvePath(img, "link");
    const bi = DaxfsBaseInode.decode(img, slot(img, ino));
    img[base + Number(bi.dataOffset) + Number(bi.size)] = 0x41;
  });
  add("c_uid", "owner uid (uid_t)-1", (img, dv) =>
    dv.setUint32(slot(img, resolvePath(img, "b")) + 8, 0xffffffff, true),
  );
  add("c_chardev", "unsupported file type", (img, dv) => {
    const ino = resolvePath(img, "b");
    dv.setUint32(slot(img, ino) + 4, 0o020644, true);
    dv.setUint32(childOf(img, 1, "b").dirent + 4, 0o020644, true);
  });
  add("c_rootnamed", "a directory entry names the root (cycle)", (img, dv) => {
    const sub = resolvePath(img, "sub");
    const inner = childOf(img, sub, "inner").dirent;
    dv.setUint32(inner, 1, true);
    dv.setUint32(inner + 4, 0o040755, true);
  });
  // A main log whose entry runs past the log's end: every mount replays, so always refused.
  const badLog = imageWithMainLog((img) => [
    { type: DeltaType.WRITE, ino: resolvePath(img, "b"), fileOffset: 0, data: new Uint8Array(10) },
  ]);
  view(badLog).setUint32(
    Number(DaxfsBranch.decode(badLog, mainSlot(badLog)).deltaLogOffset) + 4,
    1 << 30,
    true,
  );
  out.push({ name: "c_log", why: "main log entry runs past the log", bytes: badLog, always: true });
  // A damaged main record: serving the base alone would drop main's committed changes, so every
  // mount refuses it (docs/kernel.md "Main's record, at every mount").
  const mainEdit = (name: string, why: string, edit: (img: Uint8Array, dv: DataView, at: number) => void) => {
    const img = mainLogImage(1 << 20);
    edit(img, view(img), mainSlot(img));
    out.push({ name, why, bytes: img, always: true });
  };
  mainEdit("c_mainfree", "main's record FREE while next_branch_id is 2", (_i, dv, at) =>
    dv.setUint32(at + DaxfsBranch.offsets.state, 0, true),
  );
  mainEdit("c_mainparent", "main's record has a parent", (_i, dv, at) =>
    dv.setBigUint64(at + DaxfsBranch.offsets.parentId, 1n << 32n, true),
  );
  mainEdit("c_mainname", "main's record renamed", (img, _dv, at) => {
    img[at + DaxfsBranch.offsets.name] = 0x4d; // "Main"
  });
  mainEdit("c_mainlog", "main's log past delta_alloc_offset", (_i, dv, at) => {
    const sb = DaxfsSuper.decode(_i, 0);
    dv.setBigUint64(at + DaxfsBranch.offsets.deltaLogOffset, sb.deltaAllocOffset, true);
  });
  return out;
}

/**
 * Images with a few metadata fields, bytes or records damaged (the shared generator of
 * @daxfs/core's validator fuzzing, seeded, so a failure reproduces): the kernel must refuse them
 * or serve them, never crash, with or without `validate`.
 */
export function fuzzedImages(count: number, seed: number): { name: string; bytes: Uint8Array }[] {
  const seeds = [damageSeed("smalltree", buildImage(smallTree())), damageSeed("mainlog", mainLogImage())];
  return damagedImages(seeds, count, seed).map((d, i) => ({ name: `fz${i}`, bytes: d.bytes }));
}

/**
 * Entries as a merged child log can leave them (names the parent changed since): a DELETE of a
 * name already gone, a CREATE over an existing name, a RENAME whose old name no longer names the
 * inode. The kernel must replay them as @daxfs/core does.
 */
export function mergedLogImage(): Uint8Array {
  return imageWithMainLog((img) => {
    const b = resolvePath(img, "b");
    const link = resolvePath(img, "link");
    const sub = resolvePath(img, "sub");
    return [
      { type: DeltaType.DELETE, ino: b, parentIno: 1, name: "b" },
      { type: DeltaType.DELETE, ino: b, parentIno: 1, name: "b" },
      {
        type: DeltaType.CREATE,
        ino: 100,
        parentIno: 1,
        newIno: 100,
        mode: 0o100644,
        uid: 1,
        gid: 1,
        name: "a",
      },
      { type: DeltaType.WRITE, ino: 100, fileOffset: 0, data: new TextEncoder().encode("new a\n") },
      // The old name "b" is gone: the rename still gives the link its new name (a second one).
      {
        type: DeltaType.RENAME,
        ino: link,
        oldParentIno: 1,
        newParentIno: sub,
        renamedIno: link,
        oldName: "b",
        newName: "l2",
      },
      {
        type: DeltaType.MKDIR,
        ino: 101,
        parentIno: sub,
        newIno: 101,
        mode: 0o040700,
        uid: 0,
        gid: 0,
        name: "gone",
      },
      { type: DeltaType.DELETE, ino: 101, parentIno: sub, name: "gone" },
    ];
  });
}
