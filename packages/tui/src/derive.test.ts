import type { DeltaEntry } from "@daxfs/core";
import { DeltaType } from "@daxfs/format";
import { describe, expect, it } from "vitest";
import { count, fileText, ownChanges, problemTarget } from "./derive.js";

const entry = (type: DeltaType, ino: number) => ({ type, ino }) as DeltaEntry;

describe("ownChanges", () => {
  it("marks created inodes added, moved ones renamed and written ones modified", () => {
    const marks = ownChanges([
      entry(DeltaType.CREATE, 10),
      entry(DeltaType.WRITE, 10),
      entry(DeltaType.RENAME, 10),
      entry(DeltaType.WRITE, 5),
      entry(DeltaType.RENAME, 5),
      entry(DeltaType.RENAME, 6),
      entry(DeltaType.WRITE, 6),
      entry(DeltaType.SETATTR, 7),
      entry(DeltaType.TRUNCATE, 8),
      entry(DeltaType.MKDIR, 11),
      entry(DeltaType.SYMLINK, 12),
    ]);
    expect(Object.fromEntries(marks)).toEqual({
      10: "added",
      5: "renamed",
      6: "renamed",
      7: "modified",
      8: "modified",
      11: "added",
      12: "added",
    });
  });
});

describe("problemTarget", () => {
  it("reads what a validator structure names", () => {
    expect(problemTarget("branch 3")).toEqual({ kind: "branch", slot: 3 });
    expect(problemTarget("delta agent@0x11203b")).toEqual({ kind: "log", branch: "agent", offset: 0x11203b });
    expect(problemTarget("delta agent@1122363")).toEqual({ kind: "log", branch: "agent", offset: 1122363 });
    expect(problemTarget("delta id 7@4096")).toEqual({ kind: "log", branch: "id 7", offset: 4096 });
    expect(problemTarget("replay main")).toEqual({ kind: "log", branch: "main" });
    expect(problemTarget("inode 12")).toEqual({ kind: "inode", ino: 12 });
    expect(problemTarget("dirent 4[2]")).toEqual({ kind: "inode", ino: 4 });
    expect(problemTarget("superblock")).toBeUndefined();
  });
});

describe("entryTime", () => {
  it("shows a log timestamp (ns since the epoch) as UTC, and 0 as no time", async () => {
    const { entryTime } = await import("./components/LogScreen.js");
    expect(entryTime(1_764_553_543_058_000_001n)).toBe("2025-12-01T01:45:43.058000001Z");
    expect(entryTime(0n)).toBe("no time");
  });
});

describe("count", () => {
  it("says one thing in the singular and others in the plural", () => {
    expect(count(1, "change")).toBe("1 change");
    expect(count(0, "change")).toBe("0 changes");
    expect(count(1, "directory", "directories")).toBe("1 directory");
    expect(count(2, "directory", "directories")).toBe("2 directories");
  });
});

describe("fileText", () => {
  it("shows names and link targets that are not UTF-8 escaped, as daxfs-inspect does", () => {
    const row = { path: "/f\udcfe", name: "f\udcfe", ino: 2, mode: 0o120777, depth: 0, expanded: false };
    expect(fileText(row, undefined, undefined, 40, "t\udce9\n").trimEnd()).toMatch(
      /^ {4}f\\xfe +-> t\\xe9\\x0a$/,
    );
  });
});
