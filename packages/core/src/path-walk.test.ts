import { describe, expect, it } from "vitest";
import { DaxfsError } from "./errors.js";
import { DaxfsImage } from "./image.js";
import { MemoryImage } from "./image-source.js";
import { decodeName } from "./names.js";
import { MAX_SYMLINK_FOLLOWS } from "./path-walk.js";
import { buildTestImage, testDir, testFile, testSymlink } from "./testing/index.js";
import type { BranchView } from "./view.js";

// A merged-/usr rootfs in small: /lib -> usr/lib, /bin -> /usr/bin, plus loops and chains.
function rootfs(): BranchView {
  const chain: Record<string, ReturnType<typeof testSymlink>> = {};
  // c0 -> c1 -> ... -> c40 -> /usr/lib: 41 links when the walk starts at c0.
  for (let i = 0; i <= MAX_SYMLINK_FOLLOWS; i++)
    chain[`c${i}`] = testSymlink(i === MAX_SYMLINK_FOLLOWS ? "/usr/lib" : `c${i + 1}`);
  const image = buildTestImage(
    testDir({
      usr: testDir({
        lib: testDir({ "libc.so": testFile("elf"), up: testSymlink("..") }),
        bin: testDir({ sh: testFile("shell") }),
      }),
      lib: testSymlink("usr/lib"),
      bin: testSymlink("/usr/bin"),
      etc: testDir({
        passwd: testFile("root:x:0:0"),
        "os-release": testSymlink("../usr/lib/libc.so"),
        dangling: testSymlink("../usr/nowhere"),
      }),
      loop: testSymlink("loop"),
      [decodeName(Uint8Array.of(0x66, 0xfe))]: testFile("latin-1"),
      chains: testDir(chain),
    }),
  );
  return DaxfsImage.open(new MemoryImage(image.bytes, false)).view("main");
}

function failure(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof DaxfsError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error("no error");
}

describe("path walks (BranchView.resolve)", () => {
  const view = rootfs();
  const ino = (path: string) => view.resolve(path);
  const readText = (path: string) => new TextDecoder().decode(view.read(ino(path), 0, 100));

  it("follow symlinks in intermediate components, relative and absolute", () => {
    expect(readText("/lib/libc.so")).toBe("elf");
    expect(readText("/bin/sh")).toBe("shell");
    expect(ino("/lib/libc.so")).toBe(ino("/usr/lib/libc.so"));
    // ".." after a link leaves the link's target, as in Linux (not the lexical parent).
    expect(ino("/lib/..")).toBe(ino("/usr"));
    expect(ino("/usr/lib/up/bin/sh")).toBe(ino("/usr/bin/sh"));
  });

  it("leave the last component alone unless asked (-L), or unless a '/' follows it", () => {
    const link = ino("/lib");
    expect(view.readlink(link)).toBe("usr/lib");
    expect(view.resolve("/lib", { followFinal: true })).toBe(ino("/usr/lib"));
    expect(view.resolve("/etc/os-release", { followFinal: true })).toBe(ino("/usr/lib/libc.so"));
    expect(ino("/lib/")).toBe(ino("/usr/lib"));
    expect(ino("/lib/.")).toBe(ino("/usr/lib"));
  });

  it("stop a loop with ELOOP after 40 links, as Linux", () => {
    expect(failure(() => ino("/loop/x"))).toEqual({
      code: "ELOOP",
      message: "/loop/x: too many levels of symbolic links",
    });
    expect(failure(() => view.resolve("/loop", { followFinal: true })).code).toBe("ELOOP");
    expect(ino("/loop")).toBeGreaterThan(0); // the link itself, not followed
    // 40 links are followed; the 41st is one too many.
    expect(ino("/chains/c1/libc.so")).toBe(ino("/usr/lib/libc.so"));
    expect(failure(() => ino("/chains/c0/libc.so")).code).toBe("ELOOP");
  });

  it("name the path in errors, not inode numbers", () => {
    expect(failure(() => ino("/etc/nope"))).toEqual({ code: "ENOENT", message: 'no entry "nope" in /etc' });
    expect(failure(() => ino("/lib/nope")).message).toBe('no entry "nope" in /usr/lib');
    expect(failure(() => ino("/nope/x")).message).toBe('no entry "nope" in /');
    expect(failure(() => ino("/etc/passwd/x"))).toEqual({
      code: "ENOTDIR",
      message: "/etc/passwd: not a directory",
    });
    expect(failure(() => ino("/etc/passwd/")).code).toBe("ENOTDIR");
    expect(failure(() => ino(`/${"n".repeat(256)}`)).code).toBe("ENAMETOOLONG");
    // A name missing from a symlink's target says which link led there (a dangling link).
    expect(failure(() => view.resolve("/etc/dangling", { followFinal: true }))).toEqual({
      code: "ENOENT",
      message: 'no entry "nowhere" in /usr (the target of /etc/dangling -> ../usr/nowhere)',
    });
    expect(failure(() => ino("/bin/nope")).message).toBe('no entry "nope" in /usr/bin');
  });

  it("take names as bytes and show the bad ones escaped", () => {
    expect(readText(`/${decodeName(Uint8Array.of(0x66, 0xfe))}`)).toBe("latin-1");
    expect(failure(() => ino(`/${decodeName(Uint8Array.of(0x66, 0xff))}`)).message).toBe(
      'no entry "f\\xff" in /',
    );
  });
});
