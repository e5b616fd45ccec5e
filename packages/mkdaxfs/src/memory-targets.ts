// -H and -p targets (SPEC 2.10), through @daxfs/linux. These run only where the daxfs module and a
// dma-heap or /dev/mem exist (a test guest); their argument handling is tested in cli.test.ts.
import { closeSync, constants, openSync } from "node:fs";
import {
  type CopyFileRange,
  DaxfsError,
  type ImagePlan,
  type PlannedInode,
  systemError,
  writeImageToMemory,
} from "@daxfs/core";
import { allocDmaHeap, closeFd, mapFd, mountWithFsContext, unnamedFiles } from "@daxfs/linux";

interface MemoryWriteOptions {
  backingPath: string | null;
  copyFileRange?: CopyFileRange;
  onFileCopied?: (inode: PlannedInode, bytesCopied: number) => void;
  /** --sparse: the split-mode backing file keeps its blocks of zeros as holes. */
  sparse?: boolean;
}

function writeMapped(
  plan: ImagePlan,
  fd: number,
  allocation: number,
  offset: number,
  path: string,
  options: MemoryWriteOptions,
): void {
  const mapping = mapFd(fd, allocation, { writable: true, offset, path });
  try {
    writeImageToMemory(plan, mapping.bytes, {
      backingPath: options.backingPath ?? undefined,
      onFileCopied: options.onFileCopied,
      unnamed: unnamedFiles,
      sparse: options.sparse,
    });
    mapping.flush();
  } finally {
    mapping.close();
  }
}

/** Allocates a dma-buf from `heap`, writes the image into it and mounts it at `mountpoint`. */
export function writeToHeap(
  plan: ImagePlan,
  target: { heap: string; mountpoint: string },
  allocation: number,
  options: MemoryWriteOptions & { validate: boolean },
): void {
  const fd = allocDmaHeap(target.heap, allocation);
  try {
    writeMapped(plan, fd, allocation, 0, target.heap, options);
    mountWithFsContext({
      fstype: "daxfs",
      fds: { dmabuf: fd },
      strings: options.backingPath ? { backing: options.backingPath } : undefined,
      flags: options.validate ? ["validate"] : [],
      // Static images mount read-only; branching ones writable (main itself refuses writes).
      readOnly: plan.mode === "static",
      target: target.mountpoint,
    });
  } finally {
    closeFd(fd);
  }
}

/** Writes the image into physical memory at `address` through /dev/mem (no mount). */
export function writeToPhys(
  plan: ImagePlan,
  address: bigint,
  allocation: number,
  options: MemoryWriteOptions,
): void {
  if (address > BigInt(Number.MAX_SAFE_INTEGER))
    throw new DaxfsError("EINVAL", `physical address 0x${address.toString(16)} is too large`);
  let fd: number;
  try {
    fd = openSync("/dev/mem", constants.O_RDWR | constants.O_SYNC);
  } catch (error) {
    throw systemError(error, "/dev/mem");
  }
  try {
    writeMapped(plan, fd, allocation, Number(address), "/dev/mem", options);
  } finally {
    closeSync(fd);
  }
}
