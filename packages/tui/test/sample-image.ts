// A real branching image for the TUI's tests and bench: built by core's builder, with branches
// made and written through core's lifecycle and POSIX layer (as daxfs-branch and daxfs-fuse do).
import { writeFileSync } from "node:fs";
import {
  BranchFiles,
  type BranchView,
  BranchWriter,
  branchContext,
  buildImage,
  createBranch,
  DaxfsImage,
  FileImage,
  makeDir,
  makeFile,
  makeSymlink,
} from "@daxfs/core";

const root = { uid: 0, gid: 0 };

export function sampleRoot() {
  const tree = makeDir();
  const etc = makeDir();
  etc.children.set("hostname", makeFile("daxfs\n"));
  etc.children.set(
    "motd",
    makeFile(Array.from({ length: 100 }, (_, i) => `line ${i + 1} of the motd`).join("\n")),
  );
  tree.children.set("etc", etc);
  const bin = makeDir();
  bin.children.set(
    "tool",
    makeFile(
      Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff),
      { mode: 0o755 },
    ),
  );
  tree.children.set("bin", bin);
  tree.children.set("lib", makeSymlink("usr/lib"));
  return tree;
}

/** Appends through core's POSIX layer to branch `name` of the image file at `path`. */
export function writeInBranch(
  path: string,
  name: string,
  body: (files: BranchFiles, view: BranchView) => void,
): void {
  const source = FileImage.open(path, { writable: true });
  try {
    const ctx = branchContext(source);
    const record = ctx.image.findBranch(name);
    if (!record) throw new Error(`no branch ${name}`);
    const view = DaxfsImage.open(source).view(name);
    body(new BranchFiles(view, BranchWriter.forRecord(ctx, record)), view);
  } finally {
    source.close();
  }
}

/** main with /etc, /bin, /lib; branch "agent" (child of main) adds /etc/new and edits /etc/hostname. */
export function writeSampleImage(path: string): void {
  writeFileSync(path, buildImage(sampleRoot(), { branching: true, deltaSize: 8 * 1024 * 1024 }));
  const source = FileImage.open(path, { writable: true });
  try {
    const ctx = branchContext(source);
    createBranch(ctx, "agent", "main");
  } finally {
    source.close();
  }
  writeInBranch(path, "agent", (files, view) => {
    const ino = files.create("/etc/new", 0o644, root);
    files.write(ino, 0, new TextEncoder().encode("fresh\n"));
    const host = view.resolve("/etc/hostname");
    files.write(host, 0, new TextEncoder().encode("dax2s\n"));
  });
}
