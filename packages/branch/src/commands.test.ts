import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SyscallError } from "@daxfs/linux";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { finishCommand, listCommand } from "./commands.js";
import { fuseControl, fuseInfo } from "./fuse-control.js";
import { fakeEnv } from "./test-support/fake-env.js";
import { type FakeFuseServer, startFakeFuseServer } from "./test-support/fake-fuse-server.js";

const MAIN =
  "40 27 0:40 / /mnt/main rw,relatime - daxfs none ro,phys=0x100000000,size=268435456,branch=/main";
const FEATURE =
  "41 27 0:41 / /mnt/feature rw,relatime - daxfs none rw,phys=0x100000000,size=268435456,branch=/main/feature";
const DMABUF =
  "42 27 0:42 / /mnt/dma\\040buf rw,relatime - daxfs none rw,source=dmabuf,size=67108864,branch=/main/exp/deep";
const FUSE =
  "43 27 0:43 / /mnt/fuse rw,nosuid,nodev,relatime - fuse.daxfs /img/a.daxfs rw,user_id=0,group_id=0";
const OTHER = "44 27 0:44 / /mnt/tmp rw - tmpfs tmpfs rw";

let dir: string;
let servers: FakeFuseServer[];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "daxfs-branch-"));
  servers = [];
});
afterEach(async () => {
  for (const server of servers) await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Control channel of the FUSE mount answered by a fake server with `answer`. */
async function fuseServed(answer: (op: string) => object) {
  const server = await startFakeFuseServer(join(dir, "fuse.sock"), answer);
  servers.push(server);
  const socketPaths = [server.path];
  return {
    server,
    overrides: {
      fuseInfo: (mountPoint: string) => fuseInfo(mountPoint, { socketPaths }),
      fuseControl: (mountPoint: string, op: "info" | "commit" | "abort") =>
        fuseControl(mountPoint, op, { socketPaths }),
    },
  };
}

const branchInfo = {
  ok: true,
  image: "/img/a.daxfs",
  branch: "feat",
  parent: "main",
  writable: true,
  pid: 99,
  branchPath: "/main/feat",
};

describe("list", () => {
  it("prints the public table: kernel phys and dma-buf mounts, FUSE mounts, nothing else", async () => {
    const { overrides } = await fuseServed(() => branchInfo);
    const env = fakeEnv([MAIN, FEATURE, OTHER, DMABUF, FUSE], overrides);
    expect(await listCommand(env, undefined)).toBe(0);
    expect(env.stdout).toEqual([
      "MOUNTPOINT            BRANCH PATH                     MODE      BACKING",
      "-----------------------------------------------------------------------",
      "/mnt/main             /main                           ro        phys=0x100000000,size=268435456",
      "/mnt/feature          /main/feature                   rw        phys=0x100000000,size=268435456",
      "/mnt/dma buf          /main/exp/deep                  rw        dmabuf",
      "/mnt/fuse             /main/feat                      rw        fuse:/img/a.daxfs",
    ]);
    expect(env.stderr).toEqual([]);
  });

  it("warns of a FUSE image's full delta region once, as every tool's warnings read", async () => {
    const full = "/img/a.daxfs: delta region 95% used (1 of 2 bytes)";
    const env = fakeEnv([FUSE, FUSE.replace("43 27 0:43 / /mnt/fuse", "45 27 0:45 / /mnt/fuse2")], {
      spaceWarning: (image) => (image === "/img/a.daxfs" ? full : undefined),
    });
    expect(await listCommand(env, undefined)).toBe(0);
    expect(env.stderr).toEqual([`daxfs-branch: warning: ${full}`]);
  });

  it("says so when there are no daxfs mounts", async () => {
    const env = fakeEnv([OTHER]);
    expect(await listCommand(env, undefined)).toBe(0);
    expect(env.stdout[2]).toBe("(no daxfs mounts found)");
  });

  it("shows an unreachable FUSE mount with an unknown branch path", async () => {
    const env = fakeEnv([FUSE]);
    await listCommand(env, undefined);
    expect(env.stdout[2]).toBe(
      `${"/mnt/fuse".padEnd(20)}  ${"?".padEnd(30)}  ${"rw".padEnd(8)}  fuse:/img/a.daxfs`,
    );
  });

  it("asks the image for the path of a kernel mount that shows only the branch's name", async () => {
    const named = "47 27 0:47 / /mnt/n rw - daxfs none rw,source=dmabuf,size=4096,branch=inner";
    const asked: string[] = [];
    const env = fakeEnv([named, MAIN], {
      kernelBranchPath: (mount) => {
        asked.push(mount.mountPoint);
        return "/main/outer/inner";
      },
    });
    expect(await listCommand(env, "/mnt/n")).toBe(0);
    expect(env.stdout).toContain("Branch path: /main/outer/inner");
    // A path shown by the kernel is taken as is; an image that cannot be read leaves the name.
    expect(await listCommand(env, "/mnt/main")).toBe(0);
    expect(asked).toEqual(["/mnt/n"]);
    const unreadable = fakeEnv([named]);
    expect(await listCommand(unreadable, "/mnt/n")).toBe(0);
    expect(unreadable.stdout).toContain("Branch path: inner");
  });

  it("details one mount with -m, and fails on a path that is not a daxfs mount", async () => {
    const env = fakeEnv([MAIN, DMABUF]);
    expect(await listCommand(env, "/mnt/main/")).toBe(0);
    expect(env.stdout).toEqual([
      "Mountpoint:  /mnt/main",
      "Branch path: /main",
      "Mode:        read-only",
      "Backing:     phys=0x100000000, size=268435456",
    ]);
    env.stdout.length = 0;
    await listCommand(env, "/mnt/dma buf");
    expect(env.stdout).toEqual([
      "Mountpoint:  /mnt/dma buf",
      "Branch path: /main/exp/deep",
      "Mode:        read-write",
      "Backing:     dmabuf",
    ]);
    expect(await listCommand(env, "/mnt/tmp")).toBe(1);
    expect(env.stderr).toEqual(["Error: no daxfs mount at '/mnt/tmp'"]);
  });

  it("details a FUSE mount from its server's answer", async () => {
    const { overrides } = await fuseServed(() => ({
      ...branchInfo,
      branch: "main",
      parent: "",
      writable: false,
      branchPath: undefined,
    }));
    const env = fakeEnv([FUSE], overrides);
    await listCommand(env, "/mnt/fuse");
    expect(env.stdout).toEqual([
      "Mountpoint:  /mnt/fuse",
      "Branch path: /main",
      "Mode:        read-only",
      "Backing:     fuse, image=/img/a.daxfs",
    ]);
  });
});

describe("commit and abort on kernel mounts", () => {
  it("remounts with commit and prints the public messages", async () => {
    const env = fakeEnv([MAIN, FEATURE]);
    expect(await finishCommand(env, "commit", "/mnt/feature")).toBe(0);
    expect(env.remounts).toEqual([["/mnt/feature", "commit"]]);
    expect(env.stdout).toEqual([
      "Committing branch chain to main...",
      "Branch chain merged to main (all siblings invalidated)",
    ]);
  });

  it("refuses a read-only mount, main, a missing -m and a non-daxfs path without remounting", async () => {
    const rwMain = "45 27 0:45 / /mnt/rwmain rw - daxfs none rw,phys=0x1000,size=4096,branch=/main";
    const env = fakeEnv([MAIN, rwMain, OTHER]);
    expect(await finishCommand(env, "commit", "/mnt/main")).toBe(1);
    expect(await finishCommand(env, "commit", "/mnt/rwmain")).toBe(1);
    expect(await finishCommand(env, "abort", "/mnt/rwmain")).toBe(1);
    expect(await finishCommand(env, "commit", undefined)).toBe(1);
    expect(await finishCommand(env, "abort", "/mnt/tmp")).toBe(1);
    expect(await finishCommand(env, "commit", "/mnt/missing")).toBe(1);
    expect(env.stderr).toEqual([
      "Error: mount is read-only, cannot commit",
      "Error: cannot commit 'main' branch",
      "Error: cannot abort 'main' branch",
      "Error: -m/--mount is required\nTry 'daxfs-branch --help'.",
      "Error: no daxfs mount at '/mnt/tmp'",
      "Error: no daxfs mount at '/mnt/missing'",
    ]);
    expect(env.remounts).toEqual([]);
    expect(env.stdout).toEqual([]);
  });

  it("keeps the public failure text and adds the kernel's reason", async () => {
    const env = fakeEnv([FEATURE], {
      remount: (target) => {
        throw new SyscallError("mount", 116, { path: target, details: ["remount,commit"] });
      },
    });
    expect(await finishCommand(env, "commit", "/mnt/feature")).toBe(1);
    expect(env.stdout).toEqual(["Committing branch chain to main..."]);
    expect(env.stderr[0]).toMatch(/^Error: commit failed: mount \/mnt\/feature: .*\(ESTALE\)/);
  });

  it("finds a mount whose root answers ESTALE (an invalidated sibling) through its parent directory", async () => {
    const env = fakeEnv([MAIN, FEATURE], {
      realpath: (path) => {
        if (path === "/mnt/feature")
          throw Object.assign(new Error("ESTALE: stale file handle"), { code: "ESTALE" });
        return path;
      },
    });
    expect(await finishCommand(env, "commit", "/mnt/feature")).toBe(0);
    expect(env.remounts).toEqual([["/mnt/feature", "commit"]]);
    expect(await listCommand(env, "/mnt/feature")).toBe(0);
    expect(env.stdout).toContain("Branch path: /main/feature");
  });

  it("aborts a read-only branch mount (no rw check for abort)", async () => {
    const roBranch = "46 27 0:46 / /mnt/ro ro - daxfs none ro,phys=0x1000,size=4096,branch=/main/x";
    const env = fakeEnv([roBranch]);
    expect(await finishCommand(env, "abort", "/mnt/ro")).toBe(0);
    expect(env.remounts).toEqual([["/mnt/ro", "abort"]]);
    expect(env.stdout).toEqual(["Aborting entire branch chain...", "Branch chain aborted (back to main)"]);
  });
});

describe("commit and abort on FUSE mounts (fake control server)", () => {
  it("asks for info, then commits", async () => {
    const { server, overrides } = await fuseServed((op) => (op === "info" ? branchInfo : { ok: true }));
    const env = fakeEnv([FUSE], overrides);
    expect(await finishCommand(env, "commit", "/mnt/fuse")).toBe(0);
    expect(server.requests).toEqual(["info", "commit"]);
    expect(env.stdout).toEqual([
      "Committing branch chain to main...",
      "Branch chain merged to main (all siblings invalidated)",
    ]);
  });

  it("reports the server's refusal with its errno", async () => {
    const { overrides } = await fuseServed((op) =>
      op === "info"
        ? branchInfo
        : { ok: false, errno: "ESTALE", message: "branch 'feat' was invalidated by a commit" },
    );
    const env = fakeEnv([FUSE], overrides);
    expect(await finishCommand(env, "abort", "/mnt/fuse")).toBe(1);
    expect(env.stderr).toEqual(["Error: abort failed: branch 'feat' was invalidated by a commit (ESTALE)"]);
  });

  it("refuses to commit a read-only FUSE main mount without sending commit", async () => {
    const { server, overrides } = await fuseServed(() => ({
      ...branchInfo,
      branch: "main",
      parent: "",
      writable: false,
      branchPath: "/main",
    }));
    const env = fakeEnv([FUSE], overrides);
    expect(await finishCommand(env, "commit", "/mnt/fuse")).toBe(1);
    expect(env.stderr).toEqual(["Error: mount is read-only, cannot commit"]);
    expect(server.requests).toEqual(["info"]);
  });

  it("fails clearly when the daxfs-fuse process does not answer", async () => {
    const env = fakeEnv([FUSE], {
      fuseInfo: (mountPoint) => fuseInfo(mountPoint, { socketPaths: [join(dir, "gone.sock")] }),
    });
    expect(await finishCommand(env, "commit", "/mnt/fuse")).toBe(1);
    expect(env.stderr[0]).toMatch(/^daxfs-branch: cannot reach the daxfs-fuse process for '\/mnt\/fuse'/);
  });
});

describe("an invalidated (stale) FUSE mount", () => {
  const staleInfo = {
    ...branchInfo,
    stale: 'branch "feat" was invalidated (ABORTED: a sibling\'s commit or an abort)',
  };

  it("is listed as stale, with the reason in the detail view", async () => {
    const { overrides } = await fuseServed(() => staleInfo);
    const env = fakeEnv([FUSE], overrides);
    expect(await listCommand(env, undefined)).toBe(0);
    expect(env.stdout[2]).toMatch(/^\/mnt\/fuse\s+\/main\/feat\s+stale\s+fuse:/);
    expect(await listCommand(env, "/mnt/fuse")).toBe(0);
    expect(env.stdout).toContain(`Mode:        stale: ${staleInfo.stale}; abort or unmount it`);
  });

  it("refuses commit with the reason, without asking the server to commit", async () => {
    const { server, overrides } = await fuseServed(() => staleInfo);
    const env = fakeEnv([FUSE], overrides);
    expect(await finishCommand(env, "commit", "/mnt/fuse")).toBe(1);
    expect(env.stderr).toEqual([`Error: cannot commit: ${staleInfo.stale}; abort or unmount it`]);
    expect(server.requests).toEqual(["info"]);
  });

  it("aborts it (the server takes the mount back to main) and says why there was nothing to end", async () => {
    const { server, overrides } = await fuseServed((op) => (op === "info" ? staleInfo : { ok: true }));
    const env = fakeEnv([FUSE], overrides);
    expect(await finishCommand(env, "abort", "/mnt/fuse")).toBe(0);
    expect(server.requests).toEqual(["info", "abort"]);
    expect(env.stdout).toEqual([
      "Aborting entire branch chain...",
      `Note: ${staleInfo.stale}`,
      "Branch chain aborted (back to main)",
    ]);
  });
});
