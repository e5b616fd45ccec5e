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

  it("name a log entry's offset once: its structure carries it", () => {
    const entry = { ...problem, offset: 0x1b321, structure: "delta main@0x1b321", field: "entry" };
    expect(formatProblem(entry)).toMatch(/^delta main@0x1b321: entry: expected/);
    expect(formatProblem({ ...entry, offset: 0x1b329 })).toMatch(/^delta main@0x1b321 at 0x1b329: entry:/);
  });

  it("state the totals with singulars where one", () => {
    expect(validationStatsText({ inodes: 1, directoryEntries: 0, branches: 1, deltaEntries: 2 })).toBe(
      "checked 1 inode, 0 directory entries, 1 branch, 2 log entries",
    );
  });
});
