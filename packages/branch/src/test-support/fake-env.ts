// A BranchEnv over a fixed mountinfo text and recorded system calls, for tests on hosts without the daxfs module.
import { type FsContextMount, parseMountInfo, SyscallError } from "@daxfs/linux";
import type { BranchEnv } from "../env.js";
import type { FuseBranchLaunch } from "../spawn-fuse.js";

export interface FakeEnv extends BranchEnv {
  stdout: string[];
  stderr: string[];
  mounted: FsContextMount[];
  remounts: Array<[string, string]>;
  closed: number[];
  launched: FuseBranchLaunch[];
}

export const ROOT_LINE = "27 1 0:25 / / rw,relatime shared:1 - ext4 /dev/vda rw";

export function fakeEnv(mountinfoLines: string[], overrides: Partial<BranchEnv> = {}): FakeEnv {
  const env: FakeEnv = {
    stdout: [],
    stderr: [],
    mounted: [],
    remounts: [],
    closed: [],
    launched: [],
    readMounts: () => parseMountInfo([ROOT_LINE, ...mountinfoLines].join("\n")),
    realpath: (path) => {
      if (path.includes("missing")) throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
      return path.replace(/\/+$/, "") || "/";
    },
    mountWithFsContext: (spec) => {
      env.mounted.push(spec);
    },
    remount: (target, data) => {
      env.remounts.push([target, data]);
    },
    getDmabufFd: (path) => {
      throw new SyscallError("ioctl(DAXFS_IOC_GET_DMABUF)", 2, { path });
    },
    closeFd: (fd) => {
      env.closed.push(fd);
    },
    kernelBranchPath: () => undefined,
    fuseInfo: () => Promise.reject(new Error("no daxfs-fuse server in this test")),
    fuseControl: () => Promise.reject(new Error("no daxfs-fuse server in this test")),
    launchFuseBranch: async (launch) => {
      env.launched.push(launch);
    },
    out: (line) => env.stdout.push(line),
    err: (line) => env.stderr.push(line),
    ...overrides,
  };
  return env;
}
