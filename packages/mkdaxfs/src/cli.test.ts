import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { DaxfsImage, decodeName, FileImage } from "@daxfs/core";
import { buildTree, canonicalLinkGroups, describeBuildTree, hostId, readBaseTree } from "@daxfs/core/testing";
import { DaxfsSuper, SuperFeature } from "@daxfs/format";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./cli.js";
import { buildToTarget } from "./mkdaxfs.js";
import { writeTreeToDisk } from "./testing/write-tree.js";

const runs = Number(process.env.DAXFS_FUZZ_RUNS ?? 25);
const scratch = mkdtempSync(join(tmpdir(), "mkdaxfs-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
const fresh = (name: string) => join(scratch, `${name}-${counter++}`);

class Capture extends Writable {
  text = "";
  constructor(readonly isTTY = false) {
    super();
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(args: string[], env: NodeJS.ProcessEnv = {}, tty = false) {
  const stdout = new Capture();
  const stderr = new Capture(tty);
  const code = await main(args, { stdout, stderr, env });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** A small fixed source tree (SPEC 2.11) with a hard link and a symlink. */
function exampleTree(): string {
  const dir = fresh("src");
  mkdirSync(join(dir, "subdir"), { recursive: true });
  writeFileSync(join(dir, "hello.txt"), "Hello from base image\n");
  writeFileSync(join(dir, "modify_me.txt"), "Original content\n");
  writeFileSync(join(dir, "subdir", "nested.txt"), "File in subdir\n");
  return dir;
}

describe("random trees on disk", () => {
  it("read back from the image equal to the source", async () => {
    await fc.assert(
      fc.asyncProperty(buildTree(5, hostId), fc.boolean(), async (tree, branching) => {
        const source = fresh("tree");
        writeTreeToDisk(tree, source);
        const image = fresh("img");
        const result = await run([
          "--byte-names",
          "-d",
          source,
          "-o",
          image,
          ...(branching ? ["-b", "-D", "1M"] : []),
        ]);
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        const bytes = readFileSync(image);
        expect(canonicalLinkGroups(readBaseTree(bytes))).toEqual(
          canonicalLinkGroups(describeBuildTree(tree)),
        );
        rmSync(source, { recursive: true });
        rmSync(image);
      }),
      { numRuns: runs },
    );
  });
});

describe("reproducibility", () => {
  it("two builds of one tree are byte-identical, and a tar of it builds the same bytes", async () => {
    const source = exampleTree();
    appendFileSync(join(source, "big"), Buffer.alloc(300_000, 7)); // over the copy_file_range threshold
    const [a, b, c] = [fresh("a"), fresh("b"), fresh("c")];
    expect((await run(["-d", source, "-o", a, "-b"], { SOURCE_DATE_EPOCH: "1700000000" })).code).toBe(0);
    expect((await run(["-d", source, "-o", b, "-b"], { SOURCE_DATE_EPOCH: "1700000000" })).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
    // A tar keeps whole seconds only; SOURCE_DATE_EPOCH clamps both sources' (newer) times alike.
    const tar = fresh("tree.tar");
    expect(spawnSync("tar", ["-C", source, "-cf", tar, "."]).status).toBe(0);
    expect((await run(["--tar", tar, "-o", c, "-b"], { SOURCE_DATE_EPOCH: "1700000000" })).code).toBe(0);
    expect(readFileSync(c).equals(readFileSync(a))).toBe(true);
  });

  it("keeps each file's mtime in its base inode, clamped by SOURCE_DATE_EPOCH; --zero-times stores none", async () => {
    const source = exampleTree();
    const file = join(source, "timed");
    writeFileSync(file, "x");
    utimesSync(file, 1_600_000_000.25, 1_600_000_000.5);
    utimesSync(source, 1_800_000_000, 1_800_000_000);
    const [kept, clamped, zeroed] = [fresh("kept"), fresh("clamped"), fresh("zeroed")];
    expect((await run(["-d", source, "-o", kept])).code).toBe(0);
    expect((await run(["-d", source, "-o", clamped], { SOURCE_DATE_EPOCH: "1700000000" })).code).toBe(0);
    expect((await run(["-d", source, "-o", zeroed, "--zero-times"])).code).toBe(0);
    const times = (path: string) => {
      const view = DaxfsImage.open(FileImage.open(path)).view();
      return {
        flags: DaxfsSuper.decode(readFileSync(path)).flags,
        file: view.stat(view.resolve("/timed")).mtime,
        root: view.stat(view.rootIno).mtime,
      };
    };
    const exact = lstatSync(file, { bigint: true }).mtimeNs;
    expect(exact).toBe(1_600_000_000_500_000_000n);
    expect(times(kept)).toEqual({
      flags: SuperFeature.BASE_MTIME,
      file: exact,
      root: 1_800_000_000_000_000_000n,
    });
    expect(times(clamped)).toEqual({
      flags: SuperFeature.BASE_MTIME,
      file: exact,
      root: 1_700_000_000_000_000_000n,
    });
    expect(times(zeroed)).toEqual({ flags: 0, file: 0n, root: 0n });
    // Tar input: the header's seconds (GNU format), PAX mtime with its fraction.
    const gnu = fresh("gnu.tar");
    const pax = fresh("pax.tar");
    expect(spawnSync("tar", ["-C", source, "-cf", gnu, "timed"]).status).toBe(0);
    expect(spawnSync("tar", ["-C", source, "--format=pax", "-cf", pax, "timed"]).status).toBe(0);
    const [fromGnu, fromPax] = [fresh("from-gnu"), fresh("from-pax")];
    expect((await run(["--tar", gnu, "-o", fromGnu])).code).toBe(0);
    expect((await run(["--tar", pax, "-o", fromPax])).code).toBe(0);
    expect(times(fromGnu).file).toBe(1_600_000_000_000_000_000n);
    expect(times(fromPax).file).toBe(exact);
  });
});

describe("argument checks (SPEC 2.1)", () => {
  // SPEC 2.1's own messages keep the public tool's words ("Error: ..."); the others are
  // "mkdaxfs: WHAT: reason". Either way one line and a pointer to --help, never the usage dump.
  const cases: Array<[string[], string]> = [
    [["-o", "x"], "Error: -d/--directory is required"],
    [["-d", "."], "Error: -o/--output, -H/--heap, or -p/--phys is required"],
    [["-d", ".", "-p", "0"], "Error: -o/--output, -H/--heap, or -p/--phys is required"],
    [["-d", ".", "-H", "/dev/dma_heap/system"], "Error: -m/--mountpoint is required with -H/--heap"],
    [["-d", ".", "-o", "x", "-s", "12Q"], "mkdaxfs: -s/--size: invalid size '12Q'"],
    [["-d", ".", "-o", "x", "-D", "lots"], "mkdaxfs: -D/--delta: invalid size 'lots'"],
    [["-d", ".", "-o", "x", "-C", "24"], "Error: --pcache-slots must be a power of 2"],
    [["-d", ".", "--tar", "t", "-o", "x"], "mkdaxfs: --tar: cannot be combined with -d/--directory"],
    [["-d", ".", "-o", "x", "--bogus"], "mkdaxfs: --bogus: unknown option"],
    [["-d", ".", "-o", "x", "extra"], "mkdaxfs: extra: unexpected argument"],
    [["-d"], "mkdaxfs: -d/--directory: missing value"],
    // An empty path (an unset variable in a script) is named, not "': no such file'" after the scan.
    [["-d", "", "-o", "x"], "mkdaxfs: -d/--directory: empty path"],
    [["-d", ".", "-o", ""], "mkdaxfs: -o/--output: empty path"],
    [["--tar", "a.tar", "--tar", "", "-o", "x"], "mkdaxfs: --tar: empty path"],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(" ")} → ${message}`, async () => {
      const result = await run(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`${message}\nTry 'mkdaxfs --help'.\n`);
      expect(result.stdout).toBe("");
    });
  }

  it("checks a bad size before it reads the source", async () => {
    // A source that does not exist: had the scan run first, the error would name it.
    const result = await run(["-d", "/nonexistent/tree", "-o", fresh("img"), "-D", "lots"]);
    expect(result.stderr.split("\n")[0]).toBe("mkdaxfs: -D/--delta: invalid size 'lots'");
    // A size that parses but cannot hold main's log is refused before the scan too.
    const small = await run(["-d", "/nonexistent/tree", "-o", fresh("img"), "-b", "-D", "1K"]);
    expect(small).toMatchObject({ code: 1, stdout: "" });
    expect(small.stderr).toBe(
      "mkdaxfs: -D/--delta: 1024 bytes cannot hold the main branch's log (1048576 bytes, 1M); give at least 1M\nTry 'mkdaxfs --help'.\n",
    );
    // -s 0 (or anything under a block) can hold no image: refused before the scan, as docs/cli.md says.
    for (const size of ["0", "4095"]) {
      const tiny = await run(["-d", "/nonexistent/tree", "-o", fresh("img"), "-s", size]);
      expect(tiny).toMatchObject({ code: 1, stdout: "" });
      expect(tiny.stderr).toBe(
        `mkdaxfs: -s/--size: ${size} bytes cannot hold an image (not even its 4096-byte superblock block); leave -s out for the computed size\nTry 'mkdaxfs --help'.\n`,
      );
    }
    // -D without -b means nothing (SPEC 2.1): only its syntax is checked.
    const unused = await run(["-d", "/nonexistent/tree", "-o", fresh("img"), "-D", "1K"]);
    expect(unused.stderr).toBe("mkdaxfs: /nonexistent/tree: no such file or directory\n");
  });

  it("checks where it will write before it reads the source", async () => {
    const missingSource = "/nonexistent/tree";
    const cases: Array<[string[], string]> = [
      [["-o", "/nonexistent/dir/img"], "mkdaxfs: -o/--output: /nonexistent/dir: no such directory"],
      [["-o", scratch], `mkdaxfs: -o/--output: ${scratch}: is a directory`],
      [
        ["-H", "/nonexistent/heap", "-m", scratch],
        "mkdaxfs: -H/--heap: /nonexistent/heap: no such DMA heap (character device)",
      ],
      [
        ["-H", "/dev/null", "-m", "/nonexistent/mnt"],
        "mkdaxfs: -m/--mountpoint: /nonexistent/mnt: no such directory",
      ],
    ];
    // What -o names must be a regular file or a new name: a directory, or a FIFO the rename at the
    // end would replace, is refused before the scan (a symlink is followed: write.test.ts).
    const fifo = fresh("fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    cases.push(
      [["-o", scratch], `mkdaxfs: -o/--output: ${scratch}: is a directory`],
      [["-o", `${scratch}/`], `mkdaxfs: -o/--output: ${scratch}/: is a directory`],
      [["-o", fifo], `mkdaxfs: -o/--output: ${fifo}: is a FIFO, not a regular file`],
      [["-o", ""], "mkdaxfs: -o/--output: empty path"],
      // Split mode: -o is the backing file, refused as early.
      [
        ["-H", "/dev/null", "-m", scratch, "-b", "-o", scratch],
        `mkdaxfs: -o/--output: ${scratch}: is a directory`,
      ],
    );
    for (const [args, line] of cases) {
      const result = await run(["-d", missingSource, ...args]);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`${line}\nTry 'mkdaxfs --help'.\n`);
    }
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("-o in a directory whose name is not UTF-8 (its exact bytes, not U+FFFD)", async () => {
    const dir = Buffer.concat([Buffer.from(fresh("out-")), Buffer.of(0xfc)]);
    mkdirSync(dir);
    const result = await run(["-d", exampleTree(), "-o", `${decodeName(dir)}/img`]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(readdirSync(dir)).toEqual(["img"]);
  });

  it("a missing source is the one line: no 'Scanning' before it", async () => {
    for (const source of [
      ["-d", "/nonexistent/tree"],
      ["--tar", "/nonexistent/layer.tar"],
    ]) {
      const result = await run([...source, "-o", fresh("img")]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe(`mkdaxfs: ${source[1]}: no such file or directory\n`);
    }
  });

  it("checks every source before it reads any: a missing last layer is named first", async () => {
    const first = fresh("layer.tar");
    writeFileSync(first, Buffer.alloc(1024, 0x41)); // no tar: had it been read, it would be the error
    const result = await run(["--tar", first, "--tar", "/nonexistent/layer2.tar", "-o", fresh("img")]);
    expect(result).toMatchObject({ code: 1, stdout: "" });
    expect(result.stderr).toBe("mkdaxfs: /nonexistent/layer2.tar: no such file or directory\n");
    // A source of the wrong kind is named the same way, before "Scanning".
    const wrongKinds: Array<[string[], string]> = [
      [["--tar", scratch], `${scratch}: is a directory, not a tar archive`],
      [["--from-image", scratch], `${scratch}: is a directory, not an image`],
      [["-d", first], `${first}: not a directory`],
    ];
    for (const [source, line] of wrongKinds) {
      const wrong = await run([...source, "-o", fresh("img")]);
      expect(wrong).toMatchObject({ code: 1, stdout: "", stderr: `mkdaxfs: ${line}\n` });
    }
  });

  it("--version prints the package and format versions", async () => {
    const result = await run(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^mkdaxfs \d+\.\d+\.\d+ \(DAXFS format v5\)\n$/);
    expect(result.stderr).toBe("");
  });

  it("with --json, usage and build errors are one JSON document on stdout", async () => {
    const usage = await run(["-d", ".", "-o", "x", "-s", "12Q", "--json"]);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toBe("");
    expect(JSON.parse(usage.stdout)).toEqual({
      error: { tool: "mkdaxfs", code: "EUSAGE", message: "-s/--size: invalid size '12Q'" },
    });
    const build = await run(["-d", "/nonexistent/tree", "-o", fresh("img"), "--json"]);
    expect(build.code).toBe(1);
    expect(build.stderr).toBe("");
    expect(JSON.parse(build.stdout)).toEqual({
      error: { tool: "mkdaxfs", code: "ENOENT", message: "/nonexistent/tree: no such file or directory" },
    });
  });

  it("-h prints usage to stderr and exits 0", async () => {
    const result = await run(["-h"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("-D, --delta <SIZE>");
    expect(result.stdout).toBe("");
  });

  it("rejects a malformed SOURCE_DATE_EPOCH", async () => {
    const result = await run(["-d", exampleTree(), "-o", fresh("img")], { SOURCE_DATE_EPOCH: "yesterday" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('mkdaxfs: SOURCE_DATE_EPOCH="yesterday" is not a non-negative integer\n');
  });

  it("-H reaches the dma-heap allocation (mounting needs the kernel module; only the failure path runs here)", async () => {
    // /dev/null passes the argument check (a character device) and fails the allocation.
    const result = await run(["-d", exampleTree(), "-H", "/dev/null", "-m", scratch, "-b"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^mkdaxfs: ioctl\(DMA_HEAP_IOCTL_ALLOC\) \/dev\/null: [^\n]*\(ENOTTY\)[^\n]*\n$/,
    );
  });
});

describe("bad input: one line naming the path, exit 1, nothing at -o", () => {
  async function expectFailure(args: string[], output: string, message: RegExp) {
    writeFileSync(output, "previous image");
    const result = await run([...args, "-o", output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(readFileSync(output, "utf8")).toBe("previous image");
    expect(readdirSync(join(output, "..")).filter((name) => name.includes(".mkdaxfs-"))).toEqual([]);
  }

  it("a tree bigger than -s", async () => {
    const source = exampleTree();
    await expectFailure(
      ["-d", source, "-s", "16K"],
      fresh("img"),
      new RegExp(`^mkdaxfs: ${source}: image size 32768 exceeds requested size 16384\n$`),
    );
  });

  it("a device node or FIFO with --strict (skipped with one warning otherwise)", async () => {
    const source = exampleTree();
    expect(spawnSync("mkfifo", [join(source, "pipe")]).status).toBe(0);
    expect(spawnSync("mknod", [join(source, "null"), "c", "1", "3"]).status).toBe(0);
    await expectFailure(
      ["-d", source, "--strict"],
      fresh("img"),
      /^mkdaxfs: .*\/null: character device cannot be stored/,
    );
    const result = await run(["-d", source, "-o", fresh("img")]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^mkdaxfs: warning: skipping .*\/null: character device/),
      expect.stringMatching(/^mkdaxfs: warning: skipping .*\/pipe: FIFO/),
    ]);
  });

  it("a name that is not UTF-8, without --byte-names", async () => {
    const source = exampleTree();
    writeFileSync(Buffer.concat([Buffer.from(`${source}/bad-`), Buffer.from([0xff, 0xfe])]), "x");
    await expectFailure(
      ["-d", source],
      fresh("img"),
      /^mkdaxfs: .*: \/bad-\\xff\\xfe: name is not valid UTF-8 \(--byte-names stores it as bytes\)\n$/,
    );
  });

  it("a name over 255 bytes (from a tar)", async () => {
    const source = fresh("long");
    mkdirSync(source);
    writeFileSync(join(source, "x"), "x");
    const tar = fresh("long.tar");
    // GNU tar stores the long name in a ././@LongLink record; the host file system cannot hold it.
    expect(
      spawnSync("tar", ["-C", source, "-cf", tar, "--transform", `s/x/${"y".repeat(300)}/`, "x"]).status,
    ).toBe(0);
    await expectFailure(
      ["--tar", tar],
      fresh("img"),
      /^mkdaxfs: \/y{300}: name is 300 bytes, the limit is 255\n$/,
    );
  });

  it("an unreadable file (run as nobody)", () => {
    const source = exampleTree();
    chmodSync(join(source, "modify_me.txt"), 0o000);
    const outDir = fresh("out");
    mkdirSync(outDir);
    chmodSync(outDir, 0o777);
    chmodSync(scratch, 0o755);
    const output = join(outDir, "img");
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", cli, "-d", source, "-o", output], {
      uid: 65534,
      gid: 65534,
      encoding: "utf8",
    });
    expect(result.stderr).toBe(`mkdaxfs: ${join(source, "modify_me.txt")}: permission denied\n`);
    expect(result.status).toBe(1);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(outDir)).toEqual([]);
    // An unreadable --tar layer, and an -o nobody may write, in the same words, before any work.
    const asNobody = (args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", cli, ...args], {
        uid: 65534,
        gid: 65534,
        encoding: "utf8",
      });
    const layer = join(outDir, "layer.tar");
    writeFileSync(layer, "");
    chmodSync(layer, 0o600);
    const tar = asNobody(["--tar", layer, "-o", output]);
    expect(tar).toMatchObject({ status: 1, stdout: "", stderr: `mkdaxfs: ${layer}: permission denied\n` });
    const rootOnly = fresh("root-only");
    mkdirSync(rootOnly, { mode: 0o755 });
    const unwritable = asNobody(["-d", source, "-o", join(rootOnly, "img")]);
    expect(unwritable).toMatchObject({
      status: 1,
      stdout: "",
      stderr: `mkdaxfs: -o/--output: ${rootOnly}: permission denied\nTry 'mkdaxfs --help'.\n`,
    });
  });

  it("a file that changes while it is copied", async () => {
    const source = exampleTree();
    const output = fresh("img");
    const options = {
      directory: source,
      tars: [],
      output,
      branching: false,
      validate: false,
      allRoot: false,
      exclude: [],
      strict: false,
    };
    await expect(
      buildToTarget(options, { onPlanned: () => appendFileSync(join(source, "hello.txt"), "more") }),
    ).rejects.toThrow(`${join(source, "hello.txt")}: file changed while being copied`);
    expect(existsSync(output)).toBe(false);
  });
  it("an uncompressed tar that changes while its members are copied in place", async () => {
    const source = exampleTree();
    const tar = fresh("src.tar");
    expect(spawnSync("tar", ["-C", source, "-cf", tar, "."]).status).toBe(0);
    const output = fresh("img");
    const options = {
      tars: [tar],
      output,
      branching: false,
      validate: false,
      allRoot: false,
      exclude: [],
      strict: false,
    };
    await expect(
      buildToTarget(options, { onPlanned: () => appendFileSync(tar, Buffer.alloc(512)) }),
    ).rejects.toThrow(`${tar}: file changed while being copied`);
    expect(existsSync(output)).toBe(false);
  });
});

describe("tree options", () => {
  it("--exclude leaves out names at any depth and anchored paths; --all-root zeroes owners", async () => {
    const source = exampleTree();
    writeFileSync(join(source, "subdir", "skip.o"), "");
    writeFileSync(join(source, "keep.o.txt"), "");
    const image = fresh("img");
    const result = await run([
      "-d",
      source,
      "-o",
      image,
      "--exclude",
      "*.o",
      "--exclude",
      "/subdir/nested.txt",
      "--all-root",
    ]);
    expect(result.code).toBe(0);
    const tree = readBaseTree(readFileSync(image));
    expect(Object.keys(tree.children ?? {}).sort()).toEqual([
      "hello.txt",
      "keep.o.txt",
      "modify_me.txt",
      "subdir",
    ]);
    expect(tree.children?.subdir?.children).toEqual({});
    expect(tree.children?.["hello.txt"]?.uid).toBe(0);
  });

  it("--json prints the summary: inodes, bytes, regions", async () => {
    const result = await run(["-d", exampleTree(), "-o", fresh("img"), "-b", "--json"]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      mode: "branching",
      inodes: 5,
      names: 5,
      files: 3,
      directories: 2,
      bytes: 0x4010000,
    });
    expect(summary.regions).toEqual([
      { name: "superblock", offset: 0, size: 4096 },
      { name: "branch table", offset: 4096, size: 32768 },
      { name: "base image", offset: 0x9000, size: 0x7000 },
      { name: "delta region", offset: 0x10000, size: 0x4000000 },
      { name: "main log", offset: 0x10000, size: 0x100000 },
    ]);
  });

  it("draws a progress bar only on a terminal", async () => {
    const source = exampleTree();
    expect((await run(["-d", source, "-o", fresh("img")], {}, false)).stderr).toBe("");
    expect((await run(["-d", source, "-o", fresh("img")], {}, true)).stderr).toContain("Copying [");
  });

  it("writes the public summary lines", async () => {
    const image = fresh("img");
    const result = await run(["-d", exampleTree(), "-o", image]);
    // Inodes by type, as daxfs-inspect info counts them (docs/cli.md "Counts").
    expect(result.stdout).toContain(
      "Found 5 inodes (2 directories, 3 regular files, 0 symlinks), 4 directory entries\n",
    );
    expect(result.stdout).toContain("Mode: static (read-only)");
    expect(result.stdout).toContain("  Base image:    0x1000 - 0x8000");
    expect(result.stdout.trim().endsWith("Done")).toBe(true);
    expect(DaxfsSuper.decode(readFileSync(image), 0).totalSize).toBe(0x8000n);
  });

  it("a reader that went away (| head) ends the report, not the build: no stack trace, exit 0", async () => {
    const image = fresh("img");
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", cli, "-d", exampleTree(), "-o", image], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.destroy(); // the read end closes before mkdaxfs prints its first line
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(DaxfsSuper.decode(readFileSync(image), 0).totalSize).toBe(0x8000n);
  });
});

/** Sets an extended attribute with Python (Node has no setxattr); false where the file system refuses. */
function setXattr(path: string, name: string): boolean {
  const script = "import os,sys; os.setxattr(sys.argv[1], sys.argv[2], b'\\x01\\x00\\x00\\x02')";
  return spawnSync("python3", ["-c", script, path, name]).status === 0;
}

// user.* needs a file system that takes them (ext4, tmpfs from 6.6); trusted.* needs root.
const xattrProbe = fresh("probe");
writeFileSync(xattrProbe, "");
const xattrName = ["user.daxfs-test", "trusted.daxfs-test"].find((name) => setXattr(xattrProbe, name));

describe.skipIf(xattrName === undefined)("extended attributes (not stored: v5 has no place for them)", () => {
  const treeWithXattrs = () => {
    const source = exampleTree();
    for (const file of ["hello.txt", "subdir/nested.txt"]) setXattr(join(source, file), xattrName!);
    return source;
  };

  it("-d: one warning counting the files, and the image is built", async () => {
    const image = fresh("img");
    const result = await run(["-d", treeWithXattrs(), "-o", image]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `mkdaxfs: warning: 2 files have extended attributes (${xattrName}), not stored\n`,
    );
    expect(existsSync(image)).toBe(true);
    expect((await run(["-d", exampleTree(), "-o", fresh("img")])).stderr).toBe("");
    // --json: the count in the document's warnings, nothing on stderr.
    const json = await run(["-d", treeWithXattrs(), "-o", fresh("img"), "--json"]);
    expect(json).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(json.stdout).warnings).toEqual([
      `2 files have extended attributes (${xattrName}), not stored`,
    ]);
  });

  it("-d --strict: an error naming the first file, nothing written", async () => {
    const image = fresh("img");
    const source = treeWithXattrs();
    const result = await run(["-d", source, "-o", image, "--strict"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^mkdaxfs: ${source}/\\S+: extended attribute ${xattrName} cannot be stored in a DAXFS image \\(--strict\\)\n$`,
      ),
    );
    expect(existsSync(image)).toBe(false);
  });

  it("--tar: GNU tar --xattrs records count the same way", async () => {
    const source = treeWithXattrs();
    const tar = fresh("x.tar");
    const made = spawnSync("tar", ["--xattrs", "--xattrs-include=*", "-C", source, "-cf", tar, "."]);
    expect(made.status, made.stderr.toString()).toBe(0);
    const result = await run(["--tar", tar, "-o", fresh("img")]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `mkdaxfs: warning: 2 files have extended attributes (${xattrName}), not stored\n`,
    );
    const strict = await run(["--tar", tar, "-o", fresh("img"), "--strict"]);
    expect(strict.stderr).toMatch(/^mkdaxfs: .*x\.tar-\d+: \.\/\S+: extended attribute .* \(--strict\)\n$/);
  });
});
