// Images that use no extension stay byte-identical to plain v5 (docs/semantics.md "Extensions"):
// the same build and the same branch operations, none of them link() or utimens(), give the same
// bytes as before the LINK, UTIMES and BASE_MTIME extensions existed. The digest below was taken
// from this exact sequence on the tree before those extensions were added (commit 7690233).
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { buildImage } from "../build/write.js";
import { DaxfsImage } from "../image.js";
import { MemoryImage } from "../image-source.js";
import { testDir, testFile } from "../testing/tree.js";
import { COORD_OWNER_BOOT_OFFSET, COORD_OWNER_PID_OFFSET } from "./coord-lock.js";
import { branchContext, commitBranch, createBranch } from "./lifecycle.js";
import { BranchFiles } from "./posix.js";
import { BranchWriter } from "./writer.js";

const PLAIN_V5_SHA256 = "920fdb1a75f095c30eb150c789795d4b2b0b6c8b2d0ac0f2c8fd36fb78f5ef03";

describe("an image that uses no extension", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2030-01-01T00:00:00Z"));
  });
  afterEach(() => vi.useRealTimers());

  it("is byte-identical to plain v5 after build, writes, renames, deletes and a commit", () => {
    const root = testDir({
      etc: testDir({ passwd: testFile("root:x:0:0\n") }),
      bin: testDir({ sh: testFile("#!/bin/sh\n") }),
    });
    const bytes = buildImage(root, { branching: true, deltaSize: 4 << 20 });
    const source = new MemoryImage(bytes, true);
    const ctx = branchContext(source);
    const record = createBranch(ctx, "work", "main");
    const image = DaxfsImage.open(source);
    const files = new BranchFiles(image.view("work"), BranchWriter.forRecord(ctx, record));
    const owner = { uid: 0, gid: 0 };
    const ino = files.create("/etc/status", 0o644, owner);
    files.write(ino, 0, new TextEncoder().encode("installed\n"));
    files.mkdir("/var", 0o755, owner);
    files.symlink("/etc/status", "/var/status", owner);
    files.rename("/etc/status", "/etc/status-old");
    files.chmod("/etc/status-old", 0o600);
    files.truncate(ino, 3, "/etc/status-old");
    files.unlink("/bin/sh");
    commitBranch(ctx, record.id);
    // The lock's last owner (pid, process start time, boot id) differs per run: not format bytes.
    bytes.fill(0, COORD_OWNER_PID_OFFSET, COORD_OWNER_BOOT_OFFSET + 4);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(PLAIN_V5_SHA256);
  });
});
