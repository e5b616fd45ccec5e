// daxfs-compact's command line (docs/space.md "Compaction", docs/cli.md "Messages"): the result
// shows main's tree and validates, in place or at -o; every bad input is one line
// `daxfs-compact: WHAT: reason`, exit 1, and nothing written (the input unchanged, no -o file, no
// temporary file left beside either).
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  acquireLease,
  branchContext,
  buildImage,
  buildSplitImage,
  createBranch,
  DaxfsImage,
  decodeName,
  FileImage,
  releaseLease,
  showName,
  validate,
} from "@daxfs/core";
import {
  CapturedOutput,
  describeMainOf,
  testDir,
  testFile,
  testSymlink,
  writeImageWithHistory,
} from "@daxfs/core/testing";
import { DaxfsGlobalCoord, DaxfsSuper } from "@daxfs/format";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

const scratch = mkdtempSync(join(tmpdir(), "daxfs-compact-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;
/** A fresh directory per test, so "nothing else was written" is a listing of it. */
const freshDir = () => {
  const dir = join(scratch, `t${counter++}`);
  mkdirSync(dir);
  return dir;
};

async function run(args: string[]) {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const tree = () => testDir({ etc: testDir({ status: testFile("1\n") }), sym: testSymlink("etc/status") });

/** A branching image at DIR/img whose main holds a committed branch's changes. */
function imageWithHistory(dir: string): string {
  const path = join(dir, "img");
  writeImageWithHistory(path);
  return path;
}

const mainTree = describeMainOf;

describe("daxfs-compact", () => {
  it("replaces IMAGE in place by default; the tree stays, the logs are gone", async () => {
    const dir = freshDir();
    const path = imageWithHistory(dir);
    const before = mainTree(path);
    chmodSync(path, 0o600);
    const { code, stdout, stderr } = await run([path]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain(`Wrote ${path} (in place)`);
    // The counts mkdaxfs prints (docs/cli.md "Counts"): inodes by type, directory entries.
    // Main holds /, etc, sym and one file under three names (etc/status, etc/status-old, link)
    // besides etc/new: 5 inodes, 6 names below the root.
    expect(stdout.split("\n")[0]).toBe(
      `${path}: main folded into a new base (5 inodes (2 directories, 2 regular files, 1 symlink), 6 directory entries)`,
    );
    expect(mainTree(path)).toEqual(before);
    const image = DaxfsImage.openFile(path);
    expect(image.branches().map((r) => [r.name, r.logSize])).toEqual([["main", 0]]);
    expect(image.deltaRegion?.size).toBe(2 << 20);
    expect(validate(image.source).problems).toEqual([]);
    image.close();
    expect(readdirSync(dir)).toEqual(["img"]);
  });

  it("an IMAGE whose path is not UTF-8: compacted in place by its bytes, named escaped", async () => {
    const parent = freshDir();
    const dir = Buffer.concat([Buffer.from(join(parent, "d")), Buffer.of(0xfc)]);
    mkdirSync(dir);
    renameSync(imageWithHistory(parent), Buffer.concat([dir, Buffer.from("/img")]));
    const path = `${decodeName(dir)}/img`;
    const before = mainTree(path);
    const { code, stdout, stderr } = await run([path]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain(`Wrote ${showName(path)} (in place)`);
    expect(stdout).toContain("d\\xfc/img");
    expect(mainTree(path)).toEqual(before);
    expect(readdirSync(dir)).toEqual(["img"]);
  });

  it("-o writes elsewhere and leaves IMAGE alone; --json, -D and --static shape the result", async () => {
    const dir = freshDir();
    const path = imageWithHistory(dir);
    const original = readFileSync(path);
    const out = join(dir, "out");
    const { code, stdout } = await run([path, "-o", out, "-D", "4M", "--json"]);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ input: path, output: out, inPlace: false, mode: "branching" });
    expect(summary).toMatchObject({ inodes: 5, names: 7, directories: 2, files: 2, symlinks: 1 });
    expect(summary.deltaRegionBytes).toBe(4 << 20);
    expect(readFileSync(path).equals(original)).toBe(true);
    expect(mainTree(out)).toEqual(mainTree(path));
    expect((await run([path, "-o", out, "--static"])).code).toBe(0);
    const image = DaxfsImage.openFile(out);
    expect(image.branching).toBe(false);
    image.close();
  });

  it("--sparse leaves the result's blocks of zeros as holes (a file of zeros, the delta region), same bytes", async () => {
    const dir = freshDir();
    const path = join(dir, "img");
    writeFileSync(path, buildImage(testDir({ zeros: testFile(new Uint8Array(8 << 20)) })));
    const sparse = join(dir, "sparse");
    const full = join(dir, "full");
    expect((await run([path, "-o", sparse, "-b", "-D", "4M", "--sparse"])).code).toBe(0);
    expect((await run([path, "-o", full, "-b", "-D", "4M"])).code).toBe(0);
    const allocated = (file: string) => statSync(file).blocks * 512;
    expect(allocated(full)).toBeGreaterThanOrEqual(12 << 20);
    expect(allocated(sparse)).toBeLessThan(1 << 20);
    expect(readFileSync(sparse).equals(readFileSync(full))).toBe(true);
  });

  it("leaves a static image alone: nothing to fold, nothing written, exit 0; -b still converts", async () => {
    const dir = freshDir();
    const path = join(dir, "static.img");
    writeFileSync(path, buildImage(tree()));
    const original = readFileSync(path);
    const said = `${path}: a static image has no main: nothing to fold, nothing written (-b makes it a branching image)\n`;
    expect(await run([path])).toEqual({ code: 0, stdout: said, stderr: "" });
    expect(await run([path, "-o", join(dir, "out")])).toEqual({ code: 0, stdout: said, stderr: "" });
    expect(await run([path, "-o", dir])).toMatchObject({
      code: 1,
      stderr: `daxfs-compact: -o/--output: ${dir}: is a directory\nTry 'daxfs-compact --help'.\n`,
    });
    expect(JSON.parse((await run([path, "--json"])).stdout)).toMatchObject({ folded: false, output: null });
    expect(readdirSync(dir)).toEqual(["static.img"]);
    expect(readFileSync(path).equals(original)).toBe(true);
    const { code, stdout } = await run([path, "-b"]);
    expect(code).toBe(0);
    expect(stdout).toContain(`Wrote ${path} (in place)`);
    const image = DaxfsImage.openFile(path);
    expect(image.branching).toBe(true);
    image.close();
  });

  it("--force drops active branches, saying which", async () => {
    const dir = freshDir();
    const path = imageWithHistory(dir);
    const source = FileImage.open(path, { writable: true });
    createBranch(branchContext(source), "agent-7", "main");
    source.close();
    const { code, stderr } = await run([path, "--force"]);
    expect(code).toBe(0);
    expect(stderr).toBe(`daxfs-compact: warning: ${path}: active branches dropped: agent-7\n`);
  });

  /** Runs a failing command; checks the one line, the exit status and that nothing was written. */
  async function refused(dir: string, args: string[], line: string | RegExp) {
    const files = readdirSync(dir).sort();
    const contents = files.map((f) => readFileSync(join(dir, f)));
    const { code, stdout, stderr } = await run(args);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    const lines = stderr.split("\n").filter((l) => l !== "");
    if (typeof line === "string") expect(lines[0]).toBe(line);
    else expect(lines[0]).toMatch(line);
    expect(lines.length === 1 || lines[1] === "Try 'daxfs-compact --help'.").toBe(true);
    expect(lines.length).toBeLessThanOrEqual(2);
    expect(readdirSync(dir).sort()).toEqual(files);
    const unchanged = files.map((f, i) => readFileSync(join(dir, f)).equals(contents[i] as Buffer));
    expect(unchanged).toEqual(files.map(() => true));
  }

  it("prints --help and -h on stdout (as every tool but mkdaxfs, whose public tool uses stderr), exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await run([flag]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
      expect(stdout).toMatch(/^Usage: daxfs-compact IMAGE \[options\]\n/);
    }
  });

  it("refuses a bad command line with a short usage error", async () => {
    const dir = freshDir();
    const path = imageWithHistory(dir);
    await refused(dir, [], "daxfs-compact: IMAGE: missing argument");
    await refused(dir, [path, "other"], "daxfs-compact: other: unexpected argument");
    await refused(dir, [""], "daxfs-compact: IMAGE: empty path");
    await refused(dir, [path, "-o", ""], "daxfs-compact: -o/--output: empty path");
    await refused(dir, [path, "--bogus"], "daxfs-compact: --bogus: unknown option");
    await refused(dir, [path, "-D", "12Q"], /^daxfs-compact: -D\/--delta: /);
    // The words and the Try line of mkdaxfs's -D check (core's requireDeltaSize).
    await refused(
      dir,
      [path, "-D", "1K"],
      "daxfs-compact: -D/--delta: 1024 bytes cannot hold the main branch's log (1048576 bytes, 1M); give at least 1M",
    );
    const { stderr } = await run([path, "-D", "1K"]);
    expect(stderr.split("\n")[1]).toBe("Try 'daxfs-compact --help'.");
    await refused(
      dir,
      [path, "--static", "-b"],
      "daxfs-compact: --static: cannot be combined with -b/--branching",
    );
    await refused(
      dir,
      [path, "--static", "-D", "4M"],
      "daxfs-compact: -D/--delta: a static image has no delta region",
    );
    // A bad -o is named before any work, with the words and Try line of mkdaxfs's -o (a static
    // image, which has nothing to fold, included: it used to exit 0 whatever -o was).
    await refused(dir, [path, "-o", dir], `daxfs-compact: -o/--output: ${dir}: is a directory`);
    await refused(
      dir,
      [path, "-o", "/nonexistent/dir/out.img"],
      "daxfs-compact: -o/--output: /nonexistent/dir: no such directory",
    );
    await refused(
      dir,
      [path, "-o", join(path, "out.img")],
      `daxfs-compact: -o/--output: ${path}: not a directory`,
    );
    const json = await run([path, "--bogus", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error.code).toBe("EUSAGE");
  });

  it("refuses every image it cannot compact: one line naming it, exit 1, nothing written", async () => {
    const dir = freshDir();
    const path = imageWithHistory(dir);
    await refused(
      dir,
      [join(dir, "missing")],
      `daxfs-compact: ${join(dir, "missing")}: no such file or directory`,
    );
    await refused(dir, [dir], `daxfs-compact: ${dir}: is a directory, not an image`);
    const junk = join(dir, "junk");
    writeFileSync(junk, new Uint8Array(8192).fill(0x41));
    await refused(dir, [junk], new RegExp(`^daxfs-compact: ${junk}: .*magic`));
    const tiny = join(dir, "tiny");
    writeFileSync(tiny, "x");
    await refused(dir, [tiny], new RegExp(`^daxfs-compact: ${tiny}: .*too small`));
    await refused(
      dir,
      [path, "-o", join(dir, "no/such/dir/out")],
      `daxfs-compact: -o/--output: ${join(dir, "no/such/dir")}: no such directory`,
    );

    // Active branches, named.
    const source = FileImage.open(path, { writable: true });
    const ctx = branchContext(source);
    createBranch(ctx, "agent-1", "main");
    createBranch(ctx, "agent-2", "agent-1");
    source.close();
    await refused(
      dir,
      [path],
      `daxfs-compact: ${path}: active branches would be lost: agent-1, agent-2 (commit or abort them, or --force)`,
    );
    const json = await run([path, "--json"]);
    expect({ code: json.code, stderr: json.stderr }).toEqual({ code: 1, stderr: "" });
    expect(JSON.parse(json.stdout).error).toMatchObject({ tool: "daxfs-compact", code: "EBUSY" });
  });

  it("refuses a mounted image (a live lease) and a split image", async () => {
    const dir = freshDir();
    const path = join(dir, "img");
    writeFileSync(path, buildImage(tree(), { branching: true, deltaSize: 2 << 20 }));
    const source = FileImage.open(path, { writable: true });
    const ctx = branchContext(source);
    const lease = acquireLease(ctx, ctx.image.findBranch("main")?.id as number);
    await refused(
      dir,
      [path],
      `daxfs-compact: ${path}: the image is mounted (1 live lease); unmount it first, or --force`,
    );
    releaseLease(ctx, lease);
    // The coordination lock held (as a commit in progress holds it).
    const word = Buffer.alloc(4);
    word.writeUInt32LE(1);
    source.write(DaxfsSuper.offsets.coord + DaxfsGlobalCoord.offsets.coordLock, word);
    source.close();
    await refused(
      dir,
      [path],
      `daxfs-compact: ${path}: the coordination lock is held (a branch operation in progress, or a holder that died); retry, or --force`,
    );
    const split = join(dir, "split");
    writeFileSync(split, buildSplitImage(tree(), { split: {} }).image);
    await refused(
      dir,
      [split],
      `daxfs-compact: ${split}: a split image keeps its file data in a backing file; it cannot be folded offline`,
    );
  });

  it("a corrupt main log is one line naming the image", async () => {
    const dir = freshDir();
    const path = imageWithHistory(dir);
    const image = DaxfsImage.openFile(path);
    const record = image.findBranch("main");
    image.close();
    const bytes = readFileSync(path);
    // Damage the first entry's type: replay of main stops there.
    bytes.fill(0xee, (record?.logOffset as number) + 0, (record?.logOffset as number) + 2);
    writeFileSync(path, bytes);
    await refused(dir, [path], new RegExp(`^daxfs-compact: ${path}: `));
  });
});
