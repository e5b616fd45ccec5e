// How a failure to write an image file reads (hostError): one line naming the path the user gave,
// never Node's message with the temporary file's name.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DaxfsError } from "../errors.js";
import { hostError } from "./content.js";
import { replaceFileAtomically } from "./write.js";

const scratch = mkdtempSync(join(tmpdir(), "daxfs-write-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

/** The DaxfsError `body` throws (fails the test if it throws nothing or something else). */
function failure(body: () => unknown): DaxfsError {
  try {
    body();
  } catch (error) {
    if (error instanceof DaxfsError) return error;
    throw error;
  }
  throw new Error("no error thrown");
}

const fill = (bytes: string) => (fd: number) => writeFileSync(fd, bytes);

describe("hostError: one line in the C library's words", () => {
  /** An error as node:fs throws it (errno negative, as libuv reports it). */
  const nodeError = (code: string, errno: number, message: string) =>
    Object.assign(new Error(message), { code, errno, syscall: "open" });

  it("names the path given, whatever the errno, without Node's call and temporary path", () => {
    const readOnly = hostError(
      nodeError("EROFS", -30, "EROFS: read-only file system, open 'd/.x.tmp'"),
      "d/x",
    );
    expect(readOnly).toMatchObject({ code: "EROFS", message: "d/x: read-only file system" });
    const tooBig = hostError(nodeError("EFBIG", -27, "EFBIG: file too large, write"), "d/x");
    expect(tooBig).toMatchObject({ code: "EFBIG", message: "d/x: file too large" });
    expect(hostError(nodeError("EDQUOT", -122, "EDQUOT: quota"), "d/x")).toMatchObject({
      code: "ENOSPC",
      message: "d/x: disk quota exceeded",
    });
    // An errno outside the table: libuv's words for it, still one line about d/x.
    const busy = hostError(nodeError("ETXTBSY", -26, "ETXTBSY: text file is busy, open 'd/.x.tmp'"), "d/x");
    expect(busy).toMatchObject({ code: "EIO", message: "d/x: text file is busy" });
  });

  it.runIf(isRoot)("a read-only file system under -o: PATH: read-only file system, nothing left", () => {
    const readOnly = join(scratch, "ro");
    mkdirSync(readOnly);
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", readOnly]).status).toBe(0);
    try {
      const image = join(readOnly, "img");
      expect(() => replaceFileAtomically(image, 5, fill("image"))).toThrow(
        new DaxfsError("EROFS", `${image}: read-only file system`),
      );
      expect(existsSync(image)).toBe(false);
    } finally {
      spawnSync("umount", [readOnly]);
    }
  });
});
