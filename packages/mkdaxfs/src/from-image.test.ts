// mkdaxfs --from-image IMAGE (docs/space.md "Compaction"): main of an image (base + main's log) as
// the source, read by the same branchTree as daxfs-compact; mkdaxfs's own flags choose the mode and
// the tree options. Bad input is one line naming the image, nothing at -o.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import {
  BranchFiles,
  BranchWriter,
  branchContext,
  buildImage,
  commitBranch,
  createBranch,
  DaxfsImage,
  FileImage,
  validate,
} from "@daxfs/core";
import { canonicalLinkGroups, describeView, testDir, testFile, testSymlink } from "@daxfs/core/testing";
import { DaxfsSuper } from "@daxfs/format";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./cli.js";

const scratch = mkdtempSync(join(tmpdir(), "mkdaxfs-from-image-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

class Capture extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(args: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const mainTree = (path: string) => {
  const image = DaxfsImage.openFile(path);
  try {
    return canonicalLinkGroups(describeView(image.view("main")));
  } finally {
    image.close();
  }
};

/** An image whose main holds a committed hard link, a new file and a deletion. */
function imageWithHistory(): string {
  const path = join(scratch, "img");
  const shared = testFile("shared\n", { uid: 5, gid: 6 });
  const root = testDir({ a: shared, b: testFile("gone\n"), s: testSymlink("a") });
  writeFileSync(path, buildImage(root, { branching: true, deltaSize: 2 << 20 }));
  const source = FileImage.open(path, { writable: true });
  const ctx = branchContext(source);
  const record = createBranch(ctx, "w", "main");
  const files = new BranchFiles(DaxfsImage.open(source).view("w"), BranchWriter.forRecord(ctx, record));
  files.link("/a", "/a2");
  files.write(files.create("/new", 0o640, { uid: 1, gid: 2 }), 0, new TextEncoder().encode("new\n"));
  files.unlink("/b");
  commitBranch(ctx, record.id);
  source.close();
  return path;
}

describe("mkdaxfs --from-image", () => {
  it("builds main's tree into a new base, in the mode mkdaxfs's flags ask for", async () => {
    const input = imageWithHistory();
    const out = join(scratch, "static.img");
    expect((await run(["--from-image", input, "-o", out])).code).toBe(0);
    expect(mainTree(out)).toEqual(mainTree(input));
    const image = DaxfsImage.openFile(out);
    expect(image.branching).toBe(false);
    expect(validate(image.source).problems).toEqual([]);
    image.close();
    const branching = join(scratch, "b.img");
    expect(
      (await run(["--from-image", input, "-o", branching, "-b", "-D", "1M", "--all-root", "--zero-times"]))
        .code,
    ).toBe(0);
    const rebuilt = mainTree(branching) as { children: Record<string, { uid: number }> };
    expect(Object.keys(rebuilt.children).sort()).toEqual(["a", "a2", "new", "s"]);
    expect(Object.values(rebuilt.children).every((child) => child.uid === 0)).toBe(true);
    expect(DaxfsSuper.decode(readFileSync(branching), 0).flags).toBe(0);
  });

  it("refuses other sources with it, and a bad image in one line", async () => {
    const input = imageWithHistory();
    const out = join(scratch, "never.img");
    const usage = await run(["--from-image", input, "-d", scratch, "-o", out]);
    expect(usage).toMatchObject({ code: 1, stdout: "" });
    expect(usage.stderr).toBe(
      "mkdaxfs: --from-image: cannot be combined with -d/--directory or --tar\nTry 'mkdaxfs --help'.\n",
    );
    const missing = await run(["--from-image", join(scratch, "nope"), "-o", out]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`mkdaxfs: ${join(scratch, "nope")}: no such file\n`);
    expect(existsSync(out)).toBe(false);
  });
});
