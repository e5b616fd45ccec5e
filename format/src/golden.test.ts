// A small branching image assembled by hand from the generated codecs and read back by the
// independent Kaitai parser: proves the .ksy describes a whole image, regions and logs included.
import {
  BranchState,
  DAXFS_BASE_MAGIC,
  DAXFS_BRANCH_TABLE_OFFSET,
  DAXFS_BRANCHING_BASE_OFFSET,
  DAXFS_DIRENT_SIZE,
  DAXFS_DIRENT_STRIDE,
  DAXFS_MAX_BRANCHES,
  DAXFS_SUPER_MAGIC,
  DAXFS_VERSION,
  DaxfsBaseInode,
  DaxfsBaseSuper,
  DaxfsBranch,
  DaxfsDeltaCreate,
  DaxfsDeltaHdr,
  DaxfsDeltaRename,
  DaxfsDeltaSymlink,
  DaxfsDeltaWrite,
  DaxfsDirent,
  DaxfsSuper,
  DeltaType,
} from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { loadKaitaiParser } from "./kaitai.js";

const BLOCK = 4096;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function nameField(text: string, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(Buffer.from(text));
  return bytes;
}

/** base: root(1) { hello.txt(2), link(3) -> hello.txt, sub(4) {} }; main log: CREATE, WRITE, SYMLINK, RENAME. */
function assembleImage() {
  const baseOffset = DAXFS_BRANCHING_BASE_OFFSET;
  const inodeCount = 4;
  const dataStart = BLOCK * 2; // base super, inode table (4 × 64 bytes), then data
  const hello = Buffer.from("hello, shared memory\n");
  const rootDirents = [
    { ino: 2, mode: S_IFREG | 0o644, name: "hello.txt" },
    { ino: 3, mode: S_IFLNK | 0o777, name: "link" },
    { ino: 4, mode: S_IFDIR | 0o755, name: "sub" },
  ];
  const layout = { root: dataStart, hello: dataStart + BLOCK, link: dataStart + 2 * BLOCK };
  const baseSize = dataStart + 3 * BLOCK;
  const deltaOffset = baseOffset + baseSize;
  const deltaSize = 1 << 20;
  const image = new Uint8Array(deltaOffset + deltaSize);

  DaxfsSuper.encode(image, 0, {
    ...DaxfsSuper.zero(),
    magic: DAXFS_SUPER_MAGIC,
    version: DAXFS_VERSION,
    blockSize: BLOCK,
    totalSize: BigInt(image.length),
    baseOffset: BigInt(baseOffset),
    baseSize: BigInt(baseSize),
    branchTableOffset: BigInt(DAXFS_BRANCH_TABLE_OFFSET),
    branchTableEntries: DAXFS_MAX_BRANCHES,
    activeBranches: 1,
    nextBranchId: 2n,
    nextInodeId: 7n,
    deltaRegionOffset: BigInt(deltaOffset),
    deltaRegionSize: BigInt(deltaSize),
    deltaAllocOffset: BigInt(deltaOffset + 65536),
  });

  const base = image.subarray(baseOffset);
  DaxfsBaseSuper.encode(base, 0, {
    ...DaxfsBaseSuper.zero(),
    magic: DAXFS_BASE_MAGIC,
    version: DAXFS_VERSION,
    blockSize: BLOCK,
    totalSize: BigInt(baseSize),
    inodeOffset: BigInt(BLOCK),
    inodeCount,
    rootInode: 1,
    dataOffset: BigInt(dataStart),
  });
  const inodes = [
    {
      ino: 1,
      mode: S_IFDIR | 0o755,
      size: rootDirents.length * DAXFS_DIRENT_SIZE,
      data: layout.root,
      nlink: 3,
    },
    { ino: 2, mode: S_IFREG | 0o644, size: hello.length, data: layout.hello, nlink: 1 },
    { ino: 3, mode: S_IFLNK | 0o777, size: "hello.txt".length, data: layout.link, nlink: 1 },
    { ino: 4, mode: S_IFDIR | 0o755, size: 0, data: 0, nlink: 2 },
  ];
  for (const inode of inodes) {
    DaxfsBaseInode.encode(base, BLOCK + (inode.ino - 1) * DaxfsBaseInode.size, {
      ...DaxfsBaseInode.zero(),
      ino: inode.ino,
      mode: inode.mode,
      uid: 1000,
      gid: 100,
      size: BigInt(inode.size),
      dataOffset: BigInt(inode.data),
      nlink: inode.nlink,
    });
  }
  rootDirents.forEach((dirent, index) => {
    DaxfsDirent.encode(base, layout.root + index * DAXFS_DIRENT_STRIDE, {
      ...DaxfsDirent.zero(),
      ino: dirent.ino,
      mode: dirent.mode,
      nameLen: dirent.name.length,
      name: nameField(dirent.name, 255),
    });
  });
  base.set(hello, layout.hello);
  base.set(Buffer.from("hello.txt\0"), layout.link);

  // main's log, entries back to back; the WRITE is padded so its data starts on a block.
  let cursor = deltaOffset;
  const header = (type: DeltaType, totalSize: number, ino: number) => {
    DaxfsDeltaHdr.encode(image, cursor, {
      type,
      totalSize,
      ino: BigInt(ino),
      timestamp: 1_700_000_000_000_000_000n,
    });
  };
  const createName = Buffer.from("new.txt");
  header(DeltaType.CREATE, 24 + DaxfsDeltaCreate.size + createName.length, 5);
  DaxfsDeltaCreate.encode(image, cursor + 24, {
    ...DaxfsDeltaCreate.zero(),
    parentIno: 1n,
    newIno: 5n,
    mode: S_IFREG | 0o600,
    nameLen: createName.length,
  });
  image.set(createName, cursor + 24 + DaxfsDeltaCreate.size);
  cursor += 24 + DaxfsDeltaCreate.size + createName.length;

  const written = Buffer.from("written in a branch");
  const padding = (BLOCK - ((cursor + 40) % BLOCK)) % BLOCK;
  header(DeltaType.WRITE, 40 + padding + written.length, 5);
  DaxfsDeltaWrite.encode(image, cursor + 24, { offset: 0n, len: written.length, flags: 0 });
  image.set(written, cursor + 40 + padding);
  cursor += 40 + padding + written.length;

  const linkName = Buffer.from("to-new");
  const target = Buffer.from("new.txt");
  header(DeltaType.SYMLINK, 24 + DaxfsDeltaSymlink.size + linkName.length + target.length + 1, 6);
  DaxfsDeltaSymlink.encode(image, cursor + 24, {
    ...DaxfsDeltaSymlink.zero(),
    parentIno: 1n,
    newIno: 6n,
    nameLen: linkName.length,
    targetLen: target.length,
  });
  image.set(linkName, cursor + 56);
  image.set(target, cursor + 56 + linkName.length);
  cursor += 24 + DaxfsDeltaSymlink.size + linkName.length + target.length + 1;

  const [oldName, newName] = [Buffer.from("hello.txt"), Buffer.from("greeting.txt")];
  header(DeltaType.RENAME, 24 + DaxfsDeltaRename.size + oldName.length + newName.length, 2);
  DaxfsDeltaRename.encode(image, cursor + 24, {
    ...DaxfsDeltaRename.zero(),
    oldParentIno: 1n,
    newParentIno: 4n,
    ino: 2n,
    oldNameLen: oldName.length,
    newNameLen: newName.length,
  });
  image.set(oldName, cursor + 56);
  image.set(newName, cursor + 56 + oldName.length);
  cursor += 24 + DaxfsDeltaRename.size + oldName.length + newName.length;

  DaxfsBranch.encode(image, DAXFS_BRANCH_TABLE_OFFSET, {
    ...DaxfsBranch.zero(),
    branchId: 1n,
    parentId: 0n,
    deltaLogOffset: BigInt(deltaOffset),
    deltaLogSize: BigInt(cursor - deltaOffset),
    deltaLogCapacity: 65536n,
    state: BranchState.ACTIVE,
    refcount: 0,
    nextLocalIno: 7n,
    name: nameField("main", 32),
  });
  return { image, hello, written, padding };
}

describe("a hand-assembled image read by the Kaitai parser", () => {
  it("exposes the superblock, branch table, base tree and main's log", async () => {
    const { Daxfs, KaitaiStream } = await loadKaitaiParser();
    const { image, hello, written, padding } = assembleImage();
    expect(padding).toBeGreaterThan(0);
    const parsed = new Daxfs(new KaitaiStream(image));

    expect(parsed.superblock.magic).toBe(DAXFS_SUPER_MAGIC);
    expect(parsed.superblock.ofsBase).toBe(DAXFS_BRANCHING_BASE_OFFSET);
    expect(parsed.branches).toHaveLength(DAXFS_MAX_BRANCHES);
    expect(parsed.branches[1].state).toBe(BranchState.FREE);

    const inodes = parsed.base.inodes;
    expect(inodes).toHaveLength(4);
    const root = inodes[0];
    expect(root.fileType).toBe(0x4000);
    expect(root.dirents.map((d: { name: string; ino: number }) => [d.name, d.ino])).toEqual([
      ["hello.txt", 2],
      ["link", 3],
      ["sub", 4],
    ]);
    expect(Buffer.from(inodes[1].data).equals(hello)).toBe(true);
    expect(inodes[2].target).toBe("hello.txt");
    expect(inodes[3].dirents).toHaveLength(0);

    const main = parsed.branches[0];
    expect(main.name).toBe("main");
    const entries = main.log.entries;
    expect(entries.map((e: { hdr: { type: number } }) => e.hdr.type)).toEqual([
      DeltaType.CREATE,
      DeltaType.WRITE,
      DeltaType.SYMLINK,
      DeltaType.RENAME,
    ]);
    expect(entries[0].body.name).toBe("new.txt");
    expect(entries[0].body.args.newIno).toBe(5);
    expect(Buffer.from(entries[1].body.data).toString()).toBe(written.toString());
    expect(entries[2].body.name).toBe("to-new");
    expect(entries[2].body.target).toBe("new.txt");
    expect([entries[3].body.oldName, entries[3].body.newName]).toEqual(["hello.txt", "greeting.txt"]);
  });
});
