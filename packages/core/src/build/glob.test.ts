import { describe, expect, it } from "vitest";
import { compileGlob } from "./glob.js";

describe("--exclude globs", () => {
  it.each([
    ["*.o", "a/b/c.o", true],
    ["*.o", "c.o.txt", false],
    ["sub/*.txt", "sub/x.txt", true],
    ["sub/*.txt", "other/sub/x.txt", false],
    ["/sub/x.txt", "sub/x.txt", true],
    ["**/cache", "a/b/cache", true],
    ["**/cache", "cache", true],
    ["a/**", "a/b/c", true],
    ["file?.[ch]", "dir/file1.c", true],
    ["file?.[!ch]", "file1.c", false],
    ["a+b(c)", "a+b(c)", true],
    ["[oops", "[oops", true],
  ])("%s vs %s → %s", (pattern, path, expected) => expect(compileGlob(pattern)(path)).toBe(expected));
});
