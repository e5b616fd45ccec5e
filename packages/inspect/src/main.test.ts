import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  abortBranch,
  acquireLease,
  BranchFiles,
  BranchWriter,
  branchContext,
  buildImage,
  createBranch,
  DaxfsImage,
  ensureMain,
  MemoryImage,
  releaseLease,
} from "@daxfs/core";
import {
  appendNewFile,
  buildTestImage as buildSplitTestImage,
  buildTestImageWithLogs as buildTestImage,
  createEntry,
  testDir as dir,
  testFile as file,
  renameEntry,
  sampleTree,
  symlinkEntry,
  writeEntry,
} from "@daxfs/core/testing";
import { DaxfsBranch, DeltaType } from "@daxfs/format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main, normalizeArgs } from "./main.js";

let work: string;
let staticImage: string;
let logsImage: string;
let corruptLog: string;
let badMagic: string;

async function inspect(...args: string[]) {
  let stdout = "";
  let stderr = "";
  const chunks: Uint8Array[] = [];
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
    },
    stdoutBytes: (bytes) => {
      chunks.push(bytes.slice());
      stdout += Buffer.from(bytes).toString("latin1");
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr, bytes: Buffer.concat(chunks) };
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "daxfs-inspect-"));
  staticImage = join(work, "static.img");
  writeFileSync(staticImage, buildImage(sampleTree()));
  const logs = buildTestImage(dir({ "a.txt": file("abc"), docs: dir({ x: file("x") }) }), {
    deltaSize: 256 * 1024,
    branches: [
      {
        name: "main",
        id: 1,
        parentId: 0,
        entries: [
          createEntry(DeltaType.CREATE, 1, 5, "n", 0o100644),
          writeEntry(5, 0, new TextEncoder().encode("AB\n")),
        ],
      },
      {
        name: "feature",
        id: 2,
        parentId: 1,
        entries: [
          createEntry(DeltaType.MKDIR, 3, 6, "sub", 0o040755),
          symlinkEntry(6, 7, "ln", "../a.txt"),
          renameEntry(1, 6, 2, "a.txt", "b.txt"),
          writeEntry(4, 1, new TextEncoder().encode("YY")),
        ],
      },
    ],
  });
  logsImage = join(work, "logs.img");
  writeFileSync(logsImage, logs);
  const broken = logs.slice();
  const featureLog = Number(DaxfsBranch.decode(broken, 4096 + DaxfsBranch.size).deltaLogOffset);
  broken[featureLog] = 0x99; // unknown entry type
  corruptLog = join(work, "corrupt-log.img");
  writeFileSync(corruptLog, broken);
  const magic = logs.slice();
  magic[0] = magic[0]! ^ 0xff;
  badMagic = join(work, "bad-magic.img");
  writeFileSync(badMagic, magic);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("argument forms", () => {
  it("moves IMAGE after the subcommand and defaults to the summary", () => {
    expect(normalizeArgs(["x.img"])).toEqual(["summary", "--image", "x.img"]);
    expect(normalizeArgs(["x.img", "--json"])).toEqual(["summary", "--image", "x.img", "--json"]);
    expect(normalizeArgs(["x.img", "ls", "/a"])).toEqual(["ls", "--image", "x.img", "/a"]);
    // Right after the subcommand: never the value of an option that lacks one, never after `--`.
    expect(normalizeArgs(["x.img", "ls", "-b"])).toEqual(["ls", "--image", "x.img", "-b"]);
    expect(normalizeArgs(["x.img", "cat", "--", "-f"])).toEqual(["cat", "--image", "x.img", "--", "-f"]);
    expect(normalizeArgs(["list", "-m", "/mnt"])).toEqual(["list", "-m", "/mnt"]);
    // Options alone: the summary's (-m is no unknown option), but the top level's --help and --version.
    expect(normalizeArgs(["-m", "/mnt"])).toEqual(["summary", "-m", "/mnt"]);
    expect(normalizeArgs(["--json"])).toEqual(["summary", "--json"]);
    expect(normalizeArgs(["--help"])).toEqual(["--help"]);
    expect(normalizeArgs(["--version"])).toEqual(["--version"]);
    expect(() => normalizeArgs(["x.img", "frob"])).toThrow("frob: unknown subcommand");
    // Options before the subcommand move after it; an option's value is never taken for one.
    expect(normalizeArgs(["x.img", "--json", "info"])).toEqual(["info", "--image", "x.img", "--json"]);
    expect(normalizeArgs(["-m", "/mnt", "ls", "/a"])).toEqual(["ls", "-m", "/mnt", "/a"]);
    expect(normalizeArgs(["--json", "x.img", "tree"])).toEqual(["tree", "--image", "x.img", "--json"]);
    expect(normalizeArgs(["x.img", "-b", "info", "stat", "/f"])).toEqual([
      "stat",
      "--image",
      "x.img",
      "-b",
      "info",
      "/f",
    ]);
    expect(normalizeArgs(["x.img", "ls", "tree"])).toEqual(["ls", "--image", "x.img", "tree"]);
  });

  it("accepts the public forms with an image file", async () => {
    const list = await inspect("list", logsImage);
    expect(list.code).toBe(0);
    const lines = list.stdout.split("\n");
    expect(lines[0]).toBe(
      "ID    NAME                  STATE       PARENT      REFCNT    GEN     DELTA_USED    DELTA_CAP",
    );
    expect(lines[1]).toMatch(/^-+$/);
    expect(lines[2]).toMatch(/^1 {5}main {18}active {6}- {11}0 /);
    expect(lines[3]).toMatch(/^2 {5}feature {15}active {6}main /);
    expect(list.stdout).toContain("Total: 2 branches, 254 slots available");

    const info = await inspect("info", logsImage, "-b", "feature");
    expect(info.code).toBe(0);
    expect(info.stdout).toMatch(/^Branch: feature\n {2}ID: +2\n {2}State: +active\n/);
    expect(info.stdout).toMatch(/Parent: +main \(id:1\)/);
    expect(info.stdout).toMatch(/MKDIR: +1/);
    expect(info.stdout).not.toMatch(/CREATE:/);

    const missing = await inspect("info", logsImage, "-b", "nope");
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toBe(`daxfs-inspect: ${logsImage}: branch 'nope' not found\n`);
    // A static image has no branch at all, not even main: tree -b's words (core's BranchView).
    for (const args of [
      ["info", staticImage, "-b", "main"],
      [staticImage, "log"],
      [staticImage, "tree", "-b", "x"],
    ]) {
      const branch = args[1] === "tree" ? "x" : "main";
      expect(await inspect(...args)).toMatchObject({
        code: 1,
        stdout: "",
        stderr: `daxfs-inspect: ${staticImage}: a static image has no branch "${branch}"\n`,
      });
    }

    const status = await inspect("status", logsImage);
    expect(status.code).toBe(0);
    for (const heading of [
      "DAXFS Memory Status",
      "Format:",
      "Base image:",
      "Branch table:",
      "Global coordination:",
      "Delta region:",
      "Inodes:",
    ]) {
      expect(status.stdout).toContain(`${heading}\n`);
    }
    expect(status.stdout).toMatch(/Next branch ID: +3/);
  });

  it("bad arguments: one line and a pointer to --help, never the usage itself", async () => {
    for (const [args, line] of [
      [[logsImage, "frob"], "daxfs-inspect: frob: unknown subcommand"],
      [["help", "frob"], "daxfs-inspect: frob: unknown subcommand"],
      [[logsImage, "tree", "--bogus"], "daxfs-inspect: --bogus: unknown option"],
      [[logsImage, "ls", "/", "extra"], "daxfs-inspect: extra: unexpected argument"],
      [[logsImage, "stat"], "daxfs-inspect: PATH: missing argument"],
      [[logsImage, "ls", "-b"], "daxfs-inspect: -b/--branch: missing value"],
      [[""], "daxfs-inspect: IMAGE: empty path"],
      [
        ["--backing", "data.img"],
        "daxfs-inspect: IMAGE: an image file, -m/--mount or -p/--phys is required (the image comes first: daxfs-inspect IMAGE COMMAND ...)",
      ],
      [["ls", "-m", ""], "daxfs-inspect: -m/--mount: empty path"],
      // Before the image is opened: a missing image is not the error then.
      [
        ["/nonexistent.img", "validate", "--max-problems", "0"],
        "daxfs-inspect: --max-problems: invalid count '0'",
      ],
      [[logsImage, "validate", "--max-problems", "0"], "daxfs-inspect: --max-problems: invalid count '0'"],
      [["list", "-p", "0x1000"], "Error: -s/--size is required with -p/--phys"],
      [["list", "-p", "zz", "-s", "1M"], "daxfs-inspect: -p/--phys: invalid address 'zz'"],
      [["list", "-p", "0x1000", "-s", "0"], "daxfs-inspect: -s/--size: 0 bytes hold no image"],
      [
        ["tree", "x.img"],
        "daxfs-inspect: IMAGE: an image file, -m/--mount or -p/--phys is required (the image comes first: daxfs-inspect IMAGE COMMAND ...)",
      ],
    ] as const) {
      const result = await inspect(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toBe(`${line}\nTry 'daxfs-inspect --help'.\n`);
    }
  });

  // Where the host has no /dev/mem (a container): the system's words, not a bare "ENOENT".
  it.runIf(!existsSync("/dev/mem"))("-p without /dev/mem is one I/O error line (exit 2)", async () => {
    const result = await inspect("info", "-p", "0x1000", "-s", "1M");
    expect(result).toMatchObject({ code: 2, stderr: "daxfs-inspect: /dev/mem: no such file or directory\n" });
  });

  it("a --backing that cannot be opened is an I/O error naming it alone (exit 2), in every subcommand", async () => {
    for (const args of [
      [logsImage, "--backing", "/nonexistent/backing", "info"],
      [logsImage, "validate", "--backing", "/nonexistent/backing"],
      [logsImage, "tree", "--backing", "/nonexistent/backing"],
    ]) {
      const result = await inspect(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toBe("daxfs-inspect: /nonexistent/backing: no such file or directory\n");
    }
    // Any errno in words: an image path through a file was a bare "ENOTDIR".
    const through = await inspect(`${logsImage}/x`, "info");
    expect(through).toMatchObject({ code: 2, stderr: `daxfs-inspect: ${logsImage}/x: not a directory\n` });
  });

  it("a subcommand's --help shows the image before it", async () => {
    expect((await inspect("tree", "--help")).stdout).toMatch(
      /^Usage: daxfs-inspect IMAGE tree \[options\] \[path\]\n/,
    );
    expect((await inspect("info", "--help")).stdout).toMatch(
      /^Usage: daxfs-inspect info \[options\] \[image\]\n/,
    );
  });

  it("--version prints the package and format versions", async () => {
    const result = await inspect("--version");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^daxfs-inspect \d+\.\d+\.\d+ \(DAXFS format v5\)\n$/);
  });

  it("with --json, every failure is one JSON document on stdout", async () => {
    for (const [args, code, status] of [
      [[logsImage, "info", "-b", "nope", "--json"], "ENOENT", 1],
      [[badMagic, "tree", "--json"], "EUCLEAN", 1],
      [[join(work, "missing.img"), "tree", "--json"], "ENOENT", 2],
      [[logsImage, "tree", "--bogus", "--json"], "EUSAGE", 2],
    ] as const) {
      const result = await inspect(...args);
      expect(result.code, args.join(" ")).toBe(status);
      expect(result.stderr, args.join(" ")).toBe("");
      const { error } = JSON.parse(result.stdout) as {
        error: { tool: string; code: string; message: string };
      };
      expect(error, args.join(" ")).toMatchObject({ tool: "daxfs-inspect", code });
      expect(error.message.length).toBeGreaterThan(0);
    }
  });

  it("reports usage errors with exit status 2", async () => {
    for (const args of [
      ["list"],
      ["list", "-p", "0x1000"],
      [logsImage, "frob"],
      ["list", "-m", "/x", logsImage],
      [join(work, "missing.img")],
    ]) {
      const result = await inspect(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr.split("\n")[0], args.join(" ")).toMatch(/^(daxfs-inspect|Error): /);
      expect(
        result.stderr.split("\n").filter((l) => l && !l.startsWith("Try ")),
        args.join(" "),
      ).toHaveLength(1);
    }
  });
});

describe("subcommands on valid images", () => {
  it("summary: regions and the branch tree", async () => {
    const { code, stdout } = await inspect(logsImage);
    expect(code).toBe(0);
    expect(stdout).toMatch(/base image +0x9000 +24576/);
    expect(stdout).toMatch(/main \[id 1\] active, gen 0, log \d+\/65536 bytes/);
    expect(stdout).toMatch(/└── feature \[id 2\] active/);
  });

  it("info warns when more than 90% of the delta region is in use, and counts reusable space as free", async () => {
    const bytes = buildImage(dir({ "a.txt": file("abc") }), { branching: true, deltaSize: 2 << 20 });
    const source = new MemoryImage(bytes);
    const ctx = branchContext(source);
    ensureMain(ctx);
    const full = createBranch(ctx, "full", "main");
    const writer = BranchWriter.forRecord(ctx, full);
    // 28 x 32 KiB: with main's 1 MiB, over 90% of 2 MiB (a log grows in place by an eighth).
    for (let i = 0; i < 28; i++) appendNewFile(writer, `f${i}`, new Uint8Array(32 * 1024));
    const path = join(work, "full.img");
    writeFileSync(path, bytes);
    const lease = acquireLease(ctx, full.id);
    writeFileSync(path, bytes);
    const warned = await inspect(path, "info");
    expect(warned.code).toBe(0);
    expect(warned.stdout).toContain(`  Mount leases:  pid ${process.pid} on branch ${full.id}\n`);
    releaseLease(ctx, lease);
    expect(warned.stdout).toMatch(
      /\nWarning: .*full\.img: delta region (9\d|100)% used \(\d+ of 2097152 bytes\)/,
    );
    abortBranch(ctx, full.id); // no mount holds it: its log counts as free again
    writeFileSync(path, bytes);
    const after = await inspect(path, "info");
    expect(after.stdout).not.toMatch(/Warning/);
    expect(after.stdout).toMatch(/In use: +\d+ bytes \(\d+\.?\d*%; the rest is reusable\)/);
  });

  it("info names the format extensions an image uses, none for plain v5", async () => {
    const plain = await inspect(logsImage, "info");
    expect(plain.stdout).toMatch(/^Extensions: +none \(plain v5\)$/m);
    expect(JSON.parse((await inspect(logsImage, "info", "--json")).stdout).extensions).toEqual([]);
    // A branch that called link() and utimens() (the bits are set with the first such entry).
    const bytes = buildImage(dir({ f: file("x") }), { branching: true, deltaSize: 4 << 20 });
    const source = new MemoryImage(bytes, true);
    const ctx = branchContext(source);
    const record = createBranch(ctx, "b", "main");
    const files = new BranchFiles(DaxfsImage.open(source).view("b"), BranchWriter.forRecord(ctx, record));
    files.link("/f", "/g");
    files.utimens("/g", 1n, 2n);
    const path = join(work, "extensions.img");
    writeFileSync(path, bytes);
    expect((await inspect(path, "info")).stdout).toMatch(/^Extensions: +link, utimes$/m);
    expect(JSON.parse((await inspect(path, "info", "--json")).stdout).extensions).toEqual(["link", "utimes"]);
    expect((await inspect(path, "log", "b")).stdout).toMatch(/LINK +ino 2 +new name "g" in dir 1/);
    // utimens's times as UTC with every nanosecond, not a count of them.
    expect((await inspect(path, "log", "b")).stdout).toMatch(
      /UTIMES +ino 2 +atime 1970-01-01T00:00:00\.000000001Z, mtime 1970-01-01T00:00:00\.000000002Z$/m,
    );
  });

  it('info counts inodes by type, in mkdaxfs\'s terms (docs/cli.md "Counts")', async () => {
    const info = await inspect(logsImage, "info");
    expect(info.stdout).toMatch(/^ {2}Contents: +4 inodes \(2 directories, 2 regular files, 0 symlinks\)$/m);
    expect(info.stdout).toMatch(/^ {2}Inode table: +\+0x[0-9a-f]+, root inode 1$/m);
    const json = JSON.parse((await inspect(staticImage, "info", "--json")).stdout);
    const { directories, files, symlinks } = json.base.inodeTypes;
    expect(directories + files + symlinks).toBe(json.base.inodeCount);
    expect(symlinks).toBeGreaterThan(0); // sampleTree has a symlink
  });

  it("info on a split image: the page cache as core decodes it", async () => {
    const split = buildSplitTestImage(dir({ "a.txt": file("abc") }), { split: true, pageCacheSlots: 4 });
    const path = join(work, "split.img");
    writeFileSync(path, split.bytes);
    const { code, stdout } = await inspect(path, "info", "--json");
    expect(code).toBe(0);
    // No raw byte arrays (a Node Buffer serialises as {"type":"Buffer","data":[...]}).
    expect(stdout).not.toMatch(/"type": ?"Buffer"|"reserved"/);
    expect(JSON.parse(stdout)).toMatchObject({
      mode: "split",
      // The test image pre-warms the first backing page into its slot.
      pageCache: {
        slots: 4,
        hashShift: 2,
        headerValid: true,
        pending: 0,
        valid: 1,
        pendingSlots: 0,
        free: 3,
      },
    });
  });

  it("validate: verdict and exit 0", async () => {
    const { code, stdout } = await inspect(logsImage, "validate");
    expect(code).toBe(0);
    expect(stdout.trim().split("\n").at(-1)).toBe("No errors found");
  });

  it("tree, ls, stat and cat read through the branch view", async () => {
    const tree = await inspect(logsImage, "tree", "--branch", "feature");
    expect(tree.stdout).toBe(
      [
        "/",
        "├── docs/",
        "│   ├── sub/",
        "│   │   ├── b.txt",
        "│   │   └── ln -> ../a.txt",
        "│   └── x",
        "└── n",
        "",
        "6 directory entries (2 directories, 3 regular files, 1 symlink), 7 inodes",
        "",
      ].join("\n"),
    );
    const ls = await inspect(staticImage, "ls", "/docs");
    expect(
      ls.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split(" ").at(-1)),
    ).toEqual(["hard2", "nested", "readme.md"]);
    expect(ls.stdout).toMatch(/^-rw-r--r-- +2 +0 +0 +13 \d{4}-\d\d-\d\d \d\d:\d\d hard2$/m);
    const stat = await inspect(staticImage, "stat", "/link");
    expect(stat.stdout).toContain("File: /link -> hello.txt");
    expect(stat.stdout).toMatch(/^Modify: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/m);
    const cat = await inspect(logsImage, "cat", "/docs/x", "-b", "feature");
    expect(cat.bytes.toString()).toBe("xYY");
    const catMain = await inspect(logsImage, "cat", "/n");
    expect(catMain.bytes.toString()).toBe("AB\n");
  });

  it("stat and ls show the stored mtime in UTC (stat to the nanosecond, ls to the minute)", async () => {
    const path = join(work, "times.img");
    writeFileSync(path, buildImage(dir({ t: { ...file("x"), mtime: 1_500_000_000_123_456_789n } })));
    expect((await inspect(path, "stat", "/t")).stdout).toMatch(/^Modify: 2017-07-14T02:40:00\.123456789Z$/m);
    expect((await inspect(path, "ls", "/")).stdout).toMatch(/ 1 2017-07-14 02:40 t\n$/);
  });

  it("log decodes every entry; diff lists the branch's changes", async () => {
    const log = await inspect(logsImage, "log", "feature", "--json");
    const entries = JSON.parse(log.stdout).entries as { type: number }[];
    expect(entries.map((e) => e.type)).toEqual([
      DeltaType.MKDIR,
      DeltaType.SYMLINK,
      DeltaType.RENAME,
      DeltaType.WRITE,
    ]);
    // Without a branch, main's log.
    expect((await inspect(logsImage, "log")).stdout).toMatch(/^Branch main \(id 1\): 2 entries, /);
    const byId = await inspect(logsImage, "log", "id:2", "--json");
    expect(JSON.parse(byId.stdout).entries).toHaveLength(4);
    // Text: where things lie in the image in hex, sizes and file positions in decimal
    // (docs/cli.md "Numbers"); JSON keeps numbers.
    const decoded = JSON.parse(log.stdout).entries as { offset: number; dataOffset: number }[];
    const at = (n: number) => `0x${n.toString(16)}`.padStart(10);
    const text = (await inspect(logsImage, "log", "feature")).stdout.split("\n");
    expect(text[0]).toMatch(/^Branch feature \(id 2\): 4 entries, \d+ of \d+ bytes at 0x[0-9a-f]+$/);
    expect(text.slice(2, 6)).toEqual([
      `${at(decoded[0]!.offset)}  MKDIR    ino 6  "sub" in dir 3, mode 040755, uid 0, gid 0`,
      `${at(decoded[1]!.offset)}  SYMLINK  ino 7  "ln" in dir 6 -> "../a.txt"`,
      `${at(decoded[2]!.offset)}  RENAME   ino 2  dir 1 "a.txt" -> dir 6 "b.txt"`,
      `${at(decoded[3]!.offset)}  WRITE    ino 4  2 bytes at file offset 1, data at 0x${decoded[3]!.dataOffset.toString(16)}`,
    ]);
    const diff = await inspect(logsImage, "diff", "feature");
    expect(diff.stdout.split("\n").slice(1).filter(Boolean)).toEqual([
      "+ /docs/sub",
      "R /docs/sub/b.txt  (from /a.txt)",
      "+ /docs/sub/ln",
      "M /docs/x  (size 1 -> 3)",
    ]);
  });

  it("extract writes the tree, hard links and symlinks", async () => {
    const target = join(work, "out");
    const result = await inspect(staticImage, "extract", target);
    expect(result.code).toBe(0);
    // Names by type, as tree counts them; a hard link's bytes are written once.
    expect(result.stdout).toBe(
      `Extracted 11 directory entries (4 directories, 6 regular files, 1 symlink), 10426 bytes to ${target}\n`,
    );
    expect(readFileSync(join(target, "hello.txt"), "utf8")).toBe("hello, world\n");
    expect(readlinkSync(join(target, "link"))).toBe("hello.txt");
    expect(statSync(join(target, "hard1")).ino).toBe(statSync(join(target, "docs", "hard2")).ino);
    expect(readFileSync(join(target, "docs", "nested", "deep", "leaf.bin"))).toEqual(Buffer.alloc(5000, 7));
    const again = await inspect(staticImage, "extract", target);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/directory exists and is not empty/);
  });

  it("extract creates the target's missing parents (as its --help says)", async () => {
    const target = join(work, "new-parent", "and-another", "out");
    expect((await inspect(staticImage, "extract", target)).code).toBe(0);
    expect(readFileSync(join(target, "hello.txt"), "utf8")).toBe("hello, world\n");
    expect((await inspect("extract", "--help")).stdout).toMatch(/created with any missing parents/);
  });

  it("--json works on every subcommand", async () => {
    const runs: string[][] = [
      [logsImage, "--json"],
      [logsImage, "info", "--json"],
      [logsImage, "status", "--json"],
      [logsImage, "list", "--json"],
      [logsImage, "branches", "--json"],
      [logsImage, "ls", "--json"],
      [logsImage, "tree", "--json"],
      [logsImage, "stat", "/docs", "--json"],
      [logsImage, "cat", "/n", "--json"],
      [logsImage, "log", "main", "--json"],
      [logsImage, "diff", "feature", "--json"],
      [logsImage, "validate", "--json"],
      [logsImage, "extract", join(work, "json-out"), "--json"],
    ];
    const outputs = new Map<string, unknown>();
    for (const args of runs) {
      const { code, stdout } = await inspect(...args);
      expect(code, args.join(" ")).toBe(0);
      expect(() => JSON.parse(stdout), args.join(" ")).not.toThrow();
      outputs.set(args.slice(1).join(" ").replace(join(work, "json-out"), "DIR"), JSON.parse(stdout));
    }
    // The shape of each document: its fields and their types, not only that it parses.
    const num = expect.any(Number);
    const str = expect.any(String);
    const stat = {
      ino: num,
      mode: num,
      uid: num,
      gid: num,
      size: num,
      nlink: num,
      blocks: num,
      atime: num,
      mtime: num,
      ctime: num,
    };
    const record = {
      slot: num,
      id: num,
      parentId: num,
      name: str,
      state: num,
      logOffset: num,
      logSize: num,
      logCapacity: num,
      refcount: num,
      nextLocalIno: num,
      generation: num,
    };
    const listed = [
      { ...record, name: "main", stateName: "active" },
      { ...record, name: "feature", stateName: "active" },
    ];
    const info = {
      image: logsImage,
      mode: "branching",
      superblock: expect.objectContaining({ magic: 0x64617835, version: 5, blockSize: 4096, totalSize: num }),
      regions: expect.arrayContaining([expect.objectContaining({ name: str })]),
    };
    expect(outputs.get("--json")).toMatchObject({
      ...info,
      branchTree: { branches: listed, unattached: [] },
    });
    expect(outputs.get("info --json")).toMatchObject(info);
    expect(outputs.get("status --json")).toEqual({
      format: { magic: 0x64617835, version: 5, blockSize: 4096, totalSize: num },
      baseImage: { offset: num, size: num },
      branchTable: { entries: 256, active: 2, nextBranchId: 3 },
      coordination: { commitSequence: num, lastCommitted: str },
      deltaRegion: { offset: num, totalSize: num, allocated: num, free: num },
      inodes: { nextInodeId: num },
      pageCache: null,
    });
    expect(outputs.get("list --json")).toEqual({ branches: listed, total: 2, slotsAvailable: 254 });
    expect(outputs.get("branches --json")).toEqual({ branches: listed, unattached: [] });
    expect(outputs.get("ls --json")).toEqual(["a.txt", "docs", "n"].map((name) => ({ name, ...stat })));
    expect(outputs.get("tree --json")).toEqual(
      ["/", "/a.txt", "/docs", "/docs/x", "/n"].map((path) => ({ path, ...stat })),
    );
    expect(outputs.get("stat /docs --json")).toEqual({ path: "/docs", type: "directory", ...stat });
    expect(outputs.get("cat /n --json")).toEqual({ path: "/n", size: 3, base64: str });
    const log = outputs.get("log main --json") as { branch: unknown; entries: unknown[] };
    expect(log.branch).toEqual({ ...record, name: "main" });
    expect(log.entries.length).toBeGreaterThan(0);
    for (const entry of log.entries)
      expect(entry).toMatchObject({ offset: num, totalSize: num, ino: num, timestamp: num, type: num });
    const diff = outputs.get("diff feature --json") as { changes: { change: string }[] };
    expect(diff).toMatchObject({ branch: "feature", parent: "main" });
    expect(diff.changes.length).toBeGreaterThan(0);
    for (const change of diff.changes) {
      expect(change).toMatchObject({ change: str, path: str });
      expect(["added", "removed", "modified", "renamed"]).toContain(change.change);
    }
    expect(outputs.get("validate --json")).toEqual({
      image: logsImage,
      valid: true,
      verdict: "No errors found",
      problems: [],
      omitted: 0,
      stats: { inodes: num, directoryEntries: num, branches: 2, deltaEntries: num },
      seconds: num,
    });
    expect(outputs.get("extract DIR --json")).toEqual({
      target: str,
      directories: num,
      files: num,
      bytes: num,
    });
  });
});

describe("corrupt images", () => {
  it("validate lists problems as 'IMAGE: STRUCTURE at 0xOFF: FIELD: expected X, got Y' and exits 1", async () => {
    const { code, stdout } = await inspect(corruptLog, "validate");
    expect(code).toBe(1);
    const lines = stdout.trim().split("\n");
    const entry = Number(
      DaxfsBranch.decode(readFileSync(corruptLog), 4096 + DaxfsBranch.size).deltaLogOffset,
    );
    const at = `0x${entry.toString(16)}`;
    expect(lines[0]).toMatch(
      new RegExp(
        `^${corruptLog}: delta feature@${at}: entry: expected a well-formed delta entry, got a malformed one \\(.*unknown type 153\\)$`,
      ),
    );
    // --json keeps its shape: the offset a number, the structure and field apart.
    const json = JSON.parse((await inspect(corruptLog, "validate", "--json")).stdout);
    expect(json.problems[0]).toMatchObject({
      offset: entry,
      structure: `delta feature@${at}`,
      field: "entry",
    });
    expect(lines.at(-1)).toBe("Found some filesystem corruption");
  });

  it("every subcommand prints one error line and exits 1", async () => {
    const commands = [
      [],
      ["info"],
      ["status"],
      ["list"],
      ["branches"],
      ["ls"],
      ["tree"],
      ["stat", "/"],
      ["cat", "/n"],
      ["log", "main"],
      ["diff", "feature"],
      ["extract", join(work, "never")],
    ];
    for (const image of [badMagic]) {
      for (const command of commands) {
        const result = await inspect(image, ...command);
        expect(result.code, command.join(" ")).toBe(1);
        expect(result.stderr, command.join(" ")).toMatch(/^daxfs-inspect: .*bad magic.*\n$/);
      }
    }
    for (const command of [
      ["tree", "-b", "feature"],
      ["log", "feature"],
      ["diff", "feature"],
      ["cat", "/docs/x", "-b", "feature"],
    ]) {
      const result = await inspect(corruptLog, ...command);
      expect(result.code, command.join(" ")).toBe(1);
      expect(result.stderr, command.join(" ")).toMatch(/^daxfs-inspect: .*unknown type 153.*\n$/);
    }
    const validate = await inspect(badMagic, "validate");
    expect(validate.code).toBe(1);
    expect(
      validate.stdout.startsWith(
        `${badMagic}: superblock at 0x0: magic: expected 0x64617835, got 0x646178ca`,
      ),
    ).toBe(true);
  });

  it("names the image once in an error line, and refuses a directory as the image", async () => {
    const tree = await inspect(badMagic, "tree");
    expect(tree.stderr.split(badMagic)).toHaveLength(2);
    const directory = await inspect(work, "validate");
    expect(directory.code).toBe(2); // as a missing image: usage or I/O (docs/inspect.md)
    expect(directory.stderr).toBe(`daxfs-inspect: ${work}: is a directory, not an image\n`);
  });
});

// -m on a daxfs-fuse mount: the mount table names the image file, which is read directly. Needs
// /dev/fuse and root; reported as skipped otherwise.
const canMount = existsSync("/dev/fuse") && process.getuid?.() === 0;
describe.skipIf(!canMount)("-m on a daxfs-fuse mount", () => {
  it("lists branches and reads the tree of the mounted image", async () => {
    const { mountDaxfs } = await import("@daxfs/fuse-ref");
    const mountpoint = join(work, "mnt");
    mkdirSync(mountpoint);
    const mount = await mountDaxfs({ image: logsImage, mountpoint, log: () => {} });
    try {
      const list = await inspect("list", "-m", mountpoint);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(/^2 {5}feature /m);
      const tree = await inspect("tree", "-m", mountpoint, "-b", "feature", "--json");
      expect((JSON.parse(tree.stdout) as { path: string }[]).map((r) => r.path)).toContain("/docs/sub/ln");
      const notMount = await inspect("list", "-m", work);
      expect(notMount.code).toBe(2);
      expect(notMount.stderr).toMatch(/not a daxfs mount point/);
      const missing = join(work, "no-such-mount");
      expect(await inspect("list", "-m", missing)).toMatchObject({
        code: 2,
        stderr: `daxfs-inspect: ${missing}: no such file or directory\n`,
      });
    } finally {
      await mount.close();
    }
  });
});

describe("fuzzing the subcommands", () => {
  it("on damaged images every subcommand ends with exit 0, or exit 1 and one error line", async () => {
    const fc = (await import("fast-check")).default;
    const original = readFileSync(logsImage);
    const damaged = join(work, "damaged.img");
    const commands = [
      [],
      ["validate"],
      ["list"],
      ["status"],
      ["info", "-b", "feature"],
      ["tree", "-b", "feature"],
      ["log", "feature"],
      ["diff", "feature"],
      ["cat", "/docs/x", "-b", "feature"],
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(64 * 1024 - 1), value: fc.nat(255) }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.option(fc.nat(original.length), { nil: undefined }),
        async (writes, truncateAt) => {
          const bytes = Buffer.from(original);
          for (const { at, value } of writes) bytes[at] = value;
          writeFileSync(damaged, truncateAt === undefined ? bytes : bytes.subarray(0, truncateAt));
          for (const command of commands) {
            const result = await inspect(damaged, ...command);
            const label = `${command.join(" ")}: ${result.stderr}`;
            if (command[0] === "validate") expect([0, 1], label).toContain(result.code);
            else if (result.code !== 0) {
              expect(result.code, label).toBe(1);
              expect(result.stderr.split("\n").filter(Boolean), label).toHaveLength(1);
            }
          }
        },
      ),
      { seed: 4, numRuns: Number(process.env.DAXFS_FUZZ_RUNS ?? 40) },
    );
  });
});
