// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: the memory an image lives in, and the one bounds-checked way to
 * read it. A mount maps either a physical range (phys=, size=; memremap) or
 * a dma-buf (fsconfig FSCONFIG_SET_FD "dmabuf"; vmap) for its lifetime
 * (SPEC 3.2 step 1).
 */
#include <linux/dma-buf.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>

#include "internal.h"

/*
 * The pointer to image bytes [off, off + len), or NULL when any of them lies
 * outside the mapping (overflow-safe). Every access to image memory starts
 * here, so no offset or length from the image can reach outside it.
 */
const void *daxfs_mem(struct daxfs_sb_info *sbi, u64 off, u64 len)
{
	if (off > sbi->size || len > sbi->size - off)
		return NULL;
	return sbi->mem + off;
}

/* Copy a structure out of the image (it may change under us). */
int daxfs_read(struct daxfs_sb_info *sbi, u64 off, void *dst, size_t len)
{
	const void *src = daxfs_mem(sbi, off, len);

	if (!src)
		return -EUCLEAN;
	memcpy(dst, src, len);
	return 0;
}

/* The page frame of image offset off (page-aligned, inside the image). */
unsigned long daxfs_pfn(struct daxfs_sb_info *sbi, u64 off)
{
	void *addr = sbi->mem + off;

	if (!sbi->dmabuf)
		return PHYS_PFN(sbi->phys + off);
	if (is_vmalloc_addr(addr))
		return vmalloc_to_pfn(addr);
	return PHYS_PFN(virt_to_phys(addr));
}

static int daxfs_map_dmabuf(struct fs_context *fc, struct daxfs_sb_info *sbi)
{
	struct dma_buf *dmabuf = dma_buf_get(sbi->opts.dmabuf_fd);
	int err;

	if (IS_ERR(dmabuf))
		return invalfc(fc, "dmabuf: fd %d is not a dma-buf", sbi->opts.dmabuf_fd);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	err = dma_buf_vmap_unlocked(dmabuf, &sbi->map);
#else
	err = dma_buf_vmap(dmabuf, &sbi->map);
#endif
	if (err) {
		dma_buf_put(dmabuf);
		errorfc(fc, "dmabuf: vmap failed (%d)", err);
		return err;
	}
	if (sbi->map.is_iomem) {
		/* Image reads are plain loads; I/O memory would need readl. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
		dma_buf_vunmap_unlocked(dmabuf, &sbi->map);
#else
		dma_buf_vunmap(dmabuf, &sbi->map);
#endif
		dma_buf_put(dmabuf);
		return invalfc(fc, "dmabuf: I/O memory dma-bufs are not supported");
	}
	sbi->dmabuf = dmabuf;
	sbi->mem = sbi->map.vaddr;
	sbi->size = dmabuf->size;
	return 0;
}

int daxfs_map(struct fs_context *fc, struct daxfs_sb_info *sbi)
{
	if (sbi->opts.dmabuf_fd >= 0)
		return daxfs_map_dmabuf(fc, sbi);
	if (!sbi->opts.phys || !sbi->opts.size)
		return invalfc(fc, "need dmabuf fd or phys/size options");
	if (sbi->opts.phys + sbi->opts.size < sbi->opts.phys)
		return invalfc(fc, "phys + size overflows");
	/*
	 * Only memory this kernel does not own: reserved ranges (memmap=,
	 * pmem, CXL) are not System RAM. A typo must not map, and later
	 * write, the kernel's own pages.
	 */
	if (region_intersects(sbi->opts.phys, sbi->opts.size, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT)
		return invalfc(fc, "phys=%#llx,size=%llu: range is System RAM of this kernel",
			       sbi->opts.phys, sbi->opts.size);
	sbi->mem = memremap(sbi->opts.phys, sbi->opts.size, MEMREMAP_WB);
	if (!sbi->mem) {
		errorfc(fc, "phys: cannot map %#llx + %llu", sbi->opts.phys,
			sbi->opts.size);
		return -ENOMEM;
	}
	sbi->phys = sbi->opts.phys;
	sbi->size = sbi->opts.size;
	return 0;
}

void daxfs_unmap(struct daxfs_sb_info *sbi)
{
	if (sbi->dmabuf) {
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
		dma_buf_vunmap_unlocked(sbi->dmabuf, &sbi->map);
#else
		dma_buf_vunmap(sbi->dmabuf, &sbi->map);
#endif
		dma_buf_put(sbi->dmabuf);
		sbi->dmabuf = NULL;
	} else if (sbi->mem) {
		memunmap(sbi->mem);
	}
	sbi->mem = NULL;
}

/* DAXFS_IOC_GET_DMABUF: a new fd for the mount's dma-buf (SPEC 3.13). */
long daxfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(file_inode(file)->i_sb);
	int fd;

	if (cmd != DAXFS_IOC_GET_DMABUF)
		return -ENOTTY;
	if (!sbi->dmabuf)
		return -ENOENT;
	get_dma_buf(sbi->dmabuf);
	fd = dma_buf_fd(sbi->dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(sbi->dmabuf);
	return fd;
}
