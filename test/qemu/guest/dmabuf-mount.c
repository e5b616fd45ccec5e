// SPDX-License-Identifier: GPL-2.0
/*
 * dmabuf-mount PHYS SIZE MNT: copies SIZE bytes of physical memory (an image
 * of the NVDIMM pack, through /dev/mem) into a buffer from
 * /dev/dma_heap/system and mounts it at MNT with the new mount API
 * (fsopen, fsconfig FSCONFIG_SET_FD "dmabuf", fsmount, move_mount), then asks
 * the mount for its dma-buf with DAXFS_IOC_GET_DMABUF and checks that the
 * returned buffer holds the same image. Guest helper of the DAXFS QEMU bench.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-heap.h>
#include <linux/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DAXFS_IOC_GET_DMABUF _IO('D', 1)

static int fail(const char *what)
{
	printf("FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct dma_heap_allocation_data alloc = { .fd_flags = O_RDWR | O_CLOEXEC };
	unsigned long long phys, size, len;
	int heap, mem, fs, mnt, dir, again;
	void *src, *dst, *check;

	if (argc != 4) {
		fprintf(stderr, "usage: dmabuf-mount PHYS SIZE MNT\n");
		return 2;
	}
	phys = strtoull(argv[1], NULL, 0);
	size = strtoull(argv[2], NULL, 0);
	len = (size + 4095) & ~4095ULL;
	mem = open("/dev/mem", O_RDONLY);
	if (mem < 0)
		return fail("open /dev/mem");
	src = mmap(NULL, len, PROT_READ, MAP_SHARED, mem, phys);
	if (src == MAP_FAILED)
		return fail("mmap /dev/mem");
	heap = open("/dev/dma_heap/system", O_RDWR);
	if (heap < 0)
		return fail("open /dev/dma_heap/system");
	alloc.len = len;
	if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc))
		return fail("DMA_HEAP_IOCTL_ALLOC");
	dst = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, alloc.fd, 0);
	if (dst == MAP_FAILED)
		return fail("mmap dma-buf");
	memcpy(dst, src, size);
	munmap(dst, len);

	fs = syscall(SYS_fsopen, "daxfs", FSOPEN_CLOEXEC);
	if (fs < 0)
		return fail("fsopen");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_FD, "dmabuf", NULL, alloc.fd))
		return fail("fsconfig dmabuf");
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0))
		return fail("fsconfig create");
	mnt = syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
	if (mnt < 0)
		return fail("fsmount");
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, argv[3], MOVE_MOUNT_F_EMPTY_PATH))
		return fail("move_mount");
	printf("mounted\n");

	dir = open(argv[3], O_RDONLY | O_DIRECTORY);
	again = ioctl(dir, DAXFS_IOC_GET_DMABUF);
	if (again < 0)
		return fail("DAXFS_IOC_GET_DMABUF");
	check = mmap(NULL, len, PROT_READ, MAP_SHARED, again, 0);
	if (check == MAP_FAILED)
		return fail("mmap returned dma-buf");
	if (memcmp(check, src, size)) {
		printf("FAIL returned dma-buf differs from the image\n");
		return 1;
	}
	printf("get-dmabuf ok\n");
	return 0;
}
