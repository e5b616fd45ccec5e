// An image whose main holds history (test helper for compaction, docs/space.md "Compaction"): a
// base tree with a hard link and a symlink, then one committed branch that adds a hard link,
// rewrites a new file four times (garbage in main's log) and removes a file. Plus what the CLI
// tests of the tools that read such an image share: their main tree, and a captured output stream.
import { writeFileSync } from "node:fs";
import { Writable } from "node:stream";
import { branchContext, commitBranch, createBranch } from "../branch/lifecycle.js";
import { BranchFiles } from "../branch/posix.js";
import { BranchWriter } from "../branch/writer.js";
import { buildImage } from "../build/write.js";
import { DaxfsImage } from "../image.js";
import { FileImage } from "../image-source.js";
import { canonicalLinkGroups, describeView, type TreeDescription } from "./read-tree.js";
import { testDir, testFile, testSymlink } from "./tree.js";

/** Writes the image to `path`: /etc/{status,motd}, /link (= /etc/status), /sym -> etc/motd, then history. */
export function writeImageWithHistory(path: string, deltaSize = 2 << 20): void {
  const shared = testFile("shared\n", { uid: 5, gid: 6 });
  const root = testDir({
    etc: testDir({ status: shared, motd: testFile("hi\n") }),
    link: shared,
    sym: testSymlink("etc/motd"),
  });
  writeFileSync(path, buildImage(root, { branching: true, deltaSize }));
  const source = FileImage.open(path, { writable: true });
  try {
    const ctx = branchContext(source);
    const record = createBranch(ctx, "history", "main");
    const view = DaxfsImage.open(source).view("history");
    const files = new BranchFiles(view, BranchWriter.forRecord(ctx, record));
    files.link("/etc/status", "/etc/status-old");
    const ino = files.create("/etc/new", 0o600, { uid: 7, gid: 8 });
    for (let i = 0; i < 4; i++) files.write(ino, 0, new Uint8Array(100_000).fill(i));
    files.unlink("/etc/motd");
    commitBranch(ctx, record.id);
  } finally {
    source.close();
  }
}

/** Main's tree of the image file at `path`, link groups by first path (inode numbers differ). */
export function describeMainOf(path: string): TreeDescription {
  const image = DaxfsImage.openFile(path);
  try {
    return canonicalLinkGroups(describeView(image.view("main")));
  } finally {
    image.close();
  }
}

/** A writable stream that keeps what a CLI's main() writes to it. */
export class CapturedOutput extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
