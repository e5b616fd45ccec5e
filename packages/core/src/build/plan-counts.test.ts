import { describe, expect, it } from "vitest";
import { planImage } from "./plan.js";
import { planContentsText, planInodeTypes } from "./plan-counts.js";
import { makeDir, makeFile, makeSymlink } from "./tree.js";

describe("planContentsText (docs/cli.md Counts)", () => {
  it("counts inodes by type once per inode, and names below the root as directory entries", () => {
    const root = makeDir();
    const sub = makeDir();
    const shared = makeFile("x");
    sub.children.set("a", shared);
    sub.children.set("link", makeSymlink("a"));
    root.children.set("sub", sub);
    // A second name of the same file: one more directory entry, no more inodes.
    root.children.set("hard", shared);
    const plan = planImage(root);
    expect(planInodeTypes(plan)).toEqual({ directories: 2, files: 1, symlinks: 1 });
    expect(planContentsText(plan)).toBe(
      "4 inodes (2 directories, 1 regular file, 1 symlink), 4 directory entries",
    );
  });

  it("says 1 directory entry, not 1 directory entries", () => {
    const root = makeDir();
    root.children.set("only", makeFile(""));
    expect(planContentsText(planImage(root))).toBe(
      "2 inodes (1 directory, 1 regular file, 0 symlinks), 1 directory entry",
    );
  });
});
