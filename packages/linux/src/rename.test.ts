import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SyscallError } from "./errors.js";
import { renameNoReplace } from "./rename.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "daxfs-rename-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("renameNoReplace", () => {
  it("moves a file to a free name", () => {
    writeFileSync(join(root, "a"), "A");
    renameNoReplace(join(root, "a"), join(root, "b"));
    expect(readFileSync(join(root, "b"), "utf8")).toBe("A");
  });

  it("refuses an existing target with EEXIST and leaves both names", () => {
    writeFileSync(join(root, "a"), "A");
    mkdirSync(join(root, "d"));
    let error: unknown;
    try {
      renameNoReplace(join(root, "a"), join(root, "d"));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SyscallError);
    expect((error as SyscallError).code).toBe("EEXIST");
    expect((error as SyscallError).message).toContain(`${join(root, "a")} -> ${join(root, "d")}`);
    expect(readFileSync(join(root, "a"), "utf8")).toBe("A");
  });

  it("reports a missing source as ENOENT", () => {
    expect(() => renameNoReplace(join(root, "none"), join(root, "b"))).toThrow(/ENOENT/);
  });
});
