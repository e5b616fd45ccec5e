/**
 * Mounting through the new mount API (fsopen/fsconfig/fsmount/move_mount), as mkdaxfs -H and daxfs-branch create
 * do (SPEC.md 2.10, 2.13), plus remount(2) for commit/abort (SPEC.md 3.9) and umount2.
 */
import { SyscallError } from "./errors.js";
import * as c from "./libc.js";
import { findMount, isWritableMount } from "./mountinfo.js";

const FSOPEN_CLOEXEC = 0x1;
const FSCONFIG_SET_FLAG = 0;
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_SET_FD = 5;
const FSCONFIG_CMD_CREATE = 6;
const FSMOUNT_CLOEXEC = 0x1;
const MOUNT_ATTR_RDONLY = 0x1;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const AT_FDCWD = -100;

export interface FsContextMount {
  /** Filesystem type for fsopen ("daxfs", "tmpfs"). */
  fstype: string;
  /** FSCONFIG_SET_STRING parameters, in insertion order (e.g. phys, size, branch, parent, backing). */
  strings?: Record<string, string>;
  /** FSCONFIG_SET_FLAG parameters (e.g. "validate"). */
  flags?: string[];
  /** FSCONFIG_SET_FD parameters (e.g. dmabuf). The caller keeps ownership of the descriptors. */
  fds?: Record<string, number>;
  /** Mount with MOUNT_ATTR_RDONLY. */
  readOnly?: boolean;
  /** Existing directory to attach the new mount on. */
  target: string;
}

/**
 * Creates and attaches a mount. Parameters go in the order fds, strings, flags. On failure the SyscallError
 * names the step and carries the kernel's messages from the filesystem context log (what errorfc() said).
 */
export function mountWithFsContext(spec: FsContextMount): void {
  const fsfd = c.syscall(c.SYS_fsopen, ["const char *", spec.fstype], ["unsigned int", FSOPEN_CLOEXEC]);
  if (fsfd < 0)
    throw new SyscallError("fsopen", c.lastErrno(), {
      path: spec.target,
      details: [`filesystem type "${spec.fstype}"`],
    });
  try {
    const fail = (syscall: string, step: string): never => {
      const errno = c.lastErrno();
      throw new SyscallError(syscall, errno, {
        path: spec.target,
        details: [`${spec.fstype}: ${step}`, ...readContextLog(fsfd)],
      });
    };
    // fsconfig(fd, cmd, key, value, aux): value is the string for SET_STRING, aux the descriptor for SET_FD.
    const configure = (cmd: number, key: string | null, value: string | null, aux: number, step: string) => {
      const rc = c.syscall(
        c.SYS_fsconfig,
        ["int", fsfd],
        ["unsigned int", cmd],
        [key === null ? "void *" : "const char *", key],
        [value === null ? "void *" : "const char *", value],
        ["int", aux],
      );
      if (rc < 0) fail("fsconfig", step);
    };
    for (const [key, fd] of Object.entries(spec.fds ?? {}))
      configure(FSCONFIG_SET_FD, key, null, fd, `setting ${key} to fd ${fd}`);
    for (const [key, value] of Object.entries(spec.strings ?? {})) {
      configure(FSCONFIG_SET_STRING, key, value, 0, `setting ${key}=${value}`);
    }
    for (const key of spec.flags ?? []) configure(FSCONFIG_SET_FLAG, key, null, 0, `setting flag ${key}`);
    configure(FSCONFIG_CMD_CREATE, null, null, 0, "creating the superblock (FSCONFIG_CMD_CREATE)");

    const attributes = spec.readOnly ? MOUNT_ATTR_RDONLY : 0;
    const mountfd = c.syscall(
      c.SYS_fsmount,
      ["int", fsfd],
      ["unsigned int", FSMOUNT_CLOEXEC],
      ["unsigned int", attributes],
    );
    if (mountfd < 0) fail("fsmount", "creating the mount");
    try {
      const moved = c.syscall(
        c.SYS_move_mount,
        ["int", mountfd],
        ["const char *", ""],
        ["int", AT_FDCWD],
        ["const char *", spec.target],
        ["unsigned int", MOVE_MOUNT_F_EMPTY_PATH],
      );
      if (moved < 0) fail("move_mount", `attaching on ${spec.target}`);
    } finally {
      c.close(mountfd);
    }
  } finally {
    c.close(fsfd);
  }
}

/** Messages the filesystem queued on its context ("e daxfs: ...", "w ...", "i ..."); one per read(2). */
function readContextLog(fsfd: number): string[] {
  const lines: string[] = [];
  const buffer = new Uint8Array(4096);
  // The log holds at most 8 messages (fs/fs_context.c); the bound only guards against a misbehaving kernel.
  for (let i = 0; i < 32; i++) {
    const n = c.read(fsfd, buffer);
    if (n <= 0) break;
    lines.push(`kernel: ${new TextDecoder().decode(buffer.subarray(0, n)).trimEnd()}`);
  }
  return lines;
}

const MS_RDONLY = 0x1;
const MS_REMOUNT = 0x20;
/** Per-mount flags as mountinfo spells them. remount(2) resets any it is not given (do_remount()). */
const mountFlagBits: Record<string, number> = {
  ro: MS_RDONLY,
  nosuid: 0x2,
  nodev: 0x4,
  noexec: 0x8,
  nosymfollow: 0x100,
  noatime: 0x400,
  nodiratime: 0x800,
  relatime: 0x200000,
};

export interface RemountOptions {
  /** Ask for a read-only superblock; defaults to the mount's current mode. */
  readOnly?: boolean;
}

/**
 * mount(2) with MS_REMOUNT and `data` (e.g. "commit", "abort"), like `mount -o remount,DATA TARGET`: the mount's
 * current flags (ro, nosuid, nodev, noexec, atime mode) are passed again so the remount changes nothing else.
 */
export function remount(target: string, data: string, options: RemountOptions = {}): void {
  const current = findMount(target);
  let flags = MS_REMOUNT;
  for (const option of current?.mountOptions ?? []) flags |= mountFlagBits[option] ?? 0;
  // A read-only superblock under a rw mount (daxfs main) must not be asked to become writable (SPEC.md 3.9.4).
  if (current !== undefined && !isWritableMount(current)) flags |= MS_RDONLY;
  if (options.readOnly !== undefined) flags = options.readOnly ? flags | MS_RDONLY : flags & ~MS_RDONLY;
  if (c.mount(null, target, null, flags, data) !== 0) {
    throw new SyscallError("mount", c.lastErrno(), { path: target, details: [`remount,${data}`] });
  }
}

export interface UnmountOptions {
  /** MNT_DETACH: lazy unmount, for a busy mount point. */
  detach?: boolean;
  /** MNT_FORCE. */
  force?: boolean;
}

export function unmount(target: string, options: UnmountOptions = {}): void {
  const flags = (options.force ? 1 : 0) | (options.detach ? 2 : 0);
  if (c.umount2(target, flags) !== 0) throw new SyscallError("umount2", c.lastErrno(), { path: target });
}
