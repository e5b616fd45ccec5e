/**
 * Everything daxfs-branch touches outside its own process, in one object, so the commands can run against the
 * real system (defaultBranchEnv) or against fakes in tests (the kernel module is rarely loaded where tests run).
 */
import { realpathSync, statSync } from "node:fs";
import { DaxfsImage, deltaUsage, deltaUsageWarning } from "@daxfs/core";
import {
  closeFd,
  type FsContextMount,
  getDmabufFd,
  type MountInfo,
  mountWithFsContext,
  readMounts,
  remount,
} from "@daxfs/linux";
import { type FuseControlOp, type FuseMountInfo, fuseControl, fuseInfo } from "./fuse-control.js";
import { fuseImageProblem } from "./image-check.js";
import { kernelBranchPath } from "./kernel-image.js";
import type { KernelDaxfsMount } from "./mounts.js";
import { type FuseBranchLaunch, launchFuseBranch } from "./spawn-fuse.js";

export interface BranchEnv {
  readMounts(): MountInfo[];
  /** realpath(3); throws like fs.realpathSync. */
  realpath(path: string): string;
  /** Whether `path` (which exists) is a directory, so a file given to -m fails before anything starts. */
  isDirectory?(path: string): boolean;
  mountWithFsContext(spec: FsContextMount): void;
  remount(target: string, data: string): void;
  getDmabufFd(path: string): number;
  closeFd(fd: number): void;
  /** The path of a kernel mount's branch from its image's branch table (see kernel-image.ts); undefined if unknown. */
  kernelBranchPath(mount: KernelDaxfsMount): string | undefined;
  fuseInfo(mountPoint: string): Promise<FuseMountInfo>;
  fuseControl(mountPoint: string, op: FuseControlOp): Promise<unknown>;
  /** Starts a daxfs-fuse process for a new branch and resolves once its mount is up. */
  launchFuseBranch(launch: FuseBranchLaunch): Promise<void>;
  /**
   * Why branch `name` cannot be created from `parent` (or, parent undefined, attached) in the image
   * file of a FUSE branch, as "IMAGE: reason"; undefined when it can (image-check.ts).
   */
  fuseImageProblem?(image: string, name: string, parent: string | undefined): string | undefined;
  /** The delta region's 90% warning for an image file (docs/space.md), if it applies. */
  spaceWarning?(image: string): string | undefined;
  out(line: string): void;
  err(line: string): void;
}

export const defaultBranchEnv: BranchEnv = {
  readMounts: () => readMounts(),
  realpath: (path) => realpathSync(path),
  isDirectory: (path) => statSync(path).isDirectory(),
  mountWithFsContext,
  remount: (target, data) => remount(target, data),
  getDmabufFd,
  closeFd,
  kernelBranchPath,
  // info is quick (list asks every FUSE mount); commit may wait for the coordination lock held by another process.
  fuseInfo: (mountPoint) => fuseInfo(mountPoint, { timeoutMs: 3_000 }),
  fuseControl: (mountPoint, op) => fuseControl(mountPoint, op, { timeoutMs: 60_000 }),
  launchFuseBranch: (launch) => launchFuseBranch(launch),
  fuseImageProblem,
  spaceWarning: (path) => {
    try {
      const image = DaxfsImage.openFile(path);
      try {
        const usage = deltaUsage(image);
        return (usage && deltaUsageWarning(path, usage)) ?? undefined;
      } finally {
        image.close();
      }
    } catch {
      return undefined; // an unreadable image: list still shows its mounts
    }
  },
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
