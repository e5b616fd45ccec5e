// Cross-implementation read test (NOTES.md "Semantics", last rule): one image from buildImage,
// walked by the image model (BranchView), by a read-only daxfs-fuse mount (node:fs) and by the
// kernel module in a QEMU guest (busybox find/stat/sha256sum); every walk must equal the source
// tree's expected walk (path, type, mode, uid, gid, size, nlink, content hash, link target).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type BuildDir, buildImage, makeDir, makeFile, makeSymlink } from "@daxfs/core";
import { FuseHarness } from "@daxfs/fuse-ref/testing";
import { afterAll, beforeAll, describe, it } from "vitest";
import { expectedWalk, patternBytes, sourceTree } from "../kernel/tree.js";
import { walkScript } from "../kernel/walk.js";
import { GuestSession, planKernels, walkScenario } from "./guest.js";
import { expectSameWalk, fsWalk, modelWalk, typeOfMode, type WalkEntry } from "./walk.js";

/** test/kernel's source tree (sizes around page boundaries, 300-entry directory, deep nesting, links) plus more names, modes and owners. */
function crossTree(): BuildDir {
  const root = sourceTree();
  const names = makeDir({ mode: 0o2755, uid: 123456, gid: 654321 });
  for (const [i, name] of [
    "日本語.txt",
    "emoji-😀",
    "Ωmega",
    "combining-e\u0301",
    "mixed ünï 中文",
    "dash-leading",
    "dots...",
  ].entries())
    names.children.set(name, makeFile(patternBytes(i * 777, i + 11), { uid: i, gid: 1000 + i }));
  names.children.set("→ target", makeSymlink("日本語.txt"));
  root.children.set("ünïcode", names);

  const modes = makeDir({ mode: 0o711 });
  for (const mode of [0o000, 0o400, 0o600, 0o640, 0o755, 0o2750, 0o4711, 0o6755, 0o7777])
    modes.children.set(`m${mode.toString(8)}`, makeFile(`mode ${mode.toString(8)}\n`, { mode }));
  modes.children.set("dir-1777", makeDir({ mode: 0o1777 }));
  modes.children.set("dir-000", makeDir({ mode: 0o000 }));
  root.children.set("modes", modes);

  // Hard links: an empty file under three names in three directories, a multi-block one under two.
  const empty = makeFile(new Uint8Array(0), { mode: 0o600, uid: 9, gid: 9 });
  root.children.set("empty-link-1", empty);
  modes.children.set("empty-link-2", empty);
  names.children.set("empty-link-3", empty);
  const blocks = makeFile(patternBytes(3 * 4096 + 1, 42));
  root.children.set("blocks-a", blocks);
  (root.children.get("sticky") as BuildDir).children.set("blocks-b", blocks);
  return root;
}

const tree = crossTree();
const image = buildImage(tree);
const expected: WalkEntry[] = expectedWalk(tree).map((e) => ({ ...e, type: typeOfMode(e.mode) }));
const kernels = planKernels(["6.1", "6.12"]);
const harness = new FuseHarness();
let fuseWalk: WalkEntry[] | null = null;
let fuseError: unknown = null;

beforeAll(async () => {
  const path = join(harness.dir, "read.daxfs");
  writeFileSync(path, image);
  try {
    const mount = await harness.mount(path);
    fuseWalk = fsWalk(mount.mountpoint);
    const code = await mount.stop();
    if (code !== 0) throw new Error(`daxfs-fuse exited ${code} after unmount: ${mount.output()}`);
  } catch (error) {
    fuseError = error;
  }
}, 120_000);
afterAll(() => harness.cleanup());

describe("one built image read three ways", () => {
  it("the image model walks the source tree exactly", () => {
    expectSameWalk("source tree", expected, "image model", modelWalk(image));
  });

  it("a read-only daxfs-fuse mount walks the same tree as the image model", () => {
    if (fuseError) throw fuseError;
    expectSameWalk("image model", modelWalk(image), "daxfs-fuse", fuseWalk as WalkEntry[]);
  });

  for (const { kernel, reason } of kernels.missing) {
    if (kernels.mustRun)
      it(`the kernel on Linux ${kernel} walks the same tree (CI=true: must run)`, () => {
        throw new Error(reason);
      });
    else it.skip(`the kernel on Linux ${kernel} walks the same tree (skipped: ${reason})`, () => {});
  }

  for (const kernel of kernels.run) {
    describe(`kernel module on Linux ${kernel}`, () => {
      const guest = new GuestSession(kernel);
      beforeAll(
        () => guest.boot([{ name: "tree", bytes: image }], [walkScenario("tree", walkScript)]),
        600_000,
      );

      it("walks the same tree as the image model (validate accepts the image)", () => {
        expectSameWalk("image model", modelWalk(image), `daxfs.ko ${kernel}`, guest.walk("tree"));
      });
    });
  }
});
