import { describe, expect, it } from "vitest";
import { formatProblem, type Problem, problemLine, validationStatsText } from "./problems.js";

const problem: Problem = {
  offset: 0x9000,
  structure: "base_super",
  field: "magic",
  expected: "0x64646135",
  actual: "0xffffffff",
  message: "base superblock: bad magic 0xffffffff",
  kind: "corrupt",
};

describe("problem lines", () => {
  it("name the structure, its offset in hex, the field, what was expected and found", () => {
    const text =
      "base_super at 0x9000: magic: expected 0x64646135, got 0xffffffff (base superblock: bad magic 0xffffffff)";
    expect(formatProblem(problem)).toBe(text);
    // One argument: as a map callback the index is not taken for anything.
    expect([problem].map(formatProblem)).toEqual([text]);
    expect(problemLine(problem, "img")).toBe(`img: ${text}`);
  });

  it("state the totals with singulars where one", () => {
    expect(validationStatsText({ inodes: 1, directoryEntries: 0, branches: 1, deltaEntries: 2 })).toBe(
      "checked 1 inode, 0 directory entries, 1 branch, 2 log entries",
    );
  });
});
