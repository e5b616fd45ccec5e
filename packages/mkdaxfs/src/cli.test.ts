import { spawnSync } from "node:child_process";
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
import { DaxfsImage, FileImage } from "@daxfs/core";
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
        const result = await run(["-d", source, "-o", image, ...(branching ? ["-b", "-D", "1M"] : [])]);
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
  const cases: Array<[string[], string]> = [
    [["-o", "x"], "Error: -d/--directory is required"],
    [["-d", "."], "Error: -o/--output, -H/--heap, or -p/--phys is required"],
    [["-d", ".", "-p", "0"], "Error: -o/--output, -H/--heap, or -p/--phys is required"],
    [["-d", ".", "-H", "/dev/dma_heap/system"], "Error: -m/--mountpoint is required with -H/--heap"],
    [["-d", ".", "-o", "x", "-s", "12Q"], "Error: invalid size '12Q' for -s/--size"],
    [["-d", ".", "-o", "x", "-D", "lots"], "Error: invalid size 'lots' for -D/--delta"],
    [["-d", ".", "-o", "x", "-C", "24"], "Error: --pcache-slots must be a power of 2"],
    [["-d", ".", "--tar", "t", "-o", "x"], "Error: -d/--directory and --tar cannot be combined"],
    [["-d", ".", "-o", "x", "--bogus"], "error: unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(" ")} → ${message}`, async () => {
      const result = await run(args);
      expect(result.code).toBe(1);
      expect(result.stderr.split("\n")[0]).toBe(message);
      expect(result.stderr).toContain("Usage: mkdaxfs");
      expect(result.stdout).toBe("");
    });
  }

  it("-h prints usage to stderr and exits 0", async () => {
    const result = await run(["-h"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("-D, --delta <SIZE>");
    expect(result.stdout).toBe("");
  });

  it("rejects a malformed SOURCE_DATE_EPOCH", async () => {
    const result = await run(["-d", exampleTree(), "-o", fresh("img")], { SOURCE_DATE_EPOCH: "yesterday" });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Error: SOURCE_DATE_EPOCH="yesterday" is not a non-negative integer\n');
  });

  it("-H reaches the dma-heap allocation (mounting needs the kernel module; only the failure path runs here)", async () => {
    const result = await run(["-d", exampleTree(), "-H", join(scratch, "no-such-heap"), "-m", scratch, "-b"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("no-such-heap");
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
      new RegExp(`^Error: ${source}: image size 32768 exceeds requested size 16384\n$`),
    );
  });

  it("a device node or FIFO with --strict (skipped with one warning otherwise)", async () => {
    const source = exampleTree();
    expect(spawnSync("mkfifo", [join(source, "pipe")]).status).toBe(0);
    expect(spawnSync("mknod", [join(source, "null"), "c", "1", "3"]).status).toBe(0);
    await expectFailure(
      ["-d", source, "--strict"],
      fresh("img"),
      /^Error: .*\/null: character device cannot be stored/,
    );
    const result = await run(["-d", source, "-o", fresh("img")]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^Warning: skipping .*\/null: character device/),
      expect.stringMatching(/^Warning: skipping .*\/pipe: FIFO/),
    ]);
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
      /^Error: \/y{300}: name is 300 bytes, the limit is 255\n$/,
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
    expect(result.stderr).toBe(`Error: ${join(source, "modify_me.txt")}: permission denied\n`);
    expect(result.status).toBe(1);
    expect(existsSync(output)).toBe(false);
    expect(readdirSync(outDir)).toEqual([]);
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
    expect(result.stdout).toContain("Mode: static (read-only)");
    expect(result.stdout).toContain("  Base image:    0x1000 - 0x8000");
    expect(result.stdout.trim().endsWith("Done")).toBe(true);
    expect(DaxfsSuper.decode(readFileSync(image), 0).totalSize).toBe(0x8000n);
  });
});
