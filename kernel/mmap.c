// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: mmap (SPEC 3.11, 6.2). On main and static images page-aligned base
 * data is mapped in place (DAX style, read-only page table entries); any
 * other page is assembled whole from the index into a page kept with the
 * inode, and every mapping of that file page shares it.
 *
 * In a branch, MAP_SHARED may write: the shared page is the file's bytes as
 * mappings see them. What mappings wrote reaches the log as WRITE entries of
 * whole pages (clipped to the size) whenever read(2), write(2), truncate,
 * fsync/msync or the last close needs it: each cached page is compared with
 * the file's logged bytes and logged if it differs. After write(2) or a
 * truncate the cached pages are reassembled in place (past the new size
 * they are unmapped and freed), so mappings and read(2)/write(2) agree as on
 * tmpfs. MAP_PRIVATE writes get private copies from the core mm (copy on
 * write). Faults of an invalidated branch raise SIGBUS (SPEC 3.10). Pages
 * cached before another mount's change keep their bytes until this mount
 * writes or truncates the file.
 */
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "internal.h"

/* Fill buf with the file's logged bytes [pos, pos + len), zeros past EOF. */
static int daxfs_read_kernel(struct inode *inode, u64 pos, void *buf, u64 len)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	u64 size, n;
	int err = daxfs_begin(sbi);

	if (err)
		return err;
	daxfs_sync_inode(inode);
	size = i_size_read(inode);
	n = pos < size ? min(len, size - pos) : 0;
	err = daxfs_copy_out(inode, pos, buf, n);
	memset(buf + n, 0, len - n);
	mutex_unlock(&sbi->lock);
	return err;
}

/* The page for file page index of a file that cannot be mapped in place. */
static struct page *daxfs_assembled_page(struct inode *inode, pgoff_t index)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct page *page = xa_load(&di->pages, index), *old;
	int err;

	if (page)
		return page;
	page = alloc_page(GFP_KERNEL);
	if (!page)
		return ERR_PTR(-ENOMEM);
	err = daxfs_read_kernel(inode, (u64)index << PAGE_SHIFT, page_address(page), PAGE_SIZE);
	if (err) {
		__free_page(page);
		return ERR_PTR(err);
	}
	old = xa_cmpxchg(&di->pages, index, NULL, page, GFP_KERNEL);
	if (old) {
		__free_page(page);
		return xa_is_err(old) ? ERR_PTR(xa_err(old)) : old;
	}
	return page;
}

/*
 * Log every cached page whose bytes differ from the logged ones: one WRITE
 * of the whole page, clipped to the size (mappings cannot grow a file).
 */
int daxfs_flush_pages(struct inode *inode)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct page *page;
	unsigned long index;
	struct iov_iter iter;
	struct kvec kv;
	void *buf, *logged;
	u32 copied;
	int err = 0;

	if (xa_empty(&di->pages) || !DAXFS_SB(inode->i_sb)->writable)
		return 0;
	/* A snapshot of the page: mappings may change it while it is logged. */
	buf = kmalloc(PAGE_SIZE, GFP_KERNEL);
	logged = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!buf || !logged) {
		err = -ENOMEM;
		goto out;
	}
	mutex_lock(&di->flush_lock);
	xa_for_each(&di->pages, index, page) {
		u64 pos = (u64)index << PAGE_SHIFT, size = i_size_read(inode);
		u32 len;

		if (pos >= size)
			continue;
		len = min_t(u64, PAGE_SIZE, size - pos);
		err = daxfs_read_kernel(inode, pos, logged, len);
		if (err)
			break;
		memcpy(buf, page_address(page), len);
		if (!memcmp(buf, logged, len))
			continue;
		kv = (struct kvec) { .iov_base = buf, .iov_len = len };
		iov_iter_kvec(&iter, ITER_SOURCE, &kv, 1, len);
		err = daxfs_write_entry(inode, &iter, pos, len, &copied);
		if (!err && copied != len)
			err = -EIO;	/* kernel memory: every byte is taken */
		if (err)
			break;
	}
	mutex_unlock(&di->flush_lock);
out:
	kfree(logged);
	kfree(buf);
	return err;
}

/*
 * After write(2) or a truncate: cached pages take the logged bytes again
 * (in place, so every mapping sees them); pages past the size go.
 */
void daxfs_update_pages(struct inode *inode)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct page *page;
	unsigned long index;
	void *tmp;

	if (xa_empty(&di->pages))
		return;
	tmp = kmalloc(PAGE_SIZE, GFP_KERNEL);
	mutex_lock(&di->flush_lock);
	xa_for_each(&di->pages, index, page) {
		u64 pos = (u64)index << PAGE_SHIFT;

		if (tmp && pos < i_size_read(inode) &&
		    !daxfs_read_kernel(inode, pos, tmp, PAGE_SIZE)) {
			memcpy(page_address(page), tmp, PAGE_SIZE);
			continue;
		}
		unmap_mapping_range(inode->i_mapping, pos, PAGE_SIZE, 1);
		xa_erase(&di->pages, index);
		__free_page(page);
	}
	mutex_unlock(&di->flush_lock);
	kfree(tmp);
}

static vm_fault_t daxfs_fault(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(inode);
	u64 pos = (u64)vmf->pgoff << PAGE_SHIFT;
	unsigned long pfn;
	struct page *page;
	bool in_base;

	/* An invalidated branch: SIGBUS (SPEC 3.10). */
	if (daxfs_begin(sbi))
		return VM_FAULT_SIGBUS;
	daxfs_sync_inode(inode);
	in_base = !daxfs_dnode(sbi, inode->i_ino);
	mutex_unlock(&sbi->lock);
	if (pos >= i_size_read(inode))
		return VM_FAULT_SIGBUS;
	/*
	 * Base data of main or a static image that fills the whole page inside
	 * the image: mapped in place. The last partial page is assembled, so
	 * the bytes past EOF read as zeros whatever the image holds there; a
	 * branch always assembles, since its mappings may write.
	 */
	if (in_base && !sbi->writable && IS_ALIGNED(sbi->phys + di->data, PAGE_SIZE) &&
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
	 * Private mappings get read-only entries (a write faults again and the
	 * core mm copies); shared ones of a branch map the shared page as the
	 * vma allows.
	 */
	return vmf_insert_mixed(vmf->vma, vmf->address, __pfn_to_pfn_t(pfn, PFN_DEV));
}

static const struct vm_operations_struct daxfs_vm_ops = {
	.fault = daxfs_fault,
};

int daxfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(file_inode(file)->i_sb);

	/* Main and static images are read-only (SPEC 3.11). */
	if (!sbi->writable && (vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE))
		return -EACCES;
	file_accessed(file);
	daxfs_vm_flags_set(vma, VM_MIXEDMAP);
	vma->vm_ops = &daxfs_vm_ops;
	return 0;
}
