// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: regular-file data. read_iter copies straight from the mapped image
 * (no page cache for file data, SPEC 3.3). mmap maps page-aligned base data
 * directly (DAX style, SPEC 3.11); a file whose bytes main's log changed is
 * served from pages assembled once per inode. Mappings are read-only page
 * table entries: MAP_PRIVATE writes get a private copy from the core mm
 * (copy on write), never touching the image.
 */
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/sched/signal.h>
#include <linux/splice.h>
#include <linux/uio.h>

#include "internal.h"

/* Bytes copied per step, so a huge read still reschedules and sees signals. */
#define DAXFS_READ_CHUNK (2U << 20)

static ssize_t daxfs_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	u64 size = i_size_read(inode), pos = iocb->ki_pos;
	ssize_t done = 0;

	while (iov_iter_count(to) && pos < size) {
		u64 want = min3((u64)iov_iter_count(to), size - pos, (u64)DAXFS_READ_CHUNK);
		u64 src;
		ssize_t n = daxfs_resolve(inode, pos, want, &src);
		size_t copied;

		if (src == U64_MAX) {
			copied = iov_iter_zero(n, to);
		} else {
			const void *p = daxfs_mem(sbi, src, n);

			if (!p) {
				if (!done)
					done = daxfs_corrupt(sbi, "inode %lu: data at %#llx outside the image",
							     inode->i_ino, src);
				break;
			}
			copied = copy_to_iter(p, n, to);
		}
		pos += copied;
		done += copied;
		if (copied < n) {
			if (!done)
				done = -EFAULT;
			break;
		}
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	iocb->ki_pos = pos;
	return done;
}

/* Fill buf with the file's bytes [pos, pos + len), zeros past EOF. */
static int daxfs_read_kernel(struct inode *inode, u64 pos, void *buf, u64 len)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	u64 size = i_size_read(inode);

	memset(buf, 0, len);
	len = pos < size ? min(len, size - pos) : 0;
	while (len) {
		u64 src;
		ssize_t n = daxfs_resolve(inode, pos, len, &src);

		if (src != U64_MAX) {
			const void *p = daxfs_mem(sbi, src, n);

			if (!p)
				return -EUCLEAN;
			memcpy(buf, p, n);
		}
		buf += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/* The page for file page index of a file that cannot be mapped in place. */
static struct page *daxfs_assembled_page(struct inode *inode, pgoff_t index)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct page *page = xa_load(&di->pages, index), *old;

	if (page)
		return page;
	page = alloc_page(GFP_KERNEL);
	if (!page)
		return ERR_PTR(-ENOMEM);
	if (daxfs_read_kernel(inode, (u64)index << PAGE_SHIFT, page_address(page),
			      PAGE_SIZE)) {
		__free_page(page);
		return ERR_PTR(-EUCLEAN);
	}
	old = xa_cmpxchg(&di->pages, index, NULL, page, GFP_KERNEL);
	if (old) {
		__free_page(page);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	return page;
}

static vm_fault_t daxfs_fault(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(inode);
	u64 pos = (u64)vmf->pgoff << PAGE_SHIFT;
	unsigned long pfn;
	struct page *page;

	if (pos >= i_size_read(inode))
		return VM_FAULT_SIGBUS;
	/*
	 * Base data that fills the whole page inside the image: map it in
	 * place. The last partial page is assembled, so the bytes past EOF
	 * read as zeros whatever the image holds there.
	 */
	if (!di->dnode && IS_ALIGNED(sbi->phys + di->data, PAGE_SIZE) &&
	    pos + PAGE_SIZE <= i_size_read(inode) &&
	    daxfs_mem(sbi, di->data + pos, PAGE_SIZE)) {
		pfn = daxfs_pfn(sbi, di->data + pos);
	} else {
		page = daxfs_assembled_page(inode, vmf->pgoff);
		if (IS_ERR(page))
			return PTR_ERR(page) == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
		pfn = page_to_pfn(page);
	}
	/*
	 * The entry is read-only (the vma's protection never allows writes to
	 * the image); a private write then faults again and the core mm copies.
	 */
	return vmf_insert_mixed(vmf->vma, vmf->address, __pfn_to_pfn_t(pfn, PFN_DEV));
}

static const struct vm_operations_struct daxfs_vm_ops = {
	.fault = daxfs_fault,
};

static int daxfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	if ((vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE))
		return -EACCES;	/* main is read-only (SPEC 3.11) */
	file_accessed(file);
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, VM_MIXEDMAP);
#else
	vma->vm_flags |= VM_MIXEDMAP;
#endif
	vma->vm_ops = &daxfs_vm_ops;
	return 0;
}

const struct file_operations daxfs_file_fops = {
	.llseek = generic_file_llseek,
	.read_iter = daxfs_read_iter,
	.mmap = daxfs_mmap,
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	.splice_read = copy_splice_read,
#else
	.splice_read = generic_file_splice_read,
#endif
	.unlocked_ioctl = daxfs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

const struct inode_operations daxfs_file_iops = {
};

const struct inode_operations daxfs_symlink_iops = {
	.get_link = simple_get_link,
};
