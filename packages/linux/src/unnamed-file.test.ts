import { closeSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SyscallError } from "./errors.js";
import { linkUnnamedFile, openUnnamedFile } from "./unnamed-file.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "daxfs-unnamed-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("unnamed files (O_TMPFILE)", () => {
  it("have no name while written, and the one linkUnnamedFile gives them after", () => {
    const fd = openUnnamedFile(root);
    if (fd === null) throw new Error(`${root}: the test file system has no O_TMPFILE`);
    try {
      writeSync(fd, "image bytes");
      expect(readdirSync(root)).toEqual([]);
      linkUnnamedFile(fd, join(root, "img"));
    } finally {
      closeSync(fd);
    }
    expect(readdirSync(root)).toEqual(["img"]);
    expect(readFileSync(join(root, "img"), "utf8")).toBe("image bytes");
  });

  it("a name that exists is EEXIST (the caller renames over targets); bytes that are not UTF-8 are kept", () => {
    writeFileSync(join(root, "taken"), "old");
    const fd = openUnnamedFile(root);
    if (fd === null) throw new Error(`${root}: the test file system has no O_TMPFILE`);
    try {
      expect(() => linkUnnamedFile(fd, join(root, "taken"))).toThrow(SyscallError);
      expect(() => linkUnnamedFile(fd, join(root, "taken"))).toThrow(/\(EEXIST\)$/);
      linkUnnamedFile(fd, Buffer.concat([Buffer.from(`${root}/`), Buffer.of(0x6e, 0xff)]));
    } finally {
      closeSync(fd);
    }
    expect(
      readdirSync(root, { encoding: "buffer" })
        .map((name) => name.toString("hex"))
        .sort(),
    ).toEqual(["6eff", Buffer.from("taken").toString("hex")]);
    expect(readFileSync(join(root, "taken"), "utf8")).toBe("old");
  });

  it("a missing directory is thrown as node:fs throws it", () => {
    expect(() => openUnnamedFile(join(root, "missing"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });
});
