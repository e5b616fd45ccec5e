import {
  BranchState,
  DAXFS_BRANCHING_BASE_OFFSET,
  DaxfsBranch,
  DaxfsDeltaHdr,
  DaxfsDirent,
  DaxfsSuper,
  DeltaType,
  FileType,
} from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { decodeDeltaLog, type NewDeltaEntry } from "./delta/entry.js";
import { CorruptImageError, DaxfsError } from "./errors.js";
import { DaxfsImage } from "./image.js";
import { MemoryImage } from "./image-source.js";
import {
  addTestBranch,
  appendTestEntries,
  buildTestImage,
  setTestBranchState,
  testDir,
  testFile,
  testSymlink,
} from "./testing/index.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (value: string) => new TextEncoder().encode(value);

function fixture() {
  const shared = testFile("shared!");
  const image = buildTestImage(
    testDir({
      "hello.txt": testFile("hello world"),
      "modify_me.txt": testFile("original content"),
      subdir: testDir({ "nested.txt": testFile("nested file") }),
      link: testSymlink("hello.txt"),
      a: shared,
      b: shared,
    }),
    { zeroSlots: 1 },
  );
  const ino = (path: string) => image.inodes.get(path) as number;
  let next = image.nextInodeId;
  return { image, ino, newIno: () => next++, open: () => DaxfsImage.open(new MemoryImage(image.bytes)) };
}

const write = (ino: number, fileOffset: number, data: string): NewDeltaEntry => ({
  type: DeltaType.WRITE,
  ino,
  fileOffset,
  data: bytesOf(data),
});
const create = (parentIno: number, newIno: number, name: string, mode = 0o100644): NewDeltaEntry => ({
  type: DeltaType.CREATE,
  ino: newIno,
  parentIno,
  newIno,
  mode,
  uid: 5,
  gid: 6,
  name,
});
const mkdir = (parentIno: number, newIno: number, name: string): NewDeltaEntry => ({
  type: DeltaType.MKDIR,
  ino: newIno,
  parentIno,
  newIno,
  mode: 0o40700,
  uid: 0,
  gid: 0,
  name,
});
const remove = (parentIno: number, ino: number, name: string): NewDeltaEntry => ({
  type: DeltaType.DELETE,
  ino,
  parentIno,
  name,
});
const truncate = (ino: number, newSize: number): NewDeltaEntry => ({
  type: DeltaType.TRUNCATE,
  ino,
  newSize,
});
const rename = (
  ino: number,
  oldParentIno: number,
  oldName: string,
  newParentIno: number,
  newName: string,
): NewDeltaEntry => ({
  type: DeltaType.RENAME,
  ino,
  oldParentIno,
  newParentIno,
  renamedIno: ino,
  oldName,
  newName,
});

describe("BranchView over the base", () => {
  it("resolves, lists, stats and reads the base tree", () => {
    const { open, ino } = fixture();
    const view = open().view();
    expect(view.branch?.name).toBe("main");
    expect(view.resolve("/subdir/nested.txt")).toBe(ino("/subdir/nested.txt"));
    expect(view.resolve("/subdir/../hello.txt")).toBe(ino("/hello.txt"));
    expect(view.readdir(1).map((e) => e.name)).toEqual([
      "a",
      "b",
      "hello.txt",
      "link",
      "modify_me.txt",
      "subdir",
    ]);
    expect(view.stat(ino("/hello.txt"))).toEqual({
      ino: ino("/hello.txt"),
      mode: 0o100644,
      uid: 0,
      gid: 0,
      size: 11,
      nlink: 1,
      blocks: 8,
      // A base without the BASE_MTIME extension records no times.
      atime: 0n,
      mtime: 0n,
      ctime: 0n,
    });
    expect(view.stat(1).nlink).toBe(3);
    expect(text(view.read(ino("/hello.txt"), 6, 100))).toBe("world");
    expect(view.readlink(ino("/link"))).toBe("hello.txt");
    expect([...view.walk()].map((e) => e.path)).toEqual([
      "/",
      "/a",
      "/b",
      "/hello.txt",
      "/link",
      "/modify_me.txt",
      "/subdir",
      "/subdir/nested.txt",
    ]);
  });

  it("answers with typed errors", () => {
    const { open, ino } = fixture();
    const view = open().view();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as DaxfsError).code;
      }
      return "no error";
    };
    expect(code(() => view.resolve("/nope"))).toBe("ENOENT");
    expect(code(() => view.resolve("/hello.txt/x"))).toBe("ENOTDIR");
    expect(code(() => view.read(1, 0, 1))).toBe("EISDIR");
    expect(code(() => view.readlink(ino("/hello.txt")))).toBe("EINVAL");
    expect(code(() => view.lookup(1, "x".repeat(256)))).toBe("ENAMETOOLONG");
    expect(code(() => view.stat(9))).toBe("ENOENT"); // the zero slot
    expect(code(() => open().view("nope"))).toBe("ENOENT");
  });

  it("views a static image, and a branching image before main exists, as the base alone", () => {
    const staticImage = buildTestImage(testDir({ f: testFile("x") }), { branching: false });
    const view = DaxfsImage.open(new MemoryImage(staticImage.bytes)).view();
    expect(view.branch).toBeNull();
    expect(text(view.read(view.resolve("/f"), 0, 1))).toBe("x");
    const fresh = buildTestImage(testDir({ f: testFile("x") }), { main: false });
    const early = DaxfsImage.open(new MemoryImage(fresh.bytes)).view();
    expect(early.branch).toBeNull();
    addTestBranch(fresh.bytes, { name: "main" });
    appendTestEntries(fresh.bytes, "main", [create(1, fresh.nextInodeId, "late")]);
    expect(early.lookup(1, "late")).toBe(fresh.nextInodeId);
    expect(early.branch?.name).toBe("main");
  });
});

describe("BranchView replay", () => {
  it("applies every entry type", () => {
    const { image, open, ino, newIno } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    const file = newIno();
    const dir = newIno();
    const sym = newIno();
    appendTestEntries(image.bytes, "b1", [
      create(1, file, "new.txt"),
      write(file, 0, "fresh"),
      mkdir(1, dir, "d"),
      {
        type: DeltaType.SYMLINK,
        ino: sym,
        parentIno: dir,
        newIno: sym,
        uid: 1,
        gid: 2,
        name: "s",
        target: "../new.txt",
      },
      rename(file, 1, "new.txt", dir, "moved.txt"),
      { type: DeltaType.SETATTR, ino: file, mode: 0o100600 | 0o4000, uid: 42, gid: 0, valid: 1 | 2, size: 0 },
      truncate(ino("/hello.txt"), 5),
      remove(ino("/subdir"), ino("/subdir/nested.txt"), "nested.txt"),
    ]);
    const view = open().view("b1");
    expect(
      view
        .readdir(1)
        .map((e) => e.name)
        .sort(),
    ).toEqual(["a", "b", "d", "hello.txt", "link", "modify_me.txt", "subdir"]);
    expect(view.readdir(dir).map((e) => [e.name, e.mode])).toEqual([
      ["s", FileType.SYMLINK | 0o777],
      ["moved.txt", FileType.REGULAR | 0o4600],
    ]);
    expect(view.stat(file)).toMatchObject({ mode: 0o104600, uid: 42, gid: 6, size: 5, nlink: 1 });
    expect(text(view.read(view.resolve("/d/moved.txt"), 0, 10))).toBe("fresh");
    expect(view.readlink(view.resolve("/d/s"))).toBe("../new.txt");
    expect(view.stat(dir)).toMatchObject({ nlink: 2, mode: 0o40700 });
    expect(view.stat(1).nlink).toBe(4);
    expect(text(view.read(ino("/hello.txt"), 0, 100))).toBe("hello");
    expect(view.readdir(ino("/subdir"))).toEqual([]);
    // Main is untouched.
    const main = open().view();
    expect(() => main.resolve("/d")).toThrow(DaxfsError);
    expect(text(main.read(ino("/hello.txt"), 0, 100))).toBe("hello world");
  });

  it("keeps hard links consistent and reads their data through either name", () => {
    const { image, open, ino } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    appendTestEntries(image.bytes, "b1", [remove(1, ino("/a"), "a"), write(ino("/b"), 0, "SH")]);
    const view = open().view("b1");
    expect(() => view.resolve("/a")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(view.stat(ino("/b")).nlink).toBe(1);
    expect(text(view.read(view.resolve("/b"), 0, 100))).toBe("SHared!");
    expect(open().view().stat(ino("/a")).nlink).toBe(2);
  });

  it("renames over an existing name, unlinking the target", () => {
    const { image, open, ino } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    appendTestEntries(image.bytes, "b1", [rename(ino("/hello.txt"), 1, "hello.txt", 1, "modify_me.txt")]);
    const view = open().view("b1");
    expect(view.resolve("/modify_me.txt")).toBe(ino("/hello.txt"));
    expect(() => view.resolve("/hello.txt")).toThrow(DaxfsError);
    expect(view.stat(ino("/modify_me.txt")).nlink).toBe(0);
    expect(view.readdir(1).filter((e) => e.name === "modify_me.txt")).toHaveLength(1);
    expect(text(view.read(view.resolve("/modify_me.txt"), 0, 100))).toBe("hello world");
  });

  it("moves directories between parents with their link counts", () => {
    const { image, open, ino, newIno } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    const dir = newIno();
    appendTestEntries(image.bytes, "b1", [
      mkdir(1, dir, "d"),
      rename(ino("/subdir"), 1, "subdir", dir, "inner"),
    ]);
    const view = open().view("b1");
    expect(view.stat(1).nlink).toBe(3);
    expect(view.stat(dir).nlink).toBe(3);
    expect(view.resolve("/d/inner/nested.txt")).toBe(ino("/subdir/nested.txt"));
    expect([...view.walk()].map((e) => e.path)).toContain("/d/inner/nested.txt");
  });

  it("forgets a deleted file and its data when the name is recreated", () => {
    const { image, open, ino, newIno } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    const again = newIno();
    appendTestEntries(image.bytes, "b1", [
      remove(1, ino("/hello.txt"), "hello.txt"),
      create(1, again, "hello.txt"),
      write(again, 2, "xy"),
    ]);
    const view = open().view("b1");
    expect(view.resolve("/hello.txt")).toBe(again);
    expect(view.read(again, 0, 100)).toEqual(new Uint8Array([0, 0, 0x78, 0x79]));
    expect(view.stat(ino("/hello.txt")).nlink).toBe(0);
    expect(view.readdir(1).filter((e) => e.name === "hello.txt")).toEqual([
      { name: "hello.txt", ino: again, mode: 0o100644 },
    ]);
  });

  it("follows truncate, extend and overwrite per POSIX", () => {
    const { image, open, ino } = fixture();
    const file = ino("/modify_me.txt"); // "original content"
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    appendTestEntries(image.bytes, "b1", [
      write(file, 2, "IG"),
      truncate(file, 4),
      truncate(file, 10),
      write(file, 8, "ZZ"),
      write(file, 0, "o"),
    ]);
    const view = open().view("b1");
    expect(view.read(file, 0, 100)).toEqual(new Uint8Array([0x6f, 0x72, 0x49, 0x47, 0, 0, 0, 0, 0x5a, 0x5a]));
    addTestBranch(image.bytes, { name: "b2", parent: "b1" });
    appendTestEntries(image.bytes, "b2", [
      write(file, 12, "end"),
      { type: DeltaType.SETATTR, ino: file, mode: 0, uid: 0, gid: 0, valid: 8, size: 9 },
      truncate(file, 11),
    ]);
    const child = open().view("b2");
    expect(child.stat(file).size).toBe(11);
    expect(text(child.read(file, 0, 100))).toBe("orIG\0\0\0\0Z\0\0");
    // Writes past the end leave a zero hole; a shrink below base data hides it for good.
    appendTestEntries(image.bytes, "b2", [write(file, 20, "!")]);
    expect(child.stat(file).size).toBe(21);
    expect(child.read(file, 11, 10)).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0x21]));
  });

  it("reads page-aligned WRITE data as the last len bytes of the entry", () => {
    const { image, open, ino } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    const page = new Uint8Array(4096).fill(7);
    appendTestEntries(
      image.bytes,
      "b1",
      [
        write(ino("/hello.txt"), 3, "x"),
        { type: DeltaType.WRITE, ino: ino("/hello.txt"), fileOffset: 4096, data: page },
      ],
      { alignData: true },
    );
    const view = open().view("b1");
    expect(view.stat(ino("/hello.txt")).size).toBe(8192);
    expect(view.read(ino("/hello.txt"), 4096, 4096)).toEqual(page);
    expect(text(view.read(ino("/hello.txt"), 0, 6))).toBe("helxo ");
  });

  it("resolves a grandchild through its parent and main, nearest level winning", () => {
    const { image, open, ino, newIno } = fixture();
    const mainFile = newIno();
    appendTestEntries(image.bytes, "main", [
      create(1, mainFile, "from-main"),
      write(mainFile, 0, "main data"),
    ]);
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    appendTestEntries(image.bytes, "b1", [write(mainFile, 0, "B1"), write(ino("/hello.txt"), 0, "HELLO")]);
    addTestBranch(image.bytes, { name: "b2", parent: "b1" });
    appendTestEntries(image.bytes, "b2", [write(mainFile, 1, "2"), remove(1, ino("/link"), "link")]);
    const grandchild = open().view("b2");
    expect(grandchild.chain.map((r) => r.name)).toEqual(["b2", "b1", "main"]);
    expect(text(grandchild.read(mainFile, 0, 100))).toBe("B2in data");
    expect(text(grandchild.read(ino("/hello.txt"), 0, 100))).toBe("HELLO world");
    expect(() => grandchild.resolve("/link")).toThrow(DaxfsError);
    expect(open().view("b1").resolve("/link")).toBe(ino("/link"));
    expect(text(open().view().read(mainFile, 0, 100))).toBe("main data");
  });

  it("sees entries its ancestors append later, and indexes a writer's entry once", () => {
    const { image, open, ino, newIno } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    addTestBranch(image.bytes, { name: "b2", parent: "b1" });
    const daxfs = open();
    const child = daxfs.view("b2");
    expect(() => child.resolve("/later")).toThrow(DaxfsError);
    const later = newIno();
    appendTestEntries(image.bytes, "b1", [create(1, later, "later")]);
    appendTestEntries(image.bytes, "main", [write(ino("/hello.txt"), 0, "J")]);
    expect(child.resolve("/later")).toBe(later);
    expect(text(child.read(ino("/hello.txt"), 0, 5))).toBe("Jello");
    const own = newIno();
    const [at] = appendTestEntries(image.bytes, "b2", [create(1, own, "own")]);
    const [entry] = decodeDeltaLog(
      daxfs.source,
      at as number,
      DaxfsDeltaHdr.decode(image.bytes, at).totalSize,
    );
    child.applyEntry(0, entry as NonNullable<typeof entry>);
    child.applyEntry(0, entry as NonNullable<typeof entry>);
    expect(child.lookup(1, "own")).toBe(own);
    expect(child.stat(1).nlink).toBe(3);
  });

  it("re-reads a log that moved to a larger extent (NOTES.md Space)", () => {
    const { image, open, ino } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    appendTestEntries(image.bytes, "b1", [write(ino("/hello.txt"), 0, "MOVED")]);
    const daxfs = open();
    const view = daxfs.view("b1");
    expect(text(view.read(ino("/hello.txt"), 0, 5))).toBe("MOVED");
    const record = daxfs.findBranch("b1") as NonNullable<ReturnType<typeof daxfs.findBranch>>;
    const sb = DaxfsSuper.decode(image.bytes);
    const target = Number(sb.deltaAllocOffset);
    image.bytes.copyWithin(target, record.logOffset, record.logOffset + record.logSize);
    image.bytes.fill(0, record.logOffset, record.logOffset + record.logSize);
    const at = daxfs.branchSlotOffset(record.slot);
    DaxfsBranch.encode(image.bytes, at, {
      ...DaxfsBranch.decode(image.bytes, at),
      deltaLogOffset: BigInt(target),
      deltaLogCapacity: 1n << 20n,
    });
    DaxfsSuper.encode(image.bytes, 0, { ...sb, deltaAllocOffset: sb.deltaAllocOffset + (1n << 20n) });
    expect(text(view.read(ino("/hello.txt"), 0, 5))).toBe("MOVED");
    appendTestEntries(image.bytes, "b1", [write(ino("/hello.txt"), 0, "m")]);
    expect(text(view.read(ino("/hello.txt"), 0, 5))).toBe("mOVED");
  });

  it("fails with ESTALE once the branch or an ancestor is invalidated", () => {
    const { image, open } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    addTestBranch(image.bytes, { name: "b2", parent: "b1" });
    const view = open().view("b2");
    const sibling = open().view("b1");
    view.stat(1);
    setTestBranchState(image.bytes, "b1", BranchState.ABORTED);
    expect(() => view.stat(1)).toThrow(expect.objectContaining({ code: "ESTALE" }));
    expect(() => sibling.readdir(1)).toThrow(expect.objectContaining({ code: "ESTALE" }));
    expect(() => open().view("b1")).toThrow(expect.objectContaining({ code: "ESTALE" }));
  });
});

describe("BranchView on corrupt logs", () => {
  const cases: [string, (ino: (path: string) => number, next: number) => NewDeltaEntry[]][] = [
    ["a write to an unknown inode", (_ino, next) => [write(next + 5, 0, "x")]],
    ["a write to a directory", () => [write(1, 0, "x")]],
    ["a create into a file", (ino, next) => [create(ino("/hello.txt"), next, "x")]],
    ["a create reusing a base inode number", (ino) => [create(1, ino("/hello.txt"), "x")]],
    ["a create with a directory mode", (_ino, next) => [create(1, next, "x", 0o40755)]],
    ["a rename of an unknown inode", (_ino, next) => [rename(next, 1, "a", 1, "z")]],
  ];
  for (const [what, entries] of cases) {
    it(`rejects ${what} with CorruptImageError at the entry`, () => {
      const { image, open, ino } = fixture();
      addTestBranch(image.bytes, { name: "b1", parent: "main" });
      const [at] = appendTestEntries(image.bytes, "b1", entries(ino, image.nextInodeId));
      expect(() => open().view("b1")).toThrow(
        expect.objectContaining({ constructor: CorruptImageError, offset: at }),
      );
    });
  }

  it("stops a walk at a directory cycle in a corrupt base instead of looping", () => {
    const { image, open, ino } = fixture();
    const daxfs = open();
    const sub = daxfs.base?.readInode(ino("/subdir"));
    const at = DAXFS_BRANCHING_BASE_OFFSET + (sub?.dataOffset ?? 0);
    DaxfsDirent.encode(image.bytes, at, { ...DaxfsDirent.decode(image.bytes, at), ino: 1, mode: 0o100644 });
    expect(() => [...open().view().walk()]).toThrow(CorruptImageError);
  });

  it("rejects a log outside the delta region and a torn entry", () => {
    const { image, open } = fixture();
    addTestBranch(image.bytes, { name: "b1", parent: "main" });
    const [at] = appendTestEntries(image.bytes, "b1", [write(1, 0, "x")]);
    DaxfsDeltaHdr.encode(image.bytes, at as number, {
      ...DaxfsDeltaHdr.decode(image.bytes, at),
      totalSize: 1 << 30,
    });
    expect(() => open().view("b1")).toThrow(CorruptImageError);
    const daxfs = open();
    const record = daxfs.findBranch("b1");
    expect(() => daxfs.readBranchLog({ ...(record as NonNullable<typeof record>), logOffset: 100 })).toThrow(
      /delta region/,
    );
  });
});
