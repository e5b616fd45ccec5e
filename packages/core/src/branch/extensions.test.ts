// The LINK and UTIMES entries and the BASE_MTIME base times (docs/semantics.md "Extensions",
// "Times") through the POSIX layer every front end uses: link counts, unlink of one name, rename
// and commit as on tmpfs; times from entry timestamps; the superblock feature bits set only once
// an image uses an extension; the validator accepting the entries and refusing them unannounced.
import { DaxfsSuper, DeltaType, SuperFeature } from "@daxfs/format";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildImage } from "../build/write.js";
import { featureOfType } from "../delta/types.js";
import { DaxfsError } from "../errors.js";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import { testDir, testFile } from "../testing/tree.js";
import { validate } from "../validate/index.js";
import { branchContext, commitBranch, createBranch } from "./lifecycle.js";
import { BranchFiles } from "./posix.js";
import { readU32, SUPER, writeU32 } from "./records.js";
import { BranchWriter } from "./writer.js";

const owner = { uid: 0, gid: 0 };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const MS = 1_000_000n;

function setup(root = testDir({ etc: testDir({ status: testFile("ii hello\n") }) })) {
  const bytes = buildImage(root, { branching: true, deltaSize: 4 << 20 });
  const source = new MemoryImage(bytes, true);
  const ctx = branchContext(source);
  const record = createBranch(ctx, "work", "main");
  const image = DaxfsImage.open(source);
  const view = image.view("work");
  const files = new BranchFiles(view, BranchWriter.forRecord(ctx, record));
  return { bytes, source, ctx, record, image, view, files };
}

function errno(body: () => unknown): string | undefined {
  try {
    body();
  } catch (error) {
    if (error instanceof DaxfsError) return error.code;
    throw error;
  }
  return undefined;
}

describe("hard links in a branch (LINK)", () => {
  it("behave as on tmpfs: nlink, reading through both names, unlink of one name, rename", () => {
    const { source, view, files } = setup();
    expect(readU32(source, SUPER.flags)).toBe(0);
    // dpkg's move: link status to status-old, then replace status.
    files.link("/etc/status", "/etc/status-old");
    expect(readU32(source, SUPER.flags)).toBe(SuperFeature.LINK);
    const ino = view.resolve("/etc/status");
    expect(view.resolve("/etc/status-old")).toBe(ino);
    expect(view.stat(ino).nlink).toBe(2);
    expect(text(view.read(view.resolve("/etc/status-old"), 0, 100))).toBe("ii hello\n");
    const fresh = files.create("/etc/status.new", 0o644, owner);
    files.write(fresh, 0, new TextEncoder().encode("ii hello\nii world\n"));
    files.rename("/etc/status.new", "/etc/status");
    expect(view.stat(ino).nlink).toBe(1);
    expect(text(view.read(view.resolve("/etc/status-old"), 0, 100))).toBe("ii hello\n");
    // A write through one name is seen through the other.
    files.link("/etc/status", "/etc/second");
    files.write(fresh, 0, new TextEncoder().encode("IE"));
    expect(text(view.read(view.resolve("/etc/second"), 0, 2))).toBe("IE");
    expect(view.stat(fresh).nlink).toBe(2);
    files.unlink("/etc/status");
    expect(view.stat(fresh).nlink).toBe(1);
    expect(text(view.read(view.resolve("/etc/second"), 0, 4))).toBe("IE h");
    // rename(2) of two names of one inode does nothing.
    files.link("/etc/second", "/etc/third");
    files.rename("/etc/second", "/etc/third");
    expect(view.resolve("/etc/second")).toBe(fresh);
    expect(view.stat(fresh).nlink).toBe(2);
    expect(validate(source).problems).toEqual([]);
  });

  it("refuses what link(2) refuses", () => {
    const { files } = setup();
    files.mkdir("/d", 0o755, owner);
    files.symlink("status", "/etc/sym", owner);
    expect(errno(() => files.link("/d", "/d2"))).toBe("EPERM");
    expect(errno(() => files.link("/etc/status", "/etc/sym"))).toBe("EEXIST");
    expect(errno(() => files.link("/etc/missing", "/etc/x"))).toBe("ENOENT");
    expect(errno(() => files.link("/etc/status", "/missing/x"))).toBe("ENOENT");
    // A symlink may be linked (the link, not its target).
    files.link("/etc/sym", "/etc/sym2");
  });

  it("commit merges the links into main, whose replay and the validator accept them", () => {
    const { source, ctx, record, image, files } = setup();
    files.link("/etc/status", "/status-link");
    files.unlink("/etc/status");
    const made = files.create("/new", 0o600, owner);
    files.link("/new", "/etc/new-link");
    commitBranch(ctx, record.id);
    const main = image.view("main");
    expect(main.stat(main.resolve("/status-link")).nlink).toBe(1);
    expect(errno(() => main.resolve("/etc/status"))).toBe("ENOENT");
    expect(main.resolve("/etc/new-link")).toBe(made);
    expect(main.stat(made).nlink).toBe(2);
    expect(validate(source).problems).toEqual([]);
  });

  it("an unannounced LINK entry or an unknown feature bit is reported by the validator", () => {
    const { source, files } = setup();
    files.link("/etc/status", "/etc/status-old");
    writeU32(source, SUPER.flags, 0);
    const unannounced = validate(source).problems;
    expect(unannounced.map((p) => p.message).join("\n")).toMatch(/does not announce link/);
    writeU32(source, SUPER.flags, SuperFeature.LINK | 0x100);
    const unknown = validate(source).problems;
    expect(unknown).toHaveLength(1);
    expect(unknown[0]).toMatchObject({ field: "flags", kind: "unsupported" });
  });
});

describe("times (UTIMES entries, entry timestamps, BASE_MTIME)", () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ["Date"] }));
  afterEach(() => vi.useRealTimers());
  const at = (iso: string) => {
    vi.setSystemTime(new Date(iso));
    return BigInt(Date.parse(iso)) * MS;
  };

  it("a file changed in a branch gets mtime and ctime from its entries; utimens is kept", () => {
    const { source, view, files, ctx, record, image } = setup();
    const t1 = at("2031-01-01T00:00:00Z");
    const ino = files.create("/etc/made", 0o644, owner);
    const etc = view.resolve("/etc");
    expect(view.stat(ino)).toMatchObject({ atime: t1, mtime: t1, ctime: t1 });
    expect(view.stat(etc)).toMatchObject({ mtime: t1, ctime: t1 });
    const t2 = at("2031-01-02T00:00:00Z");
    files.write(ino, 0, new Uint8Array([1, 2, 3]));
    expect(view.stat(ino)).toMatchObject({ atime: t1, mtime: t2, ctime: t2 });
    const t3 = at("2031-01-03T00:00:00Z");
    files.chmod("/etc/made", 0o600);
    expect(view.stat(ino)).toMatchObject({ mtime: t2, ctime: t3 });
    expect(readU32(source, SUPER.flags)).toBe(0);
    // touch -d: both times as given, ctime now.
    const t4 = at("2031-01-04T00:00:00Z");
    const stamp = 1_000_000_000_123_456_789n;
    files.utimens("/etc/made", stamp, stamp);
    expect(readU32(source, SUPER.flags)).toBe(SuperFeature.UTIMES);
    expect(view.stat(ino)).toMatchObject({ atime: stamp, mtime: stamp, ctime: t4 });
    // UTIME_OMIT of the atime (touch -m).
    files.utimens("/etc/made", undefined, stamp + 1n);
    expect(view.stat(ino)).toMatchObject({ atime: stamp, mtime: stamp + 1n });
    // A base file keeps the base's (absent) time until it is changed.
    expect(view.stat(view.resolve("/etc/status")).mtime).toBe(0n);
    const before = view.stat(ino);
    expect(before.ctime).toBeGreaterThan(t4); // the second entry's timestamp, one ns later
    commitBranch(ctx, record.id);
    const main = image.view("main");
    expect(main.stat(ino)).toEqual(before);
    expect(validate(source).problems).toEqual([]);
  });

  it("the builder stores mtimes in the base inode and announces BASE_MTIME only then", () => {
    const file = { ...testFile("x"), mtime: 1_700_000_000_000_000_001n };
    const timed = setup(testDir({ f: file }));
    expect(readU32(timed.source, SUPER.flags)).toBe(SuperFeature.BASE_MTIME);
    const f = timed.view.resolve("/f");
    expect(timed.view.stat(f)).toMatchObject({
      atime: file.mtime,
      mtime: file.mtime,
      ctime: file.mtime,
    });
    expect(validate(timed.source).problems).toEqual([]);
    // The mtime bytes of a plain image are reserved: a time without the bit is reported.
    writeU32(timed.source, SUPER.flags, 0);
    expect(validate(timed.source).problems.map((p) => p.field)).toEqual(["mtime"]);
    const plain = setup(testDir({ f: testFile("x") }));
    expect(DaxfsSuper.decode(plain.bytes).flags).toBe(0);
  });

  it("names the feature each extension entry needs, none for v5 entries", () => {
    expect(featureOfType(DeltaType.LINK)).toBe(SuperFeature.LINK);
    expect(featureOfType(DeltaType.UTIMES)).toBe(SuperFeature.UTIMES);
    for (let type = DeltaType.WRITE; type <= DeltaType.SYMLINK; type++) expect(featureOfType(type)).toBe(0);
  });
});
