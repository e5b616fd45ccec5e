// Where an image file may go (imageFilePath) and how a failure to write it reads (hostError): one
// line naming the path the user gave, never Node's message with the temporary file's name.
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
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
import { imageFilePath, replaceFileAtomically, type UnnamedFiles } from "./write.js";

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

describe("imageFilePath: what -o may name", () => {
  it("a new name or a regular file is written as given", () => {
    expect(imageFilePath(join(scratch, "new.img"))).toBe(join(scratch, "new.img"));
    writeFileSync(join(scratch, "old.img"), "old");
    expect(imageFilePath(join(scratch, "old.img"))).toBe(join(scratch, "old.img"));
  });

  it("an empty name is refused", () => {
    expect(failure(() => imageFilePath(""))).toMatchObject({
      code: "ENOENT",
      message: "'': empty file name",
    });
  });

  it("a directory is refused, with or without a trailing '/', and so is a missing one", () => {
    const dir = join(scratch, "dir");
    mkdirSync(dir);
    expect(failure(() => imageFilePath(dir))).toMatchObject({
      code: "EISDIR",
      message: `${dir}: is a directory`,
    });
    expect(failure(() => imageFilePath(`${dir}/`)).message).toBe(`${dir}/: is a directory`);
    expect(failure(() => imageFilePath(`${dir}/new/`)).message).toBe(
      `${dir}/new/: names a directory, not a file`,
    );
  });

  it("a FIFO or a device node is refused, never replaced by the rename", () => {
    const fifo = join(scratch, "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    expect(() => replaceFileAtomically(fifo, 5, fill("image"))).toThrow(
      `${fifo}: is a FIFO, not a regular file`,
    );
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    if (isRoot) {
      const device = join(scratch, "null");
      expect(spawnSync("mknod", [device, "c", "1", "3"]).status).toBe(0);
      expect(() => replaceFileAtomically(device, 5, fill("image"))).toThrow(
        `${device}: is a character device, not a regular file`,
      );
      expect(lstatSync(device).isCharacterDevice()).toBe(true);
    }
    expect(readdirSync(scratch).filter((name) => name.includes(".mkdaxfs-"))).toEqual([]);
  });

  it("a symlink is followed: the file it names is replaced, the link stays", () => {
    const target = join(scratch, "target.img");
    writeFileSync(target, "old");
    const link = join(scratch, "link.img");
    symlinkSync("target.img", link);
    replaceFileAtomically(link, 5, fill("image"));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe("target.img");
    expect(readFileSync(target, "utf8")).toBe("image");
    // A target whose name is not UTF-8: its bytes, not U+FFFD.
    const bytes = Buffer.concat([Buffer.from(`${scratch}/t`), Buffer.of(0xfa), Buffer.from(".img")]);
    writeFileSync(bytes, "old");
    symlinkSync(bytes, join(scratch, "byte-link.img"));
    replaceFileAtomically(join(scratch, "byte-link.img"), 5, fill("image"));
    expect(readFileSync(bytes, "utf8")).toBe("image");
    const dangling = join(scratch, "dangling.img");
    symlinkSync("missing/file", dangling);
    expect(failure(() => imageFilePath(dangling))).toMatchObject({
      code: "ENOENT",
      message: `${dangling}: symbolic link to a missing file`,
    });
  });
});

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

describe("replaceFileAtomically with unnamed files (the linkat itself: @daxfs/linux)", () => {
  const enospc = () => Object.assign(new Error("linkat: no space"), { code: "ENOSPC", errno: 28 });

  it("where the file system has none (open answers null), a named temporary file does the job", () => {
    const dir = join(scratch, "no-tmpfile");
    mkdirSync(dir);
    const none: UnnamedFiles = {
      open: () => null,
      link: () => {
        throw new Error("link without an unnamed file");
      },
    };
    replaceFileAtomically(join(dir, "img"), 5, fill("image"), { unnamed: none });
    expect(readdirSync(dir)).toEqual(["img"]);
    expect(readFileSync(join(dir, "img"), "utf8")).toBe("image");
  });

  it("a failed link names -o, closes the file and leaves the previous image", () => {
    const dir = join(scratch, "link-fails");
    mkdirSync(dir);
    writeFileSync(join(dir, "img"), "previous");
    // The "unnamed" file lives elsewhere here: what matters is that nothing appears in `dir`.
    const elsewhere = join(scratch, "unnamed-stand-in");
    let opened = -1;
    const failing: UnnamedFiles = {
      open: () => {
        opened = openSync(elsewhere, "w+");
        return opened;
      },
      link: () => {
        throw enospc();
      },
    };
    expect(() => replaceFileAtomically(join(dir, "img"), 5, fill("image"), { unnamed: failing })).toThrow(
      `${join(dir, "img")}: no space left on device`,
    );
    expect(readdirSync(dir)).toEqual(["img"]);
    expect(readFileSync(join(dir, "img"), "utf8")).toBe("previous");
    expect(() => closeSync(opened)).toThrow(expect.objectContaining({ code: "EBADF" }));
  });
});
