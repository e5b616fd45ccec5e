// mkdaxfs --from-image IMAGE (docs/space.md "Compaction"): main of an image (base + main's log) as
// the source, read by the same branchTree as daxfs-compact; mkdaxfs's own flags choose the mode and
// the tree options. Bad input is one line naming the image, nothing at -o.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaxfsImage, validate } from "@daxfs/core";
import { CapturedOutput, describeMainOf, writeImageWithHistory } from "@daxfs/core/testing";
import { DaxfsSuper } from "@daxfs/format";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "./cli.js";

const scratch = mkdtempSync(join(tmpdir(), "mkdaxfs-from-image-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

async function run(args: string[]) {
  const stdout = new CapturedOutput();
  const stderr = new CapturedOutput();
  const code = await main(args, { stdout, stderr, env: {} });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const mainTree = describeMainOf;

function imageWithHistory(): string {
  const path = join(scratch, "img");
  writeImageWithHistory(path);
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
    expect(Object.keys(rebuilt.children).sort()).toEqual(["etc", "link", "sym"]);
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
    expect(missing.stderr).toBe(`mkdaxfs: ${join(scratch, "nope")}: no such file or directory\n`);
    expect(existsSync(out)).toBe(false);
  });
});
