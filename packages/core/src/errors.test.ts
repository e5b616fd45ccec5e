// The errno numbers FUSE replies carry: every code has its Linux number, EUCLEAN included (Node's
// table lacks it).
import { describe, expect, it } from "vitest";
import { CorruptImageError, DaxfsError, ERRNO_NUMBER } from "./errors.js";

describe("ERRNO_NUMBER", () => {
  it("gives every code its Linux number", () => {
    expect(ERRNO_NUMBER).toEqual({
      EPERM: 1,
      ENOENT: 2,
      EIO: 5,
      EBADF: 9,
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
