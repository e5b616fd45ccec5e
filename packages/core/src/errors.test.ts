// The errno numbers FUSE replies carry: every code has its Linux number, EUCLEAN included (Node's
// table lacks it).
import { mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CorruptImageError, DaxfsError, ERRNO_NUMBER, systemError } from "./errors.js";

describe("ERRNO_NUMBER", () => {
  it("gives every code its Linux number", () => {
    expect(ERRNO_NUMBER).toEqual({
      EPERM: 1,
      ENOENT: 2,
      EIO: 5,
      EBADF: 9,
      EACCES: 13,
      EBUSY: 16,
      EEXIST: 17,
      EXDEV: 18,
      ENOTDIR: 20,
      EISDIR: 21,
      EINVAL: 22,
      ENOTTY: 25,
      EFBIG: 27,
      ENOSPC: 28,
      EROFS: 30,
      ENAMETOOLONG: 36,
      ENOTEMPTY: 39,
      ELOOP: 40,
      EILSEQ: 84,
      EOPNOTSUPP: 95,
      ESTALE: 116,
      EUCLEAN: 117,
    });
    expect(new DaxfsError("ESTALE", "x").errno).toBe(116);
    expect(new CorruptImageError("bad", 8).errno).toBe(117);
  });
});

describe("systemError", () => {
  it("names the file and says the system's words for every errno, never a bare code", () => {
    const dir = mkdtempSync(join(tmpdir(), "daxfs-errors-"));
    try {
      const file = join(dir, "file");
      writeFileSync(file, "");
      symlinkSync("loop", join(dir, "loop"));
      const failure = (path: string) => {
        try {
          openSync(path, "r");
        } catch (error) {
          const { code, message } = systemError(error, "NAME");
          return [code, message];
        }
        throw new Error(`${path} opened`);
      };
      expect(failure(join(dir, "missing"))).toEqual(["ENOENT", "NAME: no such file or directory"]);
      expect(failure(join(file, "x"))).toEqual(["ENOTDIR", "NAME: not a directory"]);
      expect(failure(join(dir, "loop"))).toEqual(["ELOOP", "NAME: too many levels of symbolic links"]);
      expect(failure(join(dir, "n".repeat(300)))).toEqual(["ENAMETOOLONG", "NAME: name too long"]);
      // An errno DAXFS has no code for keeps its words, with EIO as the code.
      const busy = Object.assign(new Error("x"), { code: "ETXTBSY", errno: -26 });
      expect([systemError(busy, "NAME").code, systemError(busy, "NAME").message]).toEqual([
        "EIO",
        "NAME: text file is busy",
      ]);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
