// The daxfs module and /dev/dma_heap are absent on the test host, so only the error paths are exercised here:
// a path that is not daxfs answers ENOTTY, a missing path ENOENT. The success paths run in the kernel tests.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allocDmaHeap, getDmabufFd } from "./dmabuf.js";

describe("getDmabufFd", () => {
  it("answers ENOTTY on a directory that is not a daxfs mount and ENOENT on a missing path", () => {
    const dir = mkdtempSync(join(tmpdir(), "daxfs-ioctl-"));
    try {
      expect(() => getDmabufFd(dir)).toThrow(
        expect.objectContaining({ code: "ENOTTY", syscall: "ioctl(DAXFS_IOC_GET_DMABUF)", path: dir }),
      );
      const missing = join(dir, "missing");
      expect(() => getDmabufFd(missing)).toThrow(
        expect.objectContaining({ code: "ENOENT", syscall: "open", path: missing }),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("allocDmaHeap", () => {
  it("names a missing heap (ENOENT), a device that is not a heap (ENOTTY) and a bad size (EINVAL)", () => {
    expect(() => allocDmaHeap("/nonexistent/dma_heap/system", 4096)).toThrow(
      expect.objectContaining({ code: "ENOENT", syscall: "open" }),
    );
    expect(() => allocDmaHeap("/dev/null", 4096)).toThrow(
      expect.objectContaining({ code: "ENOTTY", syscall: "ioctl(DMA_HEAP_IOCTL_ALLOC)", path: "/dev/null" }),
    );
    expect(() => allocDmaHeap("/dev/null", 0)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});
