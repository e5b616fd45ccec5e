// Real mounts through the new mount API, on tmpfs (the daxfs module is not loaded on the test host; daxfs-specific
// parameters are exercised by the kernel tests). Needs CAP_SYS_ADMIN: without it the tests are reported skipped.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SyscallError } from "./errors.js";
import { mountWithFsContext, remount, unmount } from "./mount.js";
import { findMount, isWritableMount, mountOption, readMounts } from "./mountinfo.js";

function probeMountPrivilege(): boolean {
  const dir = mkdtempSync(join(tmpdir(), "daxfs-probe-"));
  try {
    mountWithFsContext({ fstype: "tmpfs", target: dir });
    unmount(dir);
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const canMount = probeMountPrivilege();

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "daxfs-mount-"));
});
afterEach(() => {
  // Unmount everything left under the temp root, deepest and most recent first, even after a failed assertion.
  for (const mount of readMounts().reverse()) {
    if (mount.mountPoint === root || mount.mountPoint.startsWith(`${root}/`))
      unmount(mount.mountPoint, { detach: true });
  }
  rmSync(root, { recursive: true, force: true });
});

function thrown(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyscallError) return err;
    throw err;
  }
  throw new Error("expected a SyscallError");
}

describe.skipIf(!canMount)("mountWithFsContext (tmpfs, real mounts)", () => {
  it("mounts with string parameters, shows in mountinfo, and unmounts", () => {
    const target = join(root, "mnt");
    mkdirSync(target);
    mountWithFsContext({
      fstype: "tmpfs",
      strings: { source: "daxfs-test", size: "1m", mode: "0700" },
      target,
    });
    const mount = findMount(target);
    expect(mount).toMatchObject({ fstype: "tmpfs", source: "daxfs-test", mountPoint: target });
    expect(mountOption(mount?.superOptions ?? [], "size")).toBe("1024k");
    expect(isWritableMount(mount as NonNullable<typeof mount>)).toBe(true);
    writeFileSync(join(target, "f"), "x");
    unmount(target);
    expect(findMount(target)).toBeUndefined();
  });

  it("mounts read-only with MOUNT_ATTR_RDONLY", () => {
    const target = join(root, "ro");
    mkdirSync(target);
    mountWithFsContext({ fstype: "tmpfs", readOnly: true, target });
    const mount = findMount(target);
    expect(mount?.mountOptions).toContain("ro");
    expect(isWritableMount(mount as NonNullable<typeof mount>)).toBe(false);
    expect(() => writeFileSync(join(target, "f"), "x")).toThrow(/EROFS/);
  });

  it("reports a rejected parameter with the step and the kernel's fs_context log", () => {
    const target = join(root, "bad");
    mkdirSync(target);
    const err = thrown(() => mountWithFsContext({ fstype: "tmpfs", strings: { size: "lots" }, target }));
    expect(err).toMatchObject({ code: "EINVAL", errno: 22, syscall: "fsconfig", path: target });
    expect(err.message).toContain("setting size=lots");
    expect(err.details.some((line) => line.startsWith("kernel: e ") && line.includes("size"))).toBe(true);
    expect(findMount(target)).toBeUndefined();

    const flagErr = thrown(() => mountWithFsContext({ fstype: "tmpfs", flags: ["no_such_flag"], target }));
    expect(flagErr.message).toContain("setting flag no_such_flag");
    expect(flagErr.message).toContain("no_such_flag'");

    const fdErr = thrown(() => mountWithFsContext({ fstype: "tmpfs", fds: { dmabuf: 0 }, target }));
    expect(fdErr).toMatchObject({ syscall: "fsconfig", code: "EINVAL" });
    expect(fdErr.message).toContain("setting dmabuf to fd 0");
  });

  it("names an unknown filesystem type (ENODEV) and a missing target (ENOENT)", () => {
    expect(thrown(() => mountWithFsContext({ fstype: "no_such_fs", target: root }))).toMatchObject({
      code: "ENODEV",
      syscall: "fsopen",
    });
    const missing = join(root, "missing");
    const err = thrown(() => mountWithFsContext({ fstype: "tmpfs", target: missing }));
    expect(err).toMatchObject({ code: "ENOENT", syscall: "move_mount", path: missing });
  });

  it("remounts with data and keeps the mount's flags (read-only stays read-only)", () => {
    const target = join(root, "re");
    mkdirSync(target);
    mountWithFsContext({ fstype: "tmpfs", strings: { size: "1m" }, readOnly: true, target });
    remount(target, "size=2m");
    const mount = findMount(target);
    expect(mountOption(mount?.superOptions ?? [], "size")).toBe("2048k");
    expect(mount?.mountOptions).toContain("ro");

    // The superblock read-only under a rw mount (as daxfs main is): the remount must not make it writable.
    const sbReadOnly = join(root, "sbro");
    mkdirSync(sbReadOnly);
    mountWithFsContext({ fstype: "tmpfs", target: sbReadOnly });
    remount(sbReadOnly, "size=1m", { readOnly: true });
    execFileSync("mount", ["-o", "remount,bind,rw", sbReadOnly]); // per-mount flag back to rw, superblock stays ro
    expect(findMount(sbReadOnly)?.mountOptions).toContain("rw");
    expect(findMount(sbReadOnly)?.superOptions).toContain("ro");
    remount(sbReadOnly, "size=3m");
    expect(findMount(sbReadOnly)?.superOptions).toContain("ro");

    const err = thrown(() => remount(target, "no_such_option"));
    expect(err).toMatchObject({ code: "EINVAL", syscall: "mount", path: target });
    expect(err.message).toContain("remount,no_such_option");
  });

  it("finds mount points whose names need mountinfo's octal escapes", () => {
    const target = join(root, "a b\tc\\d");
    mkdirSync(target);
    mountWithFsContext({ fstype: "tmpfs", target });
    const listed = readMounts().find((m) => m.mountPoint === target);
    expect(listed?.fstype).toBe("tmpfs");
    expect(findMount(target)?.mountPoint).toBe(target);
  });

  it("finds the top mount when two are stacked on one point", () => {
    const target = join(root, "stack");
    mkdirSync(target);
    mountWithFsContext({ fstype: "tmpfs", strings: { source: "lower" }, target });
    mountWithFsContext({ fstype: "tmpfs", strings: { source: "upper" }, target });
    expect(findMount(target)?.source).toBe("upper");
  });
});

describe("unmount", () => {
  it("fails with EINVAL on a directory that is not a mount point", () => {
    expect(thrown(() => unmount(root))).toMatchObject({ syscall: "umount2", path: root });
    expect(["EINVAL", "EPERM"]).toContain(thrown(() => unmount(root)).code);
  });
});
