import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listXattrs } from "./xattr.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-xattr-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Sets an extended attribute with Python (Node has no setxattr); false where the file system refuses. */
function setXattr(path: string | Buffer, name: string): boolean {
  // The path's bytes as hex: a command-line argument would be re-encoded as UTF-8.
  const script = "import os,sys; os.setxattr(bytes.fromhex(sys.argv[1]), sys.argv[2], b'1')";
  const hex = Buffer.from(path).toString("hex");
  return spawnSync("python3", ["-c", script, hex, name]).status === 0;
}

describe("listXattrs", () => {
  it("lists the names for a path given as a string and as bytes that are not UTF-8", () => {
    const plain = join(work, "plain");
    writeFileSync(plain, "");
    const bytes = Buffer.concat([Buffer.from(`${work}/b`), Buffer.from([0xff, 0xfe])]);
    writeFileSync(bytes, "");
    expect(listXattrs(plain)).toEqual([]);
    expect(listXattrs(bytes)).toEqual([]);
    const name = ["user.daxfs-test", "trusted.daxfs-test"].find((candidate) => setXattr(plain, candidate));
    if (name === undefined) return; // the file system takes neither: the empty lists above still ran
    expect(listXattrs(plain)).toEqual([name]);
    expect(setXattr(bytes, name)).toBe(true);
    expect(listXattrs(bytes)).toEqual([name]);
    expect(() => listXattrs(join(work, "missing"))).toThrow(/ENOENT/);
  });
});
