// Branch lifecycle through real mounts and the control channel (SPEC 3.4, 3.9, 3.10): create,
// write, commit (main sees it without a remount, siblings get ESTALE), abort, unmount drops only
// the current branch, re-attach after a crash, and the CLI's one-line errors.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { DaxfsImage, FileImage, validate } from "@daxfs/core";
import { BranchState } from "@daxfs/format";
import { afterEach, describe, expect, it } from "vitest";
import { controlRequest, controlSocketPath } from "../src/control.js";
import { dir, errno, FuseHarness, file, isMounted } from "../src/testing/index.js";

function branchesOf(image: string) {
  const opened = DaxfsImage.openFile(image);
  try {
    return opened.branches();
  } finally {
    opened.close();
  }
}

const control = (mountpoint: string, op: "info" | "commit" | "abort") =>
  controlRequest(controlSocketPath(mountpoint), op);

let harness: FuseHarness;
afterEach(async () => {
  await harness.cleanup();
});

describe("branch lifecycle over FUSE", () => {
  it("commit: main shows the change at once, siblings get ESTALE, the committed mount shows main", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({ "base.txt": file("base") }));
    const main = await harness.mount(image);
    const dev = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    const other = await harness.mount(image, ["--branch", "other", "--parent", "main"]);
    fs.writeFileSync(join(dev.mountpoint, "feature.txt"), "from dev");
    fs.writeFileSync(join(other.mountpoint, "other.txt"), "from other");
    expect(errno(() => fs.statSync(join(main.mountpoint, "feature.txt")))).toBe("ENOENT");
    expect(await control(dev.mountpoint, "info")).toMatchObject({
      ok: true,
      branch: "dev",
      parent: "main",
      writable: true,
      image,
    });

    expect(await control(dev.mountpoint, "commit")).toMatchObject({
      ok: true,
      branch: "main",
      writable: false,
    });
    expect(fs.readFileSync(join(main.mountpoint, "feature.txt"), "utf8")).toBe("from dev");
    expect(fs.readFileSync(join(dev.mountpoint, "feature.txt"), "utf8")).toBe("from dev");
    expect(errno(() => fs.writeFileSync(join(dev.mountpoint, "after"), "x"))).toBe("EROFS");
    expect(errno(() => fs.readdirSync(other.mountpoint))).toBe("ESTALE");
    expect(errno(() => fs.writeFileSync(join(other.mountpoint, "x"), "x"))).toBe("ESTALE");
    expect(await control(other.mountpoint, "commit")).toMatchObject({ ok: false, errno: "ESTALE" });
    expect(await control(main.mountpoint, "commit")).toMatchObject({ ok: false, errno: "EOPNOTSUPP" });

    const records = branchesOf(image);
    expect(records.find((r) => r.id === 2)).toMatchObject({ state: BranchState.COMMITTED, name: "" });
    expect(records.find((r) => r.id === 3)).toMatchObject({ state: BranchState.ABORTED, name: "other" });
  });

  it("nested branches commit the whole chain; the middle mount becomes stale", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({}));
    const main = await harness.mount(image);
    const parent = await harness.mount(image, ["--branch", "p", "--parent", "main"]);
    const child = await harness.mount(image, ["--branch", "c", "--parent", "p"]);
    fs.writeFileSync(join(parent.mountpoint, "in-parent"), "P");
    fs.writeFileSync(join(child.mountpoint, "in-child"), "C");
    // A child sees what its parent writes after the child was created.
    expect(fs.readFileSync(join(child.mountpoint, "in-parent"), "utf8")).toBe("P");
    expect(errno(() => fs.statSync(join(parent.mountpoint, "in-child")))).toBe("ENOENT");
    expect(await control(parent.mountpoint, "commit")).toMatchObject({ ok: false, errno: "EBUSY" });
    expect(await control(child.mountpoint, "info")).toMatchObject({ ok: true, branchPath: "/main/p/c" });
    expect(await control(child.mountpoint, "commit")).toMatchObject({ ok: true, branchPath: "/main" });
    expect(fs.readdirSync(main.mountpoint).sort()).toEqual(["in-child", "in-parent"]);
    expect(errno(() => fs.readdirSync(parent.mountpoint))).toBe("ESTALE");
  });

  it("abort drops the chain back to main and frees the name", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({ "keep.txt": file("keep") }));
    const dev = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    fs.writeFileSync(join(dev.mountpoint, "gone.txt"), "x");
    fs.unlinkSync(join(dev.mountpoint, "keep.txt"));
    expect(await control(dev.mountpoint, "abort")).toMatchObject({
      ok: true,
      branch: "main",
      writable: false,
    });
    expect(fs.readdirSync(dev.mountpoint)).toEqual(["keep.txt"]);
    expect(branchesOf(image).find((r) => r.id === 2)).toMatchObject({
      state: BranchState.ABORTED,
      name: "",
      generation: 1,
    });
    const again = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    expect(fs.readdirSync(again.mountpoint)).toEqual(["keep.txt"]);
  });

  it("unmount (SIGTERM or fusermount -u) drops only the current branch", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({}));
    const parent = await harness.mount(image, ["--branch", "p", "--parent", "main"]);
    const child = await harness.mount(image, ["--branch", "c", "--parent", "p"]);
    fs.writeFileSync(join(child.mountpoint, "f"), "x");
    expect(await child.stop()).toBe(0);
    expect(isMounted(child.mountpoint)).toBe(false);
    let records = branchesOf(image);
    expect(records.find((r) => r.id === 3)).toMatchObject({ state: BranchState.ABORTED, name: "" });
    expect(records.find((r) => r.id === 2)).toMatchObject({ state: BranchState.ACTIVE, name: "p" });
    expect(spawnSync("fusermount", ["-u", parent.mountpoint]).status).toBe(0);
    expect(await parent.stop()).toBe(0);
    records = branchesOf(image);
    expect(records.find((r) => r.id === 2)).toMatchObject({ state: BranchState.ABORTED, name: "" });
  });

  it("a branch whose process was killed survives and is re-attached by name", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({}));
    const dev = await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    fs.writeFileSync(join(dev.mountpoint, "survivor"), "still here");
    dev.process.kill("SIGKILL");
    await dev.stop();
    spawnSync("fusermount", ["-uz", dev.mountpoint]);
    expect(branchesOf(image).find((r) => r.name === "dev")?.state).toBe(BranchState.ACTIVE);
    const again = await harness.mount(image, ["--branch", "dev"]);
    expect(fs.readFileSync(join(again.mountpoint, "survivor"), "utf8")).toBe("still here");
  });

  it("two processes write branches at once and commit, coordinating through coord_lock", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({}), 32 * 1024 * 1024);
    const main = await harness.mount(image);
    const a = await harness.mount(image, ["--branch", "a", "--parent", "main"]);
    const b = await harness.mount(image, ["--branch", "b", "--parent", "main"]);
    const writer = (cwd: string, tag: string) =>
      new Promise<number | null>((ok) =>
        spawn(
          "sh",
          ["-c", `i=0; while [ $i -lt 300 ]; do echo "${tag}$i" >> log; mkdir d$i; i=$((i+1)); done`],
          { cwd },
        ).on("exit", ok),
      );
    const open = fs.openSync(join(a.mountpoint, "held-open"), "w");
    expect(await Promise.all([writer(a.mountpoint, "a"), writer(b.mountpoint, "b")])).toEqual([0, 0]);
    expect(await control(a.mountpoint, "commit")).toMatchObject({ ok: true });
    // A descriptor opened in the branch stays open; the mount now serves main, so writes are refused.
    expect(errno(() => fs.writeSync(open, "x"))).toBe("EROFS");
    fs.closeSync(open);
    const log = fs.readFileSync(join(main.mountpoint, "log"), "utf8");
    expect(log).toBe(Array.from({ length: 300 }, (_, i) => `a${i}\n`).join(""));
    expect(fs.readdirSync(main.mountpoint).filter((n) => n.startsWith("d"))).toHaveLength(300);
    expect(errno(() => fs.statSync(join(b.mountpoint, "log")))).toBe("ESTALE");
    expect(validate(FileImage.open(image)).problems).toEqual([]);
    const inos = new Set(
      fs.readdirSync(main.mountpoint).map((n) => fs.statSync(join(main.mountpoint, n)).ino),
    );
    expect(inos.size).toBe(302);
  });

  it("a mount point in use is refused before anything is touched: the live branch keeps its control socket", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({}));
    const live = await harness.mount(image, ["--branch", "b1", "--parent", "main"]);
    fs.writeFileSync(join(live.mountpoint, "new"), "x");
    const records = JSON.stringify(branchesOf(image), (_, v) => (typeof v === "bigint" ? `${v}` : v));
    for (const args of [["--branch", "b2", "--parent", "main"], []]) {
      const refused = harness.failMount(image, args, live.mountpoint);
      expect(refused.status).toBe(1);
      expect(refused.output).toBe(
        `daxfs-fuse: ${live.mountpoint}: mount point in use (a file system is mounted there: unmount it or choose another directory)\n`,
      );
    }
    // No branch slot was taken, and the live mount still answers on its socket and commits.
    expect(JSON.stringify(branchesOf(image), (_, v) => (typeof v === "bigint" ? `${v}` : v))).toBe(records);
    expect(await control(live.mountpoint, "commit")).toMatchObject({ ok: true });
    expect(fs.readFileSync(join(live.mountpoint, "new"), "utf8")).toBe("x");
  });

  it("--validate refuses an image with a problem the open does not notice", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({ f: file("x") }));
    const bytes = fs.readFileSync(image);
    bytes.writeUInt32LE(7, 36864 + 4096 + 64 + 32); // nlink of inode 2 (the file "f")
    fs.writeFileSync(image, bytes);
    const refused = harness.failMount(image, ["--validate"]);
    expect(refused.status).toBe(1);
    expect(refused.output).toMatch(/validation failed.*nlink/);
    expect(refused.output.trim().split("\n")).toHaveLength(1);
    expect(refused.output).not.toMatch(/more: daxfs-inspect/);
    // Many problems: the first and a count, not every problem on the one line.
    bytes.writeUInt32LE(9, 36864 + 4096 + 32); // nlink of the root too
    fs.writeFileSync(image, bytes);
    const two = harness.failMount(image, ["--validate"]);
    expect(two.output).toMatch(
      /validation failed: .*nlink[^;]* \(and 1 more: daxfs-inspect .* validate lists them all\)\n$/,
    );
    expect(two.output.trim().split("\n")).toHaveLength(1);
  });

  it("refuses bad requests with one line and exit status 1", async () => {
    harness = new FuseHarness();
    const image = harness.image(dir({}));
    const cases: [string[], RegExp][] = [
      [["--branch", "main", "--parent", "main"], /reserved/],
      [["--branch", "x".repeat(32), "--parent", "main"], /longer than 31 bytes/],
      [["--branch", "dev", "--parent", "nope"], /parent branch "nope" not found/],
      [["--branch", "nope"], /branch "nope" not found/],
      // A usage error: its line, then where to read more (docs/cli.md "Messages").
      [["--parent", "main"], /^daxfs-fuse: --parent: needs --branch\nTry 'daxfs-fuse --help'\.\n$/],
    ];
    for (const [args, message] of cases) {
      const result = harness.failMount(image, args);
      expect(result.status).toBe(1);
      expect(result.output).toMatch(message);
      expect(result.output.trim().split("\n")).toHaveLength(message.source.includes("Try") ? 2 : 1);
    }
    const bogus = join(harness.dir, "not-an-image");
    fs.writeFileSync(bogus, Buffer.alloc(8192));
    const result = harness.failMount(bogus, []);
    expect(result.status).toBe(1);
    expect(result.output).toMatch(/not-an-image/);
    expect(result.output.trim().split("\n")).toHaveLength(1);
    await harness.mount(image, ["--branch", "dev", "--parent", "main"]);
    expect(harness.failMount(image, ["--branch", "dev", "--parent", "main"]).output).toMatch(
      /already exists/,
    );
  });
});
