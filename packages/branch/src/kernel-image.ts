/**
 * Reading the image behind a kernel daxfs mount, for what the mount table does not say: the dma-buf from
 * DAXFS_IOC_GET_DMABUF, or the phys=/size= range through /dev/mem (root), mapped read-only (as daxfs-inspect -m).
 */
import { closeSync, openSync } from "node:fs";
import { DaxfsImage, MemoryImage } from "@daxfs/core";
import { closeFd, getDmabufFd, mapFd } from "@daxfs/linux";
import { branchName, branchPathIn, type KernelDaxfsMount } from "./mounts.js";

/** Runs `read` on the mount's image; undefined when the memory cannot be mapped or does not parse. */
function withKernelImage<T>(mount: KernelDaxfsMount, read: (image: DaxfsImage) => T): T | undefined {
  const size = Number(mount.size);
  if (!Number.isSafeInteger(size) || size <= 0) return undefined;
  let fd: number;
  let offset = 0;
  let close: (fd: number) => void = closeFd;
  try {
    fd = getDmabufFd(mount.mountPoint);
  } catch {
    // ENOENT: a phys= mount (or a root that answers ESTALE: then the range below still works).
    const phys = mount.phys === undefined ? Number.NaN : Number(mount.phys);
    if (!Number.isSafeInteger(phys)) return undefined;
    try {
      fd = openSync("/dev/mem", "r");
    } catch {
      return undefined;
    }
    offset = phys;
    close = closeSync;
  }
  try {
    const mapped = mapFd(fd, size, { writable: false, offset, path: mount.mountPoint });
    try {
      return read(DaxfsImage.open(new MemoryImage(mapped.bytes, false, mount.mountPoint)));
    } finally {
      mapped.close();
    }
  } catch {
    return undefined;
  } finally {
    close(fd);
  }
}

/** "/main/.../NAME" for a kernel mount that shows only `branch=NAME`. */
export function kernelBranchPath(mount: KernelDaxfsMount): string | undefined {
  return withKernelImage(mount, (image) => branchPathIn(image, branchName(mount.branchPath)));
}
