import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { abortBranch, branchContext, buildImage, createBranch, FileImage, makeDir } from "@daxfs/core";
import { parseMountInfo } from "@daxfs/linux";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { branchName, daxfsMounts, fuseBranchPath } from "./mounts.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "daxfs-mounts-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("daxfsMounts", () => {
  it("keeps kernel and FUSE daxfs mounts in mountinfo order with their backing and mode", () => {
    const mounts = daxfsMounts(
      parseMountInfo(
        [
          "1 0 0:1 / / rw - ext4 /dev/vda rw",
          "2 1 0:2 / /a rw - daxfs none rw,phys=0x1000,size=4096",
          "3 1 0:3 / /b ro - daxfs none ro,source=dmabuf,size=4096,branch=/main/x",
          "4 1 0:4 / /c rw - fuse.daxfs /img rw,user_id=0",
          "5 1 0:5 / /d rw - fuse.other /img rw",
        ].join("\n"),
      ),
    );
    expect(mounts.map((m) => [m.kind, m.mountPoint, m.writable])).toEqual([
      ["kernel", "/a", true],
      ["kernel", "/b", false],
      ["fuse", "/c", true],
    ]);
    expect(mounts[0]).toMatchObject({ branchPath: "/main", phys: "0x1000", size: "4096" });
    expect(mounts[1]).toMatchObject({ branchPath: "/main/x", size: "4096" });
    expect(mounts[1]).not.toHaveProperty("phys");
    expect(mounts[2]).toMatchObject({ image: "/img" });
  });

  it("names the mounted branch by the last component of its path", () => {
    expect(branchName("/main/a/b")).toBe("b");
    expect(branchName("/main")).toBe("main");
  });
});

describe("fuseBranchPath", () => {
  it("reads the chain of a nested branch from the image, taking the newest slot of a reused name", () => {
    const image = join(dir, "img.daxfs");
    writeFileSync(image, buildImage(makeDir(), { branching: true, deltaSize: 8 << 20 }));
    const source = FileImage.open(image, { writable: true });
    try {
      const ctx = branchContext(source);
      createBranch(ctx, "a", "main");
      const firstB = createBranch(ctx, "b", "main");
      abortBranch(ctx, firstB.id);
      createBranch(ctx, "b", "a");
    } finally {
      source.close();
    }
    expect(fuseBranchPath({ image, branch: "b", parent: "a", writable: true, pid: 1 })).toBe("/main/a/b");
    expect(fuseBranchPath({ image, branch: "main", parent: null, writable: false, pid: 1 })).toBe("/main");
  });

  it("prefers the server's branchPath and falls back to the names when the image cannot be read", () => {
    const missing = join(dir, "missing.daxfs");
    expect(
      fuseBranchPath({
        image: missing,
        branch: "b",
        parent: "a",
        writable: true,
        pid: 1,
        branchPath: "/main/a/b",
      }),
    ).toBe("/main/a/b");
    expect(fuseBranchPath({ image: missing, branch: "b", parent: "main", writable: true, pid: 1 })).toBe(
      "/main/b",
    );
    expect(fuseBranchPath({ image: missing, branch: "b", parent: "a", writable: true, pid: 1 })).toBe(
      "/main/.../a/b",
    );
  });
});
