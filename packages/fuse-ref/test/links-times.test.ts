// Hard links and times on a daxfs-fuse branch (docs/semantics.md "Extensions", "Times";
// docs/fuse.md "Times"), through real system calls and the tools that need them: dpkg's
// link-then-replace, touch -d/-m/-a, tar x, make's rebuild after a touch. The model, reading the
// same image file, must report what the mount reports, and the validator must accept the image.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { DaxfsImage, FileImage, validate } from "@daxfs/core";
import { SuperFeature } from "@daxfs/format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dir, errno, FuseHarness, file, type RunningMount } from "../src/testing/index.js";
import {
  fuseNativeUtimensFixed,
  PATCHED_UTIME_NOW_MS,
  PATCHED_UTIME_OMIT_MS,
  utimensTimes,
} from "../src/utimens.js";

const sh = (cwd: string, script: string) => spawnSync("sh", ["-c", script], { cwd, encoding: "utf8" });

describe("daxfs-fuse: hard links and times in a branch", () => {
  const harness = new FuseHarness();
  let mount: RunningMount;
  let image: string;
  let mnt: string;
  const at = (path: string) => join(mnt, path);
  beforeAll(async () => {
    image = harness.image(dir({ var: dir({ status: file("ii hello\n") }), src: dir({}) }), 16 << 20);
    mount = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    mnt = mount.mountpoint;
  });
  afterAll(() => harness.cleanup());

  /** The model's view of the mounted branch, read from the image file as another process would. */
  const model = () => DaxfsImage.open(FileImage.open(image)).view("dev");

  it("link(): nlink, both names, unlink of one name, rename over the other, as on tmpfs", () => {
    fs.linkSync(at("var/status"), at("var/status-old"));
    const a = fs.statSync(at("var/status"));
    const b = fs.statSync(at("var/status-old"));
    expect(b.ino).toBe(a.ino);
    expect(a.nlink).toBe(2);
    fs.writeFileSync(at("var/status.new"), "ii hello\nii world\n");
    fs.renameSync(at("var/status.new"), at("var/status"));
    expect(fs.statSync(at("var/status-old")).nlink).toBe(1);
    expect(fs.readFileSync(at("var/status-old"), "utf8")).toBe("ii hello\n");
    fs.linkSync(at("var/status"), at("var/second"));
    fs.appendFileSync(at("var/second"), "ii third\n");
    expect(fs.readFileSync(at("var/status"), "utf8")).toBe("ii hello\nii world\nii third\n");
    fs.unlinkSync(at("var/status"));
    expect(fs.statSync(at("var/second")).nlink).toBe(1);
    expect(errno(() => fs.linkSync(at("var"), at("var2")))).toBe("EPERM");
    expect(errno(() => fs.linkSync(at("var/second"), at("var/status-old")))).toBe("EEXIST");
    expect(sh(mnt, "ln -s second var/sym && ln var/sym var/sym2 && readlink var/sym2").stdout).toBe(
      "second\n",
    );
    const view = model();
    const second = view.resolve("/var/second");
    expect(view.stat(second).nlink).toBe(1);
    expect(view.resolve("/var/sym2")).toBe(view.resolve("/var/sym"));
    expect(validate(FileImage.open(image)).problems).toEqual([]);
    expect(DaxfsImage.open(FileImage.open(image)).readSuper().flags & SuperFeature.LINK).toBe(
      SuperFeature.LINK,
    );
  });

  it("touch -d keeps the given time; new and written files get the time of their entries", () => {
    const before = Date.now();
    fs.writeFileSync(at("src/new.c"), "int main(void) { return 0; }\n");
    const made = fs.statSync(at("src/new.c"));
    expect(made.mtimeMs).toBeGreaterThanOrEqual(before - 1);
    expect(made.mtimeMs).toBeLessThanOrEqual(Date.now());
    expect(sh(mnt, "touch -d '2020-02-03 04:05:06.789 UTC' src/new.c").status).toBe(0);
    const touched = fs.statSync(at("src/new.c"));
    expect(touched.mtimeMs).toBe(Date.parse("2020-02-03T04:05:06.789Z"));
    expect(touched.atimeMs).toBe(touched.mtimeMs);
    expect(touched.ctimeMs).toBeGreaterThanOrEqual(before - 1);
    // The model reads the same times (the mount shows them to the ms).
    const view = model();
    const stat = view.stat(view.resolve("/src/new.c"));
    expect(Number(stat.mtime / 1_000_000n)).toBe(touched.mtimeMs);
    expect(Number(stat.ctime / 1_000_000n)).toBe(touched.ctimeMs);
    // touch without -d: now.
    const beforeTouch = Date.now();
    expect(sh(mnt, "touch src/new.c").status).toBe(0);
    expect(fs.statSync(at("src/new.c")).mtimeMs).toBeGreaterThanOrEqual(beforeTouch - 1);
    expect(validate(FileImage.open(image)).problems).toEqual([]);
  });

  it("cp -p and touch -d keep distinct atime and mtime (patched fuse-native addon)", () => {
    // scripts/setup.sh builds the patched addon; the upstream one passes the atime as both times.
    expect(fuseNativeUtimensFixed()).toBe(true);
    const source = join(harness.dir, "cp-source");
    fs.writeFileSync(source, "#!/bin/sh\necho hello\n");
    fs.utimesSync(source, 1_000_000_000, 1_234_567_890);
    expect(spawnSync("cp", ["-p", source, at("src/copied")]).status).toBe(0);
    const copied = fs.statSync(at("src/copied"));
    expect([copied.atimeMs, copied.mtimeMs]).toEqual([1_000_000_000_000, 1_234_567_890_000]);
    const view = model();
    const stat = view.stat(view.resolve("/src/copied"));
    expect([stat.atime, stat.mtime]).toEqual([1_000_000_000_000_000_000n, 1_234_567_890_000_000_000n]);
  });

  it("touch -m, touch -a and tar x set one time and keep the other (utimensat with UTIME_OMIT)", () => {
    // The kernel sends FUSE_SETATTR with only MTIME (or ATIME) set; libfuse 2.9 passes it on only
    // with fuse_operations.flag_utime_omit_ok (patches/fuse-native@2.2.6.patch, docs/fuse.md "Times").
    fs.writeFileSync(at("src/one-time"), "x\n");
    fs.utimesSync(at("src/one-time"), 1_000_000_000, 1_100_000_000);
    expect(sh(mnt, "touch -m -d '2001-02-03 UTC' src/one-time").status).toBe(0);
    const mOnly = fs.statSync(at("src/one-time"));
    expect([mOnly.atimeMs, mOnly.mtimeMs]).toEqual([1_000_000_000_000, Date.parse("2001-02-03T00:00:00Z")]);
    expect(sh(mnt, "touch -a -d '2002-03-04 UTC' src/one-time").status).toBe(0);
    const aOnly = fs.statSync(at("src/one-time"));
    expect([aOnly.atimeMs, aOnly.mtimeMs]).toEqual([
      Date.parse("2002-03-04T00:00:00Z"),
      Date.parse("2001-02-03T00:00:00Z"),
    ]);
    const view = model();
    const stat = view.stat(view.resolve("/src/one-time"));
    expect([stat.atime, stat.mtime]).toEqual([
      BigInt(Date.parse("2002-03-04T00:00:00Z")) * 1_000_000n,
      BigInt(Date.parse("2001-02-03T00:00:00Z")) * 1_000_000n,
    ]);
    // GNU tar x restores each member's mtime with the atime UTIME_OMIT.
    const tree = join(harness.dir, "tar-tree");
    fs.mkdirSync(join(tree, "d"), { recursive: true });
    fs.writeFileSync(join(tree, "d/member"), "member\n");
    fs.utimesSync(join(tree, "d/member"), 1_300_000_000, 1_234_567_890);
    fs.utimesSync(join(tree, "d"), 1_300_000_000, 1_200_000_000);
    const archive = join(harness.dir, "tree.tar");
    expect(spawnSync("tar", ["-cf", archive, "-C", tree, "d"]).status).toBe(0);
    fs.mkdirSync(at("src/untar"));
    const untar = spawnSync("tar", ["-xf", archive, "-C", at("src/untar")], { encoding: "utf8" });
    expect(untar.stderr).toBe("");
    expect(untar.status).toBe(0);
    expect(fs.statSync(at("src/untar/d/member")).mtimeMs).toBe(1_234_567_890_000);
    expect(fs.statSync(at("src/untar/d")).mtimeMs).toBe(1_200_000_000_000);
    // touch with no time: both UTIME_NOW, one instant for both.
    expect(sh(mnt, "touch src/one-time").status).toBe(0);
    const nowView = model();
    const touched = nowView.stat(nowView.resolve("/src/one-time"));
    expect(touched.atime).toBe(touched.mtime);
    expect(touched.mtime).toBeGreaterThan(BigInt(Date.parse("2002-03-04T00:00:00Z")) * 1_000_000n);
  });

  it("make rebuilds after a source is touched, and not otherwise", () => {
    fs.writeFileSync(at("src/in.txt"), "v1\n");
    fs.writeFileSync(at("src/Makefile"), "out.txt: in.txt\n\tcp in.txt out.txt\n");
    // Sources older than the build, as after a checkout.
    expect(sh(at("src"), "touch -d '2021-01-01 UTC' in.txt Makefile").status).toBe(0);
    expect(sh(at("src"), "make").stdout).toBe("cp in.txt out.txt\n");
    expect(sh(at("src"), "make").stdout).toMatch(/is up to date/);
    fs.writeFileSync(at("src/in.txt"), "v2\n");
    expect(sh(at("src"), "make").stdout).toBe("cp in.txt out.txt\n");
    expect(fs.readFileSync(at("src/out.txt"), "utf8")).toBe("v2\n");
    expect(sh(at("src"), "touch in.txt && make").stdout).toBe("cp in.txt out.txt\n");
    expect(sh(at("src"), "make").stdout).toMatch(/is up to date/);
  });
});

describe("utimensTimes (fuse-native's utimens arguments)", () => {
  const now = () => 42n;
  it("upstream addon: takes the one time it passes for both, and its UTIME_NOW/OMIT value as now", () => {
    expect(utimensTimes(1_580_702_706_789, 1_580_702_706_789, false, now)).toEqual({
      atime: 1_580_702_706_789_000_000n,
      mtime: 1_580_702_706_789_000_000n,
    });
    expect(utimensTimes(1073, 1073, false, now)).toEqual({ atime: 42n, mtime: 42n });
  });
  it("patched addon: both times, UTIME_NOW as now, UTIME_OMIT left alone", () => {
    expect(utimensTimes(PATCHED_UTIME_OMIT_MS, 1_000, true, now)).toEqual({
      atime: undefined,
      mtime: 1_000_000_000n,
    });
    expect(utimensTimes(PATCHED_UTIME_NOW_MS, 5, true, now)).toEqual({ atime: 42n, mtime: 5_000_000n });
  });
  it("patched addon: both UTIME_NOW read the clock once (touch: atime equals mtime)", () => {
    let clock = 100n;
    const ticking = () => clock++;
    expect(utimensTimes(PATCHED_UTIME_NOW_MS, PATCHED_UTIME_NOW_MS, true, ticking)).toEqual({
      atime: 100n,
      mtime: 100n,
    });
  });
});
