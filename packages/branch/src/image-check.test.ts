// The checks create and switch make in a FUSE branch's image before they print anything, on real
// image files; create.test.ts checks that nothing is printed or started when one fails.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { branchContext, buildImage, createBranch, MemoryImage } from "@daxfs/core";
import { testDir, testFile } from "@daxfs/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { createCommand, switchCommand } from "./create.js";
import { fuseImageProblem } from "./image-check.js";
import { fakeEnv } from "./test-support/fake-env.js";

const work = mkdtempSync(join(tmpdir(), "daxfs-branch-check-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tree = () => testDir({ a: testFile("a") });
const fresh = join(work, "fresh.daxfs");
writeFileSync(fresh, buildImage(tree(), { branching: true, deltaSize: 4 << 20 }));
const staticImage = join(work, "static.daxfs");
writeFileSync(staticImage, buildImage(tree()));
/** main and an active branch "feat". */
const withFeat = join(work, "feat.daxfs");
{
  const bytes = buildImage(tree(), { branching: true, deltaSize: 4 << 20 });
  createBranch(branchContext(new MemoryImage(bytes, true)), "feat", "main");
  writeFileSync(withFeat, bytes);
}

describe("fuseImageProblem", () => {
  it("accepts a new branch of main, even before main's first mount, and of an active branch", () => {
    expect(fuseImageProblem(fresh, "x", "main")).toBeUndefined();
    expect(fuseImageProblem(withFeat, "x", "feat")).toBeUndefined();
    expect(fuseImageProblem(withFeat, "feat", undefined)).toBeUndefined();
  });

  it("names the image and the reason for each refusal", () => {
    const missing = join(work, "missing.daxfs");
    expect(fuseImageProblem(missing, "x", "main")).toBe(`${missing}: no such file or directory`);
    expect(fuseImageProblem(work, "x", "main")).toBe(`${work}: is a directory, not an image`);
    expect(fuseImageProblem(staticImage, "x", "main")).toBe(
      `${staticImage}: a static image has no branches (build it with mkdaxfs -b)`,
    );
    expect(fuseImageProblem(withFeat, "feat", "main")).toBe(`${withFeat}: branch 'feat' exists`);
    expect(fuseImageProblem(withFeat, "x", "nope")).toBe(`${withFeat}: no active parent branch 'nope'`);
    expect(fuseImageProblem(fresh, "x", "feat")).toBe(`${fresh}: no active parent branch 'feat'`);
    expect(fuseImageProblem(withFeat, "gone", undefined)).toBe(
      `${withFeat}: no active branch 'gone' to switch to`,
    );
    const notDaxfs = join(work, "zeros.daxfs");
    writeFileSync(notDaxfs, new Uint8Array(8192));
    expect(fuseImageProblem(notDaxfs, "x", "main")).toMatch(new RegExp(`^${notDaxfs}: .*magic`));
  });
});

describe("create and switch check the image first", () => {
  it("print nothing on stdout and start no daxfs-fuse when the image refuses", async () => {
    const env = fakeEnv([], { fuseImageProblem });
    const missing = join(work, "missing.daxfs");
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/b", image: missing })).toBe(1);
    expect(await createCommand(env, { name: "feat", parent: "main", mount: "/mnt/b", image: withFeat })).toBe(
      1,
    );
    expect(await switchCommand(env, { name: "gone", mount: "/mnt/b", image: withFeat })).toBe(1);
    expect(env.stdout).toEqual([]);
    expect(env.launched).toEqual([]);
    expect(env.stderr).toEqual([
      `daxfs-branch: ${missing}: no such file or directory`,
      `daxfs-branch: ${withFeat}: branch 'feat' exists`,
      `daxfs-branch: ${withFeat}: no active branch 'gone' to switch to`,
    ]);
  });

  it("then say what they do and do it", async () => {
    const env = fakeEnv([], { fuseImageProblem });
    expect(await createCommand(env, { name: "x", parent: "feat", mount: "/mnt/b", image: withFeat })).toBe(0);
    expect(env.stdout).toEqual([
      "Creating branch 'x' from parent 'feat'...",
      "Branch 'x' mounted at '/mnt/b'",
    ]);
    expect(env.launched).toEqual([{ image: withFeat, mountPoint: "/mnt/b", branch: "x", parent: "feat" }]);
  });
});
