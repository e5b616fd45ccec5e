import { describe, expect, it } from "vitest";
import { countInodeTypes, inodeCountText, S_IFDIR, S_IFLNK, S_IFREG } from "./file-type.js";

describe("inode counts", () => {
  it("counts directories, regular files and symlinks by their type bits", () => {
    const modes = [S_IFDIR | 0o755, S_IFREG | 0o644, S_IFREG | 0o600, S_IFLNK | 0o777, S_IFDIR | 0o700];
    expect(countInodeTypes(modes)).toEqual({ directories: 2, files: 2, symlinks: 1 });
  });

  it("states them in one form, with singulars where one", () => {
    expect(inodeCountText(5, { directories: 2, files: 2, symlinks: 1 })).toBe(
      "5 inodes (2 directories, 2 regular files, 1 symlink)",
    );
    expect(inodeCountText(1, { directories: 1, files: 0, symlinks: 0 })).toBe(
      "1 inode (1 directory, 0 regular files, 0 symlinks)",
    );
  });
});
