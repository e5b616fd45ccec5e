// daxfs-fuse's main runs in-process: the refusals that need no FUSE mount, each one line and exit 1.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buildImage } from "@daxfs/core";
import { testDir, testFile } from "@daxfs/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./main.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-fuse-main-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const status = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stop: new Promise(() => {}),
  });
  return { status, stdout, stderr };
}

describe("daxfs-fuse main", () => {
  it("prints help and exits 0", async () => {
    const result = await run(["--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^Usage: daxfs-fuse/);
    // How it ends and what becomes of the branch, for a user who started it with `&`.
    expect(result.stdout).toMatch(/until the mount goes \(fusermount -u MOUNTPOINT\)/);
    expect(result.stdout).toMatch(/uncommitted\nbranch is then dropped/);
    expect(result.stdout).not.toMatch(/default: \[\]/);
  });

  it("refuses a missing mount point, --parent without --branch and a missing image", async () => {
    const missing = await run(["image.img"]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^daxfs-fuse: MOUNTPOINT: missing argument\n/);
    expect(await run(["image.img", work, "extra"])).toEqual({
      status: 1,
      stdout: "",
      stderr: "daxfs-fuse: extra: unexpected argument\nTry 'daxfs-fuse --help'.\n",
    });
    expect(await run(["", work])).toEqual({
      status: 1,
      stdout: "",
      stderr: "daxfs-fuse: IMAGE: empty path\nTry 'daxfs-fuse --help'.\n",
    });
    // A bad -o names the option, before the image is opened.
    expect(await run(["image.img", work, "-o", "bogus=1"])).toEqual({
      status: 1,
      stdout: "",
      stderr: `daxfs-fuse: -o/--options: unknown mount option "bogus=1"\nTry 'daxfs-fuse --help'.\n`,
    });

    const parent = await run([join(work, "x.img"), work, "--parent", "main"]);
    expect(parent).toEqual({
      status: 1,
      stdout: "",
      stderr: "daxfs-fuse: --parent: needs --branch\nTry 'daxfs-fuse --help'.\n",
    });
    const version = await run(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout).toMatch(/^daxfs-fuse \d+\.\d+\.\d+ \(DAXFS format v5\)\n$/);

    // `daxfs-fuse: IMAGE: reason`, the image as given and the words of daxfs-inspect and mkdaxfs.
    const image = await run(["absent.img", work]);
    expect(image).toEqual({
      status: 1,
      stdout: "",
      stderr: "daxfs-fuse: absent.img: no such file or directory\n",
    });
    const tiny = join(work, "tiny.img");
    writeFileSync(tiny, "abc");
    const named = relative(process.cwd(), tiny);
    expect((await run([named, work])).stderr).toBe(
      `daxfs-fuse: ${named}: image of 3 bytes is too small for a superblock (at 0x0)\n`,
    );
    const directory = await run([work, work]);
    expect(directory).toEqual({
      status: 1,
      stdout: "",
      stderr: `daxfs-fuse: ${work}: is a directory, not an image\n`,
    });
  });

  it("refuses a missing mount point before it touches the image (no branch is created)", async () => {
    const path = join(work, "branching.img");
    writeFileSync(path, buildImage(testDir({ a: testFile("a") }), { branching: true }));
    const before = readFileSync(path);
    const mountpoint = join(work, "no-such-dir");
    const result = await run([path, mountpoint, "--branch", "b1", "--parent", "main"]);
    expect(result).toEqual({
      status: 1,
      stdout: "",
      stderr: `daxfs-fuse: ${mountpoint}: mount point does not exist\n`,
    });
    expect(readFileSync(path).equals(before)).toBe(true);
    const notDir = await run([path, path, "--branch", "b1", "--parent", "main"]);
    expect(notDir.stderr).toBe(`daxfs-fuse: ${path}: mount point is not a directory\n`);
    expect(readFileSync(path).equals(before)).toBe(true);
  });
});
