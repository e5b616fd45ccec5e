// daxfs-fuse -o (docs/fuse.md "Mount options"): libfuse options pass through, unknown ones are
// refused with one line, main is mounted ro (statfs and /proc/mounts say so), a second uid can use
// an allow_other mount, and the process exits after `fusermount -u`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { DaxfsImage, readLeases } from "@daxfs/core";
import { afterEach, describe, expect, it } from "vitest";
import { parseMountOptions } from "../src/mount-options.js";
import { dir, errno, FuseHarness, file } from "../src/testing/index.js";

let harness: FuseHarness | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const canMount = fs.existsSync("/dev/fuse") && process.getuid?.() === 0;

/** The per-mount and super options of `mountpoint` in /proc/self/mountinfo. */
function mountOptions(mountpoint: string): { mount: string[]; super: string[] } {
  const line = fs
    .readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .find((l) => l.split(" ")[4] === mountpoint);
  if (!line) throw new Error(`${mountpoint} is not mounted`);
  const fields = line.split(" ");
  const after = line.split(" - ")[1]?.split(" ") ?? [];
  return { mount: (fields[5] ?? "").split(","), super: (after[2] ?? "").split(",") };
}

/** Runs `argv` as uid/gid 65534 (nobody): what a second user in a chroot sees. */
function asNobody(argv: string[]) {
  return spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", ...argv], {
    encoding: "utf8",
  });
}

describe("daxfs-fuse mount options", () => {
  it("passes known options through, adds ro for main, refuses unknown ones and rw on main", () => {
    expect(parseMountOptions(["allow_other,default_permissions"], false)).toEqual([
      "allow_other",
      "default_permissions",
      "ro",
    ]);
    expect(parseMountOptions(["nosuid", "umask=022,allow_other"], true)).toEqual([
      "nosuid",
      "umask=022",
      "allow_other",
    ]);
    expect(() => parseMountOptions(["allow_other,bogus"], true)).toThrow('unknown mount option "bogus"');
    expect(() => parseMountOptions(["allow_other=1"], true)).toThrow(/takes no value/);
    expect(() => parseMountOptions(["umask=999"], true)).toThrow(/bad value/);
    expect(() => parseMountOptions(["rw"], false)).toThrow(/main is read-only/);
  });

  it.skipIf(!canMount)("refuses an unknown option with one line before touching the image", () => {
    harness = new FuseHarness();
    const image = harness.image(dir({ "a.txt": file("a") }));
    const before = fs.readFileSync(image);
    const result = harness.failMount(image, ["--branch", "b", "--parent", "main", "-o", "allow_other,bogus"]);
    expect(result).toEqual({
      status: 1,
      output: `daxfs-fuse: -o/--options: unknown mount option "bogus"\nTry 'daxfs-fuse --help'.\n`,
    });
    expect(fs.readFileSync(image).equals(before)).toBe(true);
  });

  it.skipIf(!canMount)(
    "mounts main ro with allow_other,default_permissions; a second uid reads it",
    async () => {
      harness = new FuseHarness();
      fs.chmodSync(harness.dir, 0o755); // mkdtemp's 0700 would stop nobody before the mount does
      const image = harness.image(dir({ "a.txt": file("alpha", 0o644), "secret.txt": file("s", 0o600) }));
      const main = await harness.mount(image, ["-o", "allow_other,default_permissions"]);
      const options = mountOptions(main.mountpoint);
      expect(options.mount).toContain("ro"); // what statvfs's ST_RDONLY and /proc/mounts report
      expect(options.super).toEqual(expect.arrayContaining(["ro", "allow_other", "default_permissions"]));
      expect(errno(() => fs.writeFileSync(join(main.mountpoint, "new.txt"), "x"))).toBe("EROFS");
      const read = asNobody(["cat", join(main.mountpoint, "a.txt")]);
      expect({ status: read.status, stdout: read.stdout }).toEqual({ status: 0, stdout: "alpha" });
      // default_permissions: the kernel checks modes, so 0600 root's file is closed to nobody.
      const denied = asNobody(["cat", join(main.mountpoint, "secret.txt")]);
      expect(denied.status).not.toBe(0);
      expect(denied.stderr).toMatch(/Permission denied/);
    },
  );

  it.skipIf(!canMount)("mounts a branch rw, and without allow_other a second uid is kept out", async () => {
    harness = new FuseHarness();
    fs.chmodSync(harness.dir, 0o755);
    const image = harness.image(dir({ "a.txt": file("alpha") }));
    const branch = await harness.mount(image, ["--branch", "b", "--parent", "main", "-o", "nosuid"]);
    const options = mountOptions(branch.mountpoint);
    expect(options.mount).toEqual(expect.arrayContaining(["rw", "nosuid"]));
    fs.writeFileSync(join(branch.mountpoint, "new.txt"), "x");
    expect(asNobody(["ls", branch.mountpoint]).status).not.toBe(0);
  });

  it.skipIf(!canMount)("exits after fusermount -u, releasing its lease and dropping its branch", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({ "a.txt": file("alpha") }));
    const branch = await harness.mount(image, ["--branch", "b", "--parent", "main"]);
    const exited = new Promise<number | null>((ok) => branch.process.on("exit", (code) => ok(code)));
    expect(spawnSync("fusermount", ["-u", branch.mountpoint]).status).toBe(0);
    // A generous bound: the test is that it exits by itself, not how fast (docs/fuse.md says 0.1 s polls).
    const code = await Promise.race([
      exited,
      new Promise((ok) => setTimeout(() => ok("still running"), 20_000)),
    ]);
    expect(code).toBe(0);
    const opened = DaxfsImage.openFile(image);
    try {
      expect(opened.findBranch("b")).toBeUndefined(); // dropped at unmount
      expect(readLeases(opened)).toEqual([]); // its lease was given back
    } finally {
      opened.close();
    }
  });
});
