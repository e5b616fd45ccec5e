// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: regular-file data. read_iter copies straight from the mapped image
 * (no page cache for file data, SPEC 3.3): the source of each run is looked
 * up in the index under the mount's lock, the copy runs after it (published
 * log bytes never change). write_iter in a branch appends WRITE entries of
 * at most 1 MiB each (SPEC 3.8.8), unpadded as @daxfs/core writes them.
 *
 * mmap maps page-aligned base data directly (DAX style, SPEC 3.11); a file
 * the logs changed is served from pages assembled once per inode, dropped
 * (and unmapped) when this mount writes the file. Mappings are read-only
 * page table entries: MAP_PRIVATE writes get a private copy from the core mm
 * (copy on write), never touching the image; writable MAP_SHARED is refused.
 */
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
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
	u64 size, pos = iocb->ki_pos;
	ssize_t done = 0;

	for (;;) {
		u64 want, src;
		ssize_t n;
		size_t copied;
		int err = daxfs_begin(sbi);

		if (err) {
			if (!done)
				done = err;
			break;
		}
		daxfs_sync_inode(inode);
		size = i_size_read(inode);
		if (!iov_iter_count(to) || pos >= size) {
			mutex_unlock(&sbi->lock);
			break;
		}
		want = min3((u64)iov_iter_count(to), size - pos, (u64)DAXFS_READ_CHUNK);
		n = daxfs_resolve(inode, pos, want, &src);
		mutex_unlock(&sbi->lock);

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
	u64 size;
	int err = daxfs_begin(sbi);

	if (err)
		return err;
	size = i_size_read(inode);
	memset(buf, 0, len);
	len = pos < size ? min(len, size - pos) : 0;
	while (len) {
		u64 src;
		ssize_t n = daxfs_resolve(inode, pos, len, &src);

		if (src != U64_MAX) {
			const void *p = daxfs_mem(sbi, src, n);

			if (!p) {
				err = -EUCLEAN;
				break;
			}
			memcpy(buf, p, n);
		}
		buf += n;
		pos += n;
		len -= n;
	}
	mutex_unlock(&sbi->lock);
	return err;
}

/* Forget the pages assembled for mmap (the file changed): unmap, then free. */
static void daxfs_drop_pages(struct inode *inode)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct page *page;
	unsigned long index;

	if (!mapping_mapped(inode->i_mapping) && xa_empty(&di->pages))
		return;
	unmap_mapping_range(inode->i_mapping, 0, 0, 1);
	xa_for_each(&di->pages, index, page) {
		xa_erase(&di->pages, index);
		__free_page(page);
	}
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
	in_base = !daxfs_dnode(sbi, inode->i_ino);
	mutex_unlock(&sbi->lock);
	if (pos >= i_size_read(inode))
		return VM_FAULT_SIGBUS;
	/*
	 * Base data that fills the whole page inside the image: map it in
	 * place. The last partial page is assembled, so the bytes past EOF
	 * read as zeros whatever the image holds there.
	 */
	if (in_base && IS_ALIGNED(sbi->phys + di->data, PAGE_SIZE) &&
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
	/* Read-only mappings only, in main and (for now) in branches (SPEC 3.11). */
	if ((vma->vm_flags & VM_SHARED) && (vma->vm_flags & VM_MAYWRITE))
		return -EACCES;
	file_accessed(file);
	daxfs_vm_flags_set(vma, VM_MIXEDMAP);
	vma->vm_ops = &daxfs_vm_ops;
	return 0;
}

/* Bytes of file data per WRITE entry: a large write becomes several entries. */
#define DAXFS_WRITE_CHUNK (1U << 20)

/* One WRITE entry of the bytes in buf (header and payload filled here). */
static int daxfs_write_entry(struct inode *inode, void *buf, u64 pos, u32 len)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	struct daxfs_delta_write *w = buf + sizeof(struct daxfs_delta_hdr);
	u32 size = sizeof(struct daxfs_delta_hdr) + sizeof(*w) + len;
	int err = daxfs_begin(sbi);

	if (err)
		return err;
	w->offset = cpu_to_le64(pos);
	w->len = cpu_to_le32(len);
	w->flags = 0;
	daxfs_fill_hdr(sbi, buf, DAXFS_DELTA_WRITE, size, inode->i_ino);
	err = daxfs_coord_lock(sbi);
	if (!err) {
		err = daxfs_append(sbi, buf, size);
		daxfs_coord_unlock(sbi);
	}
	if (!err)
		err = daxfs_refresh(sbi);
	daxfs_sync_inode(inode);
	mutex_unlock(&sbi->lock);
	return err;
}

/* write(2) in a branch (SPEC 3.8.8): O_APPEND, overwrite anywhere, sparse. */
static ssize_t daxfs_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	size_t hdr = sizeof(struct daxfs_delta_hdr) + sizeof(struct daxfs_delta_write);
	ssize_t done = 0, ret;
	void *buf = NULL;
	int err;

	inode_lock(inode);
	err = daxfs_begin(sbi);
	if (err) {
		ret = err;
		goto out;
	}
	daxfs_sync_inode(inode);	/* O_APPEND writes at the current size */
	mutex_unlock(&sbi->lock);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	buf = kvmalloc(hdr + min_t(size_t, iov_iter_count(from), DAXFS_WRITE_CHUNK), GFP_KERNEL);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (iov_iter_count(from)) {
		size_t n = min_t(size_t, iov_iter_count(from), DAXFS_WRITE_CHUNK);
		size_t copied = copy_from_iter(buf + hdr, n, from);

		if (!copied) {
			err = -EFAULT;
			break;
		}
		err = daxfs_write_entry(inode, buf, iocb->ki_pos, copied);
		if (err)
			break;
		iocb->ki_pos += copied;
		done += copied;
		if (fatal_signal_pending(current))
			break;
		cond_resched();
	}
	ret = done ? done : err;
	if (done)
		daxfs_drop_pages(inode);
out:
	inode_unlock(inode);
	kvfree(buf);
	return ret;
}

/* Entries are flushed when appended; fsync only reports an invalidated branch. */
static int daxfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(file_inode(file)->i_sb);
	int err = daxfs_begin(sbi);

	if (!err)
		mutex_unlock(&sbi->lock);
	return err;
}

static int daxfs_file_setattr(daxfs_idmap_t *idmap, struct dentry *dentry, struct iattr *attr)
{
	int err = daxfs_setattr(idmap, dentry, attr);

	if (!err && (attr->ia_valid & ATTR_SIZE))
		daxfs_drop_pages(d_inode(dentry));
	return err;
}

const struct file_operations daxfs_file_fops = {
	.open = daxfs_open,
	.llseek = generic_file_llseek,
	.read_iter = daxfs_read_iter,
	.write_iter = daxfs_write_iter,
	.fsync = daxfs_fsync,
	.mmap = daxfs_mmap,
	.splice_read = daxfs_splice_read,
	.unlocked_ioctl = daxfs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

const struct inode_operations daxfs_file_iops = {
	.setattr = daxfs_file_setattr,
	.getattr = daxfs_getattr,
};

const struct inode_operations daxfs_file_ro_iops = {
	.getattr = daxfs_getattr,
};

const struct inode_operations daxfs_symlink_iops = {
	.get_link = simple_get_link,
	.setattr = daxfs_setattr,
	.getattr = daxfs_getattr,
};
