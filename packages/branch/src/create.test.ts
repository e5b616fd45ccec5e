import { SyscallError } from "@daxfs/linux";
import { describe, expect, it } from "vitest";
import { createCommand, switchCommand } from "./create.js";
import { fakeEnv } from "./test-support/fake-env.js";

const IMG1_MAIN = "40 27 0:40 / /mnt/one rw - daxfs none ro,phys=0x100000000,size=268435456,branch=/main";
const IMG2_MAIN = "41 27 0:41 / /mnt/two rw - daxfs none ro,phys=0x200000000,size=268435456,branch=/main";
const IMG2_FEAT =
  "42 27 0:42 / /srv/feat rw - daxfs none rw,phys=0x200000000,size=268435456,branch=/main/feat";
const DMA_MAIN = "43 27 0:43 / /mnt/dma rw - daxfs none ro,source=dmabuf,size=67108864,branch=/main";
const FUSE_MAIN = "44 27 0:44 / /mnt/fuse rw - fuse.daxfs /img/a.daxfs rw,user_id=0";
const TMPFS = "45 27 0:45 / /mnt/one/work rw - tmpfs tmpfs rw";

describe("create on kernel mounts", () => {
  it("passes the source mount's dma-buf with SET_FD, then branch and parent, and closes the fd", async () => {
    const env = fakeEnv([DMA_MAIN], { getDmabufFd: () => 77 });
    expect(await createCommand(env, { name: "feat", parent: "main", mount: "/mnt/b" })).toBe(0);
    expect(env.mounted).toEqual([
      { fstype: "daxfs", fds: { dmabuf: 77 }, strings: { branch: "feat", parent: "main" }, target: "/mnt/b" },
    ]);
    expect(env.closed).toEqual([77]);
    expect(env.stdout).toEqual([
      "Creating branch 'feat' from parent 'main'...",
      "Branch 'feat' mounted at '/mnt/b'",
    ]);
  });

  it("falls back to phys= and size= when the source has no dma-buf (ENOENT)", async () => {
    const env = fakeEnv([IMG1_MAIN]);
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/b" })).toBe(0);
    expect(env.mounted[0]).toEqual({
      fstype: "daxfs",
      strings: { phys: "0x100000000", size: "268435456", branch: "x", parent: "main" },
      target: "/mnt/b",
    });
    expect(env.closed).toEqual([]);
  });

  it("prefers a mount of the parent branch over the first daxfs mount", async () => {
    const env = fakeEnv([IMG1_MAIN, IMG2_MAIN, IMG2_FEAT]);
    expect(await createCommand(env, { name: "sub", parent: "feat", mount: "/mnt/b" })).toBe(0);
    expect(env.mounted[0]?.strings).toMatchObject({ phys: "0x200000000", parent: "feat" });
    expect(env.stderr).toEqual([]);
  });

  it("among several mounts of the parent, takes the one containing the new mount point, and warns", async () => {
    const env = fakeEnv([IMG1_MAIN, IMG2_MAIN]);
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/two/branches/x" })).toBe(0);
    expect(env.mounted[0]?.strings).toMatchObject({ phys: "0x200000000" });
    expect(env.stderr).toEqual([
      "daxfs-branch: warning: branch 'main' is mounted from several images; using the mount at '/mnt/two' (choose with --source)",
    ]);
  });

  it("with no mount of the parent, takes the daxfs mount around the target, else the first with a warning", async () => {
    const around = fakeEnv([IMG1_MAIN, IMG2_FEAT]);
    expect(await createCommand(around, { name: "x", parent: "gone", mount: "/srv/feat/x" })).toBe(0);
    expect(around.mounted[0]?.strings).toMatchObject({ phys: "0x200000000" });
    // Not inside a daxfs mount: a tmpfs sits between /mnt/one and the target.
    const first = fakeEnv([IMG2_FEAT, IMG1_MAIN, TMPFS]);
    expect(await createCommand(first, { name: "x", parent: "gone", mount: "/mnt/one/work/x" })).toBe(0);
    expect(first.mounted[0]?.strings).toMatchObject({ phys: "0x200000000" });
    expect(first.stderr[0]).toMatch(
      /^daxfs-branch: warning: several daxfs mounts and none of branch 'gone'; using the first, at '\/srv\/feat'/,
    );
  });

  it("uses the mount named by --source", async () => {
    const env = fakeEnv([IMG1_MAIN, IMG2_MAIN]);
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/b", source: "/mnt/two" })).toBe(
      0,
    );
    expect(env.mounted[0]?.strings).toMatchObject({ phys: "0x200000000" });
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/b", source: "/mnt/b" })).toBe(
      1,
    );
    expect(env.stderr).toEqual(["Error: no daxfs mount at '/mnt/b'"]);
  });

  it("reports the mount failure with the kernel's words and still closes the dma-buf", async () => {
    const env = fakeEnv([DMA_MAIN], {
      getDmabufFd: () => 9,
      mountWithFsContext: (spec) => {
        throw new SyscallError("fsconfig", 17, {
          path: spec.target,
          details: ["daxfs: setting branch=x", "kernel: e daxfs: branch exists"],
        });
      },
    });
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/b" })).toBe(1);
    expect(env.closed).toEqual([9]);
    expect(env.stdout).toEqual(["Creating branch 'x' from parent 'main'..."]);
    expect(env.stderr[0]).toMatch(
      /^daxfs-branch: \/mnt\/b: cannot mount branch 'x': fsconfig \/mnt\/b: .*\(EEXIST\)/,
    );
    expect(env.stderr[0]).toContain("branch exists");
  });
});

describe("create argument checks", () => {
  it("requires name, parent and mount point, in that order, with the public messages", async () => {
    const env = fakeEnv([IMG1_MAIN]);
    expect(await createCommand(env, { parent: "main", mount: "/mnt/b" })).toBe(1);
    expect(await createCommand(env, { name: "x", mount: "/mnt/b" })).toBe(1);
    expect(await createCommand(env, { name: "x", parent: "main" })).toBe(1);
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/b", image: "" })).toBe(1);
    expect(env.stderr).toEqual([
      "Error: branch name required\nTry 'daxfs-branch --help'.",
      "Error: parent branch required (-p)\nTry 'daxfs-branch --help'.",
      "Error: mountpoint required (-m)\nTry 'daxfs-branch --help'.",
      "daxfs-branch: --image: empty path\nTry 'daxfs-branch --help'.",
    ]);
    expect(env.mounted).toEqual([]);
  });

  it("rejects names the format cannot hold, a missing mount point and an empty mount table", async () => {
    const env = fakeEnv([IMG1_MAIN]);
    expect(await createCommand(env, { name: "n".repeat(32), parent: "main", mount: "/mnt/b" })).toBe(1);
    expect(await createCommand(env, { name: "main", parent: "main", mount: "/mnt/b" })).toBe(1);
    expect(await createCommand(env, { name: "x", parent: "main", mount: "/mnt/missing" })).toBe(1);
    expect(await createCommand(fakeEnv([]), { name: "x", parent: "main", mount: "/mnt/b" })).toBe(1);
    // A file as the mount point: refused before anything is mounted or started.
    const file = fakeEnv([IMG1_MAIN], { isDirectory: (path) => path !== "/mnt/file" });
    expect(await createCommand(file, { name: "x", parent: "main", mount: "/mnt/file" })).toBe(1);
    expect(file.stderr).toEqual(["daxfs-branch: /mnt/file: mountpoint is not a directory"]);
    expect([file.mounted, file.launched]).toEqual([[], []]);
    expect(env.stderr).toEqual([
      `daxfs-branch: ${"n".repeat(32)}: branch name is longer than 31 bytes`,
      "daxfs-branch: main: branch name is reserved",
      "daxfs-branch: /mnt/missing: mountpoint does not exist",
    ]);
    expect(env.mounted).toEqual([]);
    // 31 bytes is fine (multi-byte characters count in bytes).
    expect(await createCommand(env, { name: "é".repeat(15), parent: "main", mount: "/mnt/b" })).toBe(0);
    expect(await createCommand(env, { name: "é".repeat(16), parent: "main", mount: "/mnt/b" })).toBe(1);
  });
});

describe("create on FUSE mounts", () => {
  it("starts daxfs-fuse on the source mount's image", async () => {
    const env = fakeEnv([FUSE_MAIN], {
      fuseInfo: async () => ({
        image: "/img/real.daxfs",
        branch: "main",
        parent: null,
        writable: false,
        pid: 5,
      }),
    });
    expect(await createCommand(env, { name: "feat", parent: "main", mount: "/mnt/b" })).toBe(0);
    expect(env.launched).toEqual([
      { image: "/img/real.daxfs", mountPoint: "/mnt/b", branch: "feat", parent: "main" },
    ]);
    expect(env.mounted).toEqual([]);
    expect(env.stdout).toEqual([
      "Creating branch 'feat' from parent 'main'...",
      "Branch 'feat' mounted at '/mnt/b'",
    ]);
  });

  it("serves a branch of an image file given with --image, with no mount needed", async () => {
    const env = fakeEnv([]);
    expect(
      await createCommand(env, { name: "feat", parent: "main", mount: "/mnt/b", image: "/img/x.daxfs" }),
    ).toBe(0);
    expect(env.launched).toEqual([
      { image: "/img/x.daxfs", mountPoint: "/mnt/b", branch: "feat", parent: "main" },
    ]);
  });

  it("refuses a mount point in use before anything is written or started", async () => {
    const env = fakeEnv([FUSE_MAIN]);
    const args = { name: "feat", parent: "main", mount: "/mnt/fuse", image: "/img/a.daxfs" };
    expect(await createCommand(env, args)).toBe(1);
    expect(env.stderr).toEqual([
      "daxfs-branch: /mnt/fuse: mount point in use (a file system is mounted there: unmount it or choose another directory)",
    ]);
    expect(env.stdout).toEqual([]);
    expect(env.launched).toEqual([]);
  });

  it("reports a daxfs-fuse that fails to mount", async () => {
    const env = fakeEnv([], {
      launchFuseBranch: async () => {
        throw new Error("daxfs-fuse exited with status 1 before mounting: Error: branch 'feat' exists");
      },
    });
    expect(await createCommand(env, { name: "feat", parent: "main", mount: "/mnt/b", image: "/i" })).toBe(1);
    expect(env.stderr[0]).toBe(
      "daxfs-branch: /mnt/b: cannot mount branch 'feat': daxfs-fuse exited with status 1 before mounting: Error: branch 'feat' exists",
    );
  });
});

describe("switch: mount an existing branch", () => {
  it("kernel: passes branch= without parent=, backed like the mount of that branch", async () => {
    const env = fakeEnv([IMG1_MAIN, IMG2_MAIN, IMG2_FEAT]);
    expect(await switchCommand(env, { name: "feat", mount: "/mnt/again" })).toBe(0);
    expect(env.mounted).toEqual([
      {
        fstype: "daxfs",
        strings: { phys: "0x200000000", size: "268435456", branch: "feat" },
        target: "/mnt/again",
      },
    ]);
    expect(env.stdout).toEqual(["Switching to branch 'feat'...", "Branch 'feat' mounted at '/mnt/again'"]);
    expect(env.stderr).toEqual([]);
  });

  it("kernel: a dma-buf source goes with SET_FD and the fd is closed", async () => {
    const env = fakeEnv([DMA_MAIN], { getDmabufFd: () => 9 });
    expect(await switchCommand(env, { name: "feat", mount: "/mnt/b" })).toBe(0);
    expect(env.mounted).toEqual([
      { fstype: "daxfs", fds: { dmabuf: 9 }, strings: { branch: "feat" }, target: "/mnt/b" },
    ]);
    expect(env.closed).toEqual([9]);
  });

  it("FUSE: starts daxfs-fuse --branch NAME without --parent", async () => {
    const env = fakeEnv([]);
    expect(await switchCommand(env, { name: "feat", mount: "/mnt/b", image: "/img/x.daxfs" })).toBe(0);
    expect(env.launched).toEqual([{ image: "/img/x.daxfs", mountPoint: "/mnt/b", branch: "feat" }]);
  });

  it("checks its arguments like create, and reports the kernel's refusal", async () => {
    const env = fakeEnv([IMG1_MAIN], {
      mountWithFsContext: () => {
        throw new SyscallError("fsconfig", 2, {
          path: "/mnt/b",
          details: [
            "daxfs: creating the superblock (FSCONFIG_CMD_CREATE)",
            "kernel: e daxfs: no branch 'gone'",
          ],
        });
      },
    });
    expect(await switchCommand(env, { mount: "/mnt/b" })).toBe(1);
    expect(await switchCommand(env, { name: "feat" })).toBe(1);
    expect(await switchCommand(env, { name: "main", mount: "/mnt/b" })).toBe(1);
    expect(await switchCommand(env, { name: "gone", mount: "/mnt/b" })).toBe(1);
    expect(env.stderr.slice(0, 3)).toEqual([
      "Error: branch name required\nTry 'daxfs-branch --help'.",
      "Error: mountpoint required (-m)\nTry 'daxfs-branch --help'.",
      "daxfs-branch: main: branch name is reserved",
    ]);
    expect(env.stderr[3]).toMatch(
      /^daxfs-branch: \/mnt\/b: cannot mount branch 'gone': fsconfig \/mnt\/b: .*no branch 'gone'/s,
    );
  });
});
