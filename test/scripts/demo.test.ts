// scripts/demo.sh on a tree too large to print (issue 14 item 6): it builds, shows the tree once and
// at most DEMO_LINES lines of it, validates, and exits 0. The tree's listing is bigger than a pipe's
// buffer, so a `printf | head` under pipefail dies of SIGPIPE (status 141) here. Runs the bundles
// of `pnpm run build`, as the script does.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "daxfs-demo-test-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("scripts/demo.sh", () => {
  it("keeps its output short on a large tree and exits 0", () => {
    const tree = join(work, "tree");
    // 40 directories of 50 files with long names: a `tree` listing of about 150 KiB.
    for (let d = 0; d < 40; d++) {
      const dir = join(tree, `directory-with-a-long-name-${d}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < 50; f++)
        writeFileSync(join(dir, `file-with-a-long-name-to-fill-the-pipe-${f}`), "");
    }
    const image = join(work, "demo.daxfs");
    const run = spawnSync("bash", ["scripts/demo.sh", tree, image], {
      cwd: repo,
      encoding: "utf8",
      env: { ...process.env, DEMO_LINES: "10" },
      timeout: 120_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const lines = run.stdout.split("\n");
    // The tree once: its root line, 9 more, the pointer to the rest.
    expect(lines.filter((line) => line === "/")).toHaveLength(1);
    expect(run.stdout).toMatch(/\n\.\.\. \(\d+ more lines: daxfs-inspect .* tree\)\n/);
    // The branch's listing too, when the demo mounts one (root with /dev/fuse).
    if (process.getuid?.() === 0 && existsSync("/dev/fuse"))
      expect(run.stdout).toMatch(/\nbranch 'demo' mounted at .*\n(.*\n){10}\.\.\. \(\d+ more lines\)\n/);
    expect(run.stdout).toContain("\nNo errors found\n");
    expect(lines.length).toBeLessThan(100);
  });
});
