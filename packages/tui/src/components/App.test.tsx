// Every screen of the App on a real image (built by core, branches written through core's POSIX
// layer), driven by key presses; frames are compared as text (inline snapshots, reviewed).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  branchContext,
  buildImage,
  buildSplitImage,
  commitBranch,
  DaxfsImage,
  FileImage,
  makeFile,
} from "@daxfs/core";
import { DAXFS_BRANCHING_BASE_OFFSET, DaxfsBaseInode } from "@daxfs/format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KEY, renderApp, tempDir } from "../../test/harness.js";
import { sampleRoot, writeInBranch, writeSampleImage } from "../../test/sample-image.js";

let tmp: ReturnType<typeof tempDir>;
let image: string;
beforeAll(() => {
  tmp = tempDir();
  image = join(tmp.dir, "sample.img");
  writeSampleImage(image);
});
afterAll(() => tmp.remove());

/** Log entries carry the time they were written; frames compare without it. */
const timeless = (frame: string) => frame.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, "<time>");

const open = (path = image, options: Parameters<typeof renderApp>[1] = {}) =>
  renderApp(path, { hide: tmp.dir, ...options });

describe("browse screen", () => {
  it("shows the branch tree, main's files and the first entry's preview", async () => {
    const app = await open();
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      [Branches (2)]
      >main           #1 active    g0 [--------]
         agent        #2 active    g0 [--------]
      Files of main                    /bin (directory)
      *  > bin/                        inode 2 drwxr-xr-x 0:0 271 B, 2 links
         > etc/                        1 entry: 0 directories, 0 symlinks, 1 file
           lib             -> usr/lib















      [1 browse] 2 log  3 diff  4 validate  ? help q quit"
    `);
    app.close();
  });

  it("marks what a branch changed against its parent and previews text with line numbers", async () => {
    const app = await open();
    await app.press(KEY.down, KEY.tab, KEY.down, KEY.enter, KEY.down, KEY.down);
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      Branches (2)
       main           #1 active    g0 [--------]
      *  agent        #2 active    g0 [--------]
      [Files of agent]                 /etc/motd (1991 bytes, 0-311)
         > bin/                        inode 6 -rw-r--r-- 0:0 1991 B, 1 link
         v etc/                         1 line 1 of the motd
       M     hostname               6   2 line 2 of the motd
      >      motd                1991   3 line 3 of the motd
       +     new                    6   4 line 4 of the motd
           lib             -> usr/lib   5 line 5 of the motd
                                        6 line 6 of the motd
                                        7 line 7 of the motd
                                        8 line 8 of the motd
                                        9 line 9 of the motd
                                       10 line 10 of the motd
                                       11 line 11 of the motd
                                       12 line 12 of the motd
                                       13 line 13 of the motd
                                       14 line 14 of the motd
                                       15 line 15 of the motd
                                       16 line 16 of the motd
                                       -- more: space / page down --
      [1 browse] 2 log  3 diff  4 validate  ? help q quit"
    `);
    app.close();
  });

  it("pages a text file forward and back", async () => {
    const app = await open();
    await app.press(KEY.tab, KEY.down, KEY.enter, KEY.down, KEY.down, KEY.tab, KEY.pageDown);
    expect(app.frame()).toContain(" 17 line 17 of the motd");
    expect(app.frame()).not.toContain("  1 line 1 of the motd");
    await app.press(" ", KEY.pageUp);
    expect(app.frame()).toContain(" 17 line 17 of the motd");
    await app.press(KEY.pageUp);
    expect(app.frame()).toContain(" 1 line 1 of the motd");
    app.close();
  });

  it("shows binary files as hex and symlinks as their target", async () => {
    const app = await open();
    await app.press(KEY.tab, KEY.enter, KEY.down);
    expect(app.frame()).toContain("/bin/tool (300 bytes, 0-128, hex)");
    expect(app.frame()).toContain("00000000  00 07 0e 15 1c 23 2a 31  |.....#*1|");
    expect(app.frame()).toContain("00000078  48 4f 56 5d 64 6b 72 79  |HOV]dkry|");
    await app.press(KEY.down, KEY.down);
    expect(app.frame()).toContain("/lib (symlink)");
    expect(app.frame()).toContain("-> usr/lib");
    app.close();
  });

  it("collapses a directory and searches names over the whole branch", async () => {
    const app = await open();
    await app.press(KEY.tab, KEY.enter, KEY.left);
    expect(app.frame()).toContain(">  > bin/");
    await app.press("/", "m", "o", KEY.enter);
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      Branches (2)
      *main           #1 active    g0 [--------]
         agent        #2 active    g0 [--------]
      [Files of main matching "mo" (1… /etc/motd (1991 bytes, 0-311)
      >    /etc/motd             1991  inode 6 -rw-r--r-- 0:0 1991 B, 1 link
                                        1 line 1 of the motd
                                        2 line 2 of the motd
                                        3 line 3 of the motd
                                        4 line 4 of the motd
                                        5 line 5 of the motd
                                        6 line 6 of the motd
                                        7 line 7 of the motd
                                        8 line 8 of the motd
                                        9 line 9 of the motd
                                       10 line 10 of the motd
                                       11 line 11 of the motd
                                       12 line 12 of the motd
                                       13 line 13 of the motd
                                       14 line 14 of the motd
                                       15 line 15 of the motd
                                       16 line 16 of the motd
                                       -- more: space / page down --
      [1 browse] 2 log  3 diff  4 validate  ? help q quit"
    `);
    await app.press(KEY.escape);
    expect(app.frame()).toContain("[Files of main]");
    app.close();
  });

  it("counts every key of a burst (a held arrow key, fast typing)", async () => {
    const app = await open();
    await app.press(KEY.tab, KEY.down + KEY.enter + KEY.down + KEY.down);
    expect(app.frame()).toContain(">      motd");
    await app.press(`/mot${KEY.enter}`);
    expect(app.frame()).toContain('[Files of main matching "mot" (');
    expect(app.frame()).toContain(">    /etc/motd");
    app.close();
  });

  it("fits a terminal smaller than 80x24, help included", async () => {
    const app = await open(image, { columns: 50, rows: 12 });
    expect(app.frame().split("\n")).toHaveLength(12);
    expect(app.frame()).toContain("Branches (2)");
    await app.press("?");
    const help = app.frame().split("\n");
    expect(help).toHaveLength(12);
    expect(help[10]).toBe("... 11 more (a taller terminal shows them all)");
    app.close();
  });

  it("opens the help overlay from the keymap and closes it on any key", async () => {
    const app = await open();
    await app.press("?");
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      Keys (any key closes this help)
      q ctrl-c             quit
      ?                    this help (any key closes it)
      up k                 move up
      down j               move down
      pageUp               page up (preview: previous page; diff text: scroll)
      pageDown space       page down (preview: next page; diff text: scroll)
      tab                  next pane (diff: list, text) (browse, diff)
      return right l       expand a directory / jump to what an item names
      left h               collapse the directory (browse)
      /                    search names over the whole branch (browse)
      escape               clear the search (browse)
      b 1                  browse: branches, files, preview
      L 2                  log of the selected branch
      d 3                  diff of the selected branch
      v 4                  validation report
      t                    cycle the log's type filter (log)
      i                    filter the log by the entry's inode (again: all) (log)
      a                    compare against the next branch (parent first) (diff)
      backspace delete     back to where a jump came from


      [1 browse] 2 log  3 diff  4 validate  ? help q quit"
    `);
    await app.press("x");
    expect(app.frame()).toContain("Branches (2)");
    app.close();
  });
});

describe("log screen", () => {
  it("lists the branch's entries, filters them and jumps to an entry's file and back", async () => {
    const app = await open();
    await app.press(KEY.down, "2");
    expect(timeless(app.frame())).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      [Log of agent: 3 of 3 entries]
          OFFSET  TYPE     DETAILS
      >  0x112000  CREATE   ino 8  "new" in dir 4, mode 0100644, uid 0, gid 0
         0x11203b  WRITE    ino 8  6 bytes at file offset 0, data at 0x112063
         0x112069  WRITE    ino 5  6 bytes at file offset 0, data at 0x112091














      entry at 0x112000, 59 bytes, <time>
      0x112000  CREATE   ino 8  "new" in dir 4, mode 0100644, uid 0, gid 0

       1 browse [2 log] 3 diff  4 validate  ? help q quit"
    `);
    await app.press("t");
    expect(app.frame()).toContain("Log of agent: 2 of 3 entries, type WRITE");
    // Through the other nine types (the v5 eight and the extensions LINK, UTIMES) back to all.
    await app.press("t", "t", "t", "t", "t", "t", "t", "t", "t", "t");
    expect(app.frame()).toContain("[Log of agent: 3 of 3 entries]");
    await app.press(KEY.down, "i");
    expect(app.frame()).toContain("Log of agent: 2 of 3 entries, inode 8");
    await app.press(KEY.enter);
    expect(app.frame()).toContain(">+     new");
    expect(app.frame()).toContain("/etc/new (6 bytes, 0-6)");
    await app.press(KEY.backspace);
    expect(app.frame()).toContain("Log of agent: 2 of 3 entries, inode 8");
    app.close();
  });
});

describe("diff screen", () => {
  it("lists the changed paths against the parent with a line diff of the selected file", async () => {
    const app = await open();
    await app.press(KEY.down, "3");
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      [Diff agent against main (parent): 2 changes]
      >M /etc/hostname  (contents)
       + /etc/new
      --------------------
      @@ -1,1 +1,1 @@
      - daxfs
      + dax2s















       1 browse  2 log [3 diff] 4 validate  ? help q quit"
    `);
    await app.press(KEY.down);
    expect(app.frame()).toContain("+ fresh");
    app.close();
  });

  it("cycles `a` through each comparison once: the parent is not listed again by name", async () => {
    const app = await open();
    await app.press(KEY.down, "3", "a");
    expect(app.frame()).toContain("Diff agent against main (parent): 2 changes");
    app.close();
  });

  it("scrolls the diff text after Tab, as the preview pages", async () => {
    const app = await open();
    await app.press(KEY.down, "3", KEY.tab);
    expect(app.frame()).toContain("-------------------- lines 1-3 of 3 (Tab: back to the list)");
    await app.press("j");
    expect(app.frame()).toContain("lines 2-3 of 3");
    expect(app.frame()).not.toContain("@@ -1,1 +1,1 @@");
    await app.press(KEY.tab, "j");
    expect(app.frame()).toContain("+ fresh");
    app.close();
  });

  it("says why main has nothing to compare with, and compares with another branch on `a`", async () => {
    const app = await open();
    await app.press("3");
    expect(app.frame()).toContain("branch 'main' has no parent to compare with");
    await app.press("a");
    expect(app.frame()).toContain("Diff main against agent: 2 changes");
    expect(app.frame()).toContain("- /etc/new");
    app.close();
  });
});

describe("validation screen", () => {
  it("reports a valid image", async () => {
    const app = await open();
    await app.press("4");
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/sample.img 7 inodes, seq 1, lock free, delta [#---------]…
      [Validation: no errors found]
      checked 7 inodes, 6 directory entries, 2 branches, 3 log entries
      (no problems)



















       1 browse  2 log  3 diff [4 validate] ? help q quit"
    `);
    app.close();
  });

  it("opens an image that opens but fails validation (a branch record of 0xff) in the validation view", async () => {
    const corrupt = join(tmp.dir, "bad-branch.img");
    const bytes = buildImage(sampleRoot(), { branching: true, deltaSize: 1024 * 1024 });
    bytes.fill(0xff, 4096, 4096 + 64); // the first branch record
    writeFileSync(corrupt, bytes);
    const app = await open(corrupt);
    expect(app.frame()).toContain("[4 validate]");
    expect(app.frame()).toMatch(/\[Validation: \d+ problems?\]/);
    await app.press("1");
    expect(app.frame()).not.toContain("(no branches yet)");
    expect(app.frame()).toContain("(no branch decoded: the branch table does not read:");
    expect(app.frame()).toContain("branch slot 0: unknown");
    app.close();
  });

  it("opens a corrupt image in the validation view instead of failing", async () => {
    const corrupt = join(tmp.dir, "corrupt.img");
    const bytes = buildImage(sampleRoot(), { branching: true, deltaSize: 1024 * 1024 });
    bytes.fill(0xff, DAXFS_BRANCHING_BASE_OFFSET, DAXFS_BRANCHING_BASE_OFFSET + 8); // base magic
    writeFileSync(corrupt, bytes);
    const app = await open(corrupt);
    expect(app.frame()).toMatchInlineSnapshot(`
      "daxfs-tui: cannot open the image: <tmp>/corrupt.img: base super…
      [Validation: 1 problem]
      The image does not open: <tmp>/corrupt.img: base superblock: ba…
      checked 0 inodes, 0 directory entries, 1 branch, 0 log entries
      >base_super at 0x9000: magic: expected 0x64646135, got 0xffffffff (base superbl…















      base_super magic at 0x9000: base superblock: bad magic 0xffffffff (expected
      0x64646135, got 0xffffffff; corrupt)

       1 browse  2 log  3 diff [4 validate] ? help q quit"
    `);
    await app.press("1");
    expect(app.frame()).toContain("the image does not open:");
    app.close();
  });
});

describe("a wrong link count", () => {
  it("is reported under its inode, and Enter on it shows the file", async () => {
    const path = join(tmp.dir, "nlink.img");
    writeSampleImage(path);
    const source = FileImage.open(path, { writable: true });
    const opened = DaxfsImage.open(source);
    const motd = opened.view("main").resolve("/etc/motd");
    const table = DAXFS_BRANCHING_BASE_OFFSET + Number(opened.base?.superblock.inodeOffset ?? 0);
    const field = table + (motd - 1) * DaxfsBaseInode.size + DaxfsBaseInode.offsets.nlink;
    source.write(field, Uint8Array.of(5, 0, 0, 0));
    source.close();
    const app = await open(path);
    await app.press("4");
    expect(app.frame()).toContain(
      `>inode ${motd} at 0x${field.toString(16)}: nlink: expected 1 (directory entries naming it), got 5`,
    );
    await app.press(KEY.enter);
    expect(app.frame()).toContain(">      motd");
    expect(app.frame()).toContain(`inode ${motd} -rw-r--r-- 0:0 1991 B, 5 links`);
    await app.press(KEY.backspace);
    expect(app.frame()).toContain("[Validation: 1 problem]");
    app.close();
  });
});

describe("live refresh", () => {
  it("shows an append and a commit underneath within a poll, keeping the selection", async () => {
    const live = join(tmp.dir, "live.img");
    writeSampleImage(live);
    const app = await open(live, { pollMs: 40 });
    await app.press(KEY.down, KEY.tab, KEY.down, KEY.enter, KEY.down, KEY.down);
    expect(app.frame()).toContain(">      motd");
    writeInBranch(live, "agent", (files) => files.create("/etc/later", 0o644, { uid: 0, gid: 0 }));
    await app.waitFor(" +     later");
    expect(app.frame()).toContain(">      motd");
    const source = FileImage.open(live, { writable: true });
    const ctx = branchContext(source);
    commitBranch(ctx, ctx.image.findBranch("agent")?.id ?? -1);
    source.close();
    await app.waitFor("committed");
    expect(app.frame()).toContain("ESTALE");
    app.close();
  });
});

describe("split image", () => {
  it("reads file data from the backing file", async () => {
    const path = join(tmp.dir, "split.img");
    const backing = join(tmp.dir, "split.data");
    const split = buildSplitImage(sampleRoot(), { split: {} });
    writeFileSync(path, split.image);
    writeFileSync(backing, split.backing);
    const app = await open(path, { backing });
    await app.press(KEY.tab, KEY.down, KEY.enter, KEY.down);
    expect(app.frame()).toContain("/etc/hostname (6 bytes, 0-6)");
    expect(app.frame()).toContain("1 daxfs");
    app.close();
  });
});

describe("untrusted names", () => {
  it("shows control characters in names as \\xHH (as daxfs-inspect) and in contents as ?", async () => {
    const path = join(tmp.dir, "names.img");
    const root = sampleRoot();
    root.children.set("evil\u001b[2Jname", makeFile("red \u001b[31mtext\n"));
    writeFileSync(path, buildImage(root));
    const app = await open(path);
    await app.press(KEY.down, KEY.down);
    expect(app.frame()).toContain(">    evil\\x1b[2Jname");
    expect(app.frame()).toContain("1 red ?[31mtext");
    expect(app.frame()).not.toContain("\u001b");
    app.close();
  });
});

describe("static image", () => {
  it("has no branch pane", async () => {
    const path = join(tmp.dir, "static.img");
    writeFileSync(path, buildImage(sampleRoot()));
    const app = await open(path);
    expect(app.frame()).toMatchInlineSnapshot(`
      "<tmp>/static.img static, 7 inodes
      [Files of main]                  /bin (directory)
      >  > bin/                        inode 2 drwxr-xr-x 0:0 271 B, 2 links
         > etc/                        1 entry: 0 directories, 0 symlinks, 1 file
           lib             -> usr/lib


















      [1 browse] 2 log  3 diff  4 validate  ? help q quit"
    `);
    app.close();
  });
});

describe("renames and reused names", () => {
  it("marks a renamed file R with its old path, and diffs its contents against the old path", async () => {
    const path = join(tmp.dir, "rename.img");
    writeSampleImage(path);
    writeInBranch(path, "agent", (files) => files.rename("/etc/motd", "/etc/motd.old"));
    const app = await open(path);
    await app.press(KEY.down, "3");
    expect(app.frame()).toContain(" R /etc/motd.old  (from /etc/motd)");
    await app.press(KEY.down);
    expect(app.frame()).toContain("[Diff agent against main (parent): 3 changes]");
    expect(app.frame()).toContain("(the contents read are the same)");
    expect(app.frame()).not.toContain("+ line 1 of the motd");
    await app.press("1", KEY.tab, KEY.down, KEY.enter);
    expect(app.frame()).toContain(" R     motd.old");
    app.close();
  });
});

describe("deleted names", () => {
  it("shows what a branch deleted as - rows read from its parent, but not what it made and deleted", async () => {
    const path = join(tmp.dir, "deleted.img");
    writeSampleImage(path);
    writeInBranch(path, "agent", (files) => {
      files.unlink("/etc/motd");
      files.unlink("/etc/new");
    });
    const app = await open(path);
    await app.press(KEY.down, KEY.tab, KEY.down, KEY.enter, KEY.down, KEY.down);
    expect(app.frame()).toContain(">-     motd                1991");
    expect(app.frame()).toContain("/etc/motd (1991 bytes, 0-311)");
    expect(app.frame()).toContain("1 line 1 of the motd");
    expect(app.frame()).not.toContain("new");
    app.close();
  });
});

describe("a corrupt branch log", () => {
  it("opens in the validation view when main's delta log is random bytes", async () => {
    const path = join(tmp.dir, "noise.img");
    writeSampleImage(path);
    const source = FileImage.open(path, { writable: true });
    const ctx = branchContext(source);
    commitBranch(ctx, ctx.image.findBranch("agent")?.id ?? -1); // main's log now holds entries
    const main = branchContext(source).image.findBranch("main");
    if (!main) throw new Error("the sample image has no main");
    let seed = 7;
    const noise = Uint8Array.from({ length: 256 }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 24;
    });
    expect(main.logSize).toBeGreaterThan(0);
    source.write(main.logOffset, noise);
    source.close();
    const app = await open(path);
    expect(app.frame()).toContain("[4 validate]");
    expect(app.frame()).toMatch(/\[Validation: \d+ problems?\]/);
    app.close();
  });

  it("is reported by the validator, and Enter on the problem opens the log at the entry", async () => {
    const path = join(tmp.dir, "badlog.img");
    writeSampleImage(path);
    const source = FileImage.open(path, { writable: true });
    const { image: opened } = branchContext(source);
    const agent = opened.findBranch("agent");
    const entries = agent ? opened.readBranchLog(agent) : [];
    const second = entries[1]?.offset ?? -1;
    source.write(second, Uint8Array.of(99, 0, 0, 0)); // an entry type that does not exist
    source.close();
    const app = await open(path);
    await app.press("4");
    expect(app.frame()).toContain(">delta agent@0x11203b: entry: expected a well-formed delta entry");
    expect(app.frame()).toContain("delta agent@0x11203b entry at 0x11203b: delta entry: unknown type 99");
    await app.press(KEY.enter);
    expect(timeless(app.frame())).toMatchInlineSnapshot(`
      "<tmp>/badlog.img 7 inodes, seq 1, lock free, delta [#---------]…
      [Log of agent: 1 of 1 entry]
          OFFSET  TYPE     DETAILS
      >  0x112000  CREATE   ino 8  "new" in dir 4, mode 0100644, uid 0, gid 0















      entry at 0x112000, 59 bytes, <time>
      0x112000  CREATE   ino 8  "new" in dir 4, mode 0100644, uid 0, gid 0

      log stops here: delta entry: unknown type 99 (at 0x11203b)
       1 browse [2 log] 3 diff  4 validate  ? help q quit"
    `);
    app.close();
  });
});
