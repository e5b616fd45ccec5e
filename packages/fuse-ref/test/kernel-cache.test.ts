// A main mount lets the kernel cache names, attributes and missing names, and the patched binding
// answers getattr from the stats its readdir answers carried (docs/fuse.md "Caching",
// src/kernel-cache.ts). These check that a commit still shows at once, at every depth: announced
// by the committing daxfs-fuse process (the control channel's "changed"), and not announced (a
// commit by another program on the shared image, noticed by the mount's poll).
import * as fs from "node:fs";
import { join } from "node:path";
import {
  BranchFiles,
  BranchWriter,
  branchContext,
  commitBranch,
  createBranch,
  DaxfsImage,
  MemoryImage,
} from "@daxfs/core";
import { mapFile } from "@daxfs/linux";
import { afterEach, describe, expect, it } from "vitest";
import { controlRequest, controlSocketPath } from "../src/control.js";
import { dir, errno, FuseHarness, file, symlink } from "../src/testing/index.js";

let harness: FuseHarness;
afterEach(async () => {
  await harness.cleanup();
});

const tree = () =>
  dir({
    top: file("top v1"),
    a: dir({
      b: dir({ c: dir({ "deep.txt": file("deep v1"), "old.txt": file("old"), link: symlink("deep.txt") }) }),
    }),
  });

/** "exists", or the errno of stat(2). */
const exists = (path: string) => {
  const code = errno(() => fs.statSync(path));
  return code === "no error" ? "exists" : code;
};

/** Reads everything the kernel and the binding may cache: names, stats, missing names, data. */
function look(root: string) {
  const deep = join(root, "a/b/c");
  return {
    // First: a readdir that reaches daxfs-fuse lists the tree below it into the binding's cache.
    rootListing: fs.readdirSync(root).sort(),
    top: fs.readFileSync(join(root, "top"), "utf8"),
    listing: fs.readdirSync(deep).sort(),
    deepSize: fs.statSync(join(deep, "deep.txt")).size,
    deep: fs.readFileSync(join(deep, "deep.txt"), "utf8"),
    viaLink: fs.readFileSync(join(deep, "link"), "utf8"),
    old: exists(join(deep, "old.txt")),
    added:
      exists(join(deep, "new.txt")) === "exists" ? fs.readFileSync(join(deep, "new.txt"), "utf8") : "ENOENT",
    addedTop: exists(join(root, "new-top")),
  };
}

const before = {
  rootListing: ["a", "top"],
  top: "top v1",
  listing: ["deep.txt", "link", "old.txt"],
  deepSize: 7,
  deep: "deep v1",
  viaLink: "deep v1",
  old: "exists",
  added: "ENOENT",
  addedTop: "ENOENT",
};
const after = {
  rootListing: ["a", "new-top", "top"],
  top: "top v2!",
  listing: ["deep.txt", "link", "new.txt"],
  deepSize: 16,
  deep: "deep v2, longer.",
  viaLink: "deep v2, longer.",
  old: "ENOENT",
  added: "new",
  addedTop: "exists",
};

describe("kernel caching on a main mount", () => {
  it("files are read out of the image mapping byte for byte, at any offset and length", async () => {
    harness = new FuseHarness();
    const big = new Uint8Array(3 * 1024 * 1024 + 123).map((_, i) => (i * 2654435761) >>> 24);
    const image = harness.image(dir({ d: dir({ big: file(big), empty: file(""), small: file("abc") }) }));
    const main = await harness.mount(image);
    const path = join(main.mountpoint, "d/big");
    expect(fs.readFileSync(path).equals(Buffer.from(big))).toBe(true);
    expect(fs.readFileSync(join(main.mountpoint, "d/empty"), "utf8")).toBe("");
    expect(fs.readFileSync(join(main.mountpoint, "d/small"), "utf8")).toBe("abc");
    const fd = fs.openSync(path, "r");
    try {
      for (const [offset, length] of [
        [0, 1],
        [4095, 2],
        [131072 - 7, 300_000],
        [big.length - 10, 4096], // past the end: 10 bytes
        [big.length + 5, 100], // beyond it: none
      ] as const) {
        const buffer = Buffer.alloc(length);
        const n = fs.readSync(fd, buffer, 0, length, offset);
        expect(buffer.subarray(0, n).equals(Buffer.from(big.subarray(offset, offset + length)))).toBe(true);
      }
    } finally {
      fs.closeSync(fd);
    }
    expect(errno(() => fs.openSync(path, "r+"))).toBe("EROFS");
  });

  it("a commit through another daxfs-fuse mount shows at once, at every depth", async () => {
    harness = new FuseHarness();
    const image = harness.image(tree());
    const main = await harness.mount(image);
    expect(look(main.mountpoint)).toEqual(before);
    expect(look(main.mountpoint)).toEqual(before); // now from the caches
    const dev = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    fs.writeFileSync(join(dev.mountpoint, "a/b/c/deep.txt"), "deep v2, longer.");
    fs.writeFileSync(join(dev.mountpoint, "a/b/c/new.txt"), "new");
    fs.unlinkSync(join(dev.mountpoint, "a/b/c/old.txt"));
    fs.writeFileSync(join(dev.mountpoint, "top"), "top v2!");
    fs.writeFileSync(join(dev.mountpoint, "new-top"), "");
    expect(look(main.mountpoint)).toEqual(before);
    expect(await controlRequest(controlSocketPath(dev.mountpoint), "commit")).toMatchObject({ ok: true });
    expect(look(main.mountpoint)).toEqual(after);
  });

  it("a commit no daxfs-fuse process announces is noticed by the mount's poll", async () => {
    harness = new FuseHarness();
    const image = harness.image(tree());
    const main = await harness.mount(image);
    expect(look(main.mountpoint)).toEqual(before);
    // Another program commits through its own shared mapping of the image (as daxfs.ko would).
    const mapping = mapFile(image, { writable: true });
    try {
      const source = new MemoryImage(mapping.bytes, true, image);
      const ctx = branchContext(source);
      const record = createBranch(ctx, "other", "main");
      const view = DaxfsImage.open(source).view("other");
      const files = new BranchFiles(view, BranchWriter.forRecord(ctx, record));
      files.truncate(view.resolve("/a/b/c/deep.txt"), 0, "deep.txt");
      files.write(view.resolve("/a/b/c/deep.txt"), 0, new TextEncoder().encode("deep v2, longer."));
      files.create("/a/b/c/new.txt", 0o100644, { uid: 0, gid: 0 });
      files.write(view.resolve("/a/b/c/new.txt"), 0, new TextEncoder().encode("new"));
      files.unlink("/a/b/c/old.txt");
      files.truncate(view.resolve("/top"), 0, "top");
      files.write(view.resolve("/top"), 0, new TextEncoder().encode("top v2!"));
      files.create("/new-top", 0o100644, { uid: 0, gid: 0 });
      commitBranch(ctx, record.id);
      mapping.flush();
    } finally {
      mapping.close();
    }
    // The poll runs every 100 ms; give a loaded machine up to 5 s before calling it missed.
    const deadline = Date.now() + 5000;
    while (look(main.mountpoint).top !== after.top && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(look(main.mountpoint)).toEqual(after);
  });
});
