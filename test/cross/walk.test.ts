// The comparators of the cross tests must be able to fail: a difference in any field is reported
// with both values, a kernel bench error fails instead of skipping, and the host reference starts
// from exactly the tree the image holds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildImage, makeDir, makeFile, makeSymlink } from "@daxfs/core";
import { afterAll, describe, expect, it } from "vitest";
import { GuestSession, planKernels } from "./guest.js";
import { materialize } from "./ops.js";
import {
  diffWalks,
  expectSameWalk,
  fsWalk,
  guestWalk,
  hostComparable,
  modelWalk,
  type WalkEntry,
} from "./walk.js";

const file = (path: string, extra: Partial<WalkEntry> = {}): WalkEntry => ({
  path,
  type: "file",
  mode: 0o100644,
  uid: 0,
  gid: 0,
  size: 3,
  nlink: 1,
  sha256: "ab".repeat(32),
  ...extra,
});

describe("diffWalks", () => {
  it("is empty for equal walks and names every differing field with both values", () => {
    expect(diffWalks("x", [file("./a")], "y", [file("./a")])).toBe("");
    const diff = diffWalks("x", [file("./a"), file("./b")], "y", [
      file("./a", { mode: 0o104755, nlink: 2, sha256: "cd".repeat(32) }),
      file("./c"),
    ]);
    expect(diff).toContain('"./a": mode x=0100644 y=0104755, nlink x=1 y=2, sha256 x=');
    expect(diff).toContain('"./b": only in x');
    expect(diff).toContain('"./c": only in y');
    expect(() => expectSameWalk("x", [file("./a")], "y", [file("./a", { target: "t" })])).toThrow(/target/);
    expect(() => expectSameWalk("x", [], "y", [])).toThrow(/empty walk/);
  });
});

describe("guestWalk", () => {
  it("reads walkScript output: modes in hex, hashes and link targets by path, names with spaces and UTF-8", () => {
    const walk = guestWalk([
      "S|.|41ed|0|0|542|3|0",
      "S|./ü x|81a4|1000|100|3|2|8",
      "S|./l|a1ff|7|8|5|1|0",
      `H|${"ab".repeat(32)}|./ü x`,
      "L|./l|a|b c",
    ]);
    expect(walk).toEqual([
      { path: ".", type: "dir", mode: 0o40755, uid: 0, gid: 0, size: 542, nlink: 3 },
      { path: "./l", type: "symlink", mode: 0o120777, uid: 7, gid: 8, size: 5, nlink: 1, target: "a|b c" },
      file("./ü x", { uid: 1000, gid: 100, nlink: 2 }),
    ]);
  });
});

describe("the host reference", () => {
  const dir = mkdtempSync(join(tmpdir(), "daxfs-cross-walk-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("materializes a built tree (owners, modes incl. set-user-ID, hard links, symlinks) as the image model walks it", () => {
    const root = makeDir({ mode: 0o751, uid: 3, gid: 4 });
    const shared = makeFile("shared\n", { mode: 0o4755, uid: 1000, gid: 100 });
    const sub = makeDir({ mode: 0o700, uid: 65534, gid: 65534 });
    sub.children.set("日本", makeFile(new Uint8Array(5000).fill(7), { mode: 0o600 }));
    sub.children.set("hard", shared);
    root.children.set("sub", sub);
    root.children.set("hard", shared);
    root.children.set("link", makeSymlink("sub/日本", { uid: 9, gid: 10 }));
    root.children.set("empty", makeFile(""));
    materialize(root, join(dir, "tree"));
    const host = hostComparable(fsWalk(join(dir, "tree")));
    expect(host.find((e) => e.path === "./hard")).toMatchObject({ nlink: 2, mode: 0o104755, uid: 1000 });
    expectSameWalk("host", host, "image model", hostComparable(modelWalk(buildImage(root))));
  });
});

describe("planKernels", () => {
  it("lists a kernel that cannot be booted as missing, with the reason, and must run under CI=true", () => {
    const plan = planKernels(["0.0-no-such-kernel"]);
    expect(plan.run).toEqual([]);
    expect(plan.missing).toEqual([
      { kernel: "0.0-no-such-kernel", reason: expect.stringMatching(/cannot be booted here: needs qemu/) },
    ]);
    expect(plan.mustRun).toBe(process.env.CI === "true");
  });
});

describe("GuestSession", () => {
  it("turns a bench error into failing checks, not skips", async () => {
    const guest = new GuestSession("0.0-no-such-kernel");
    await guest.boot([{ name: "x", bytes: new Uint8Array(4096) }], []);
    expect(() => guest.walk("x")).toThrow(/QEMU bench failed on Linux 0.0-no-such-kernel/);
  });
});
