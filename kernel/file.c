// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: regular-file data. read_iter copies straight from the mapped image
 * (no page cache for file data, SPEC 3.3): the source of each run is looked
 * up in the index under the mount's lock, the copy runs after it (published
 * log bytes never change); base data of a split image comes through the
 * shared page cache (pcache.c, SPEC 5). write_iter in a branch appends WRITE entries of
 * at most 1 MiB each (SPEC 3.8.8), unpadded as @daxfs/core writes them.
 * mmap is in mmap.c.
 */
#include <linux/mm.h>
#include <linux/pfn_t.h>
#include <linux/slab.h>
#include <linux/sched/signal.h>
#include <linux/pipe_fs_i.h>
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

	/* read(2) sees what shared mappings wrote (SPEC 6.2 case 2). */
	if (mapping_writably_mapped(inode->i_mapping)) {
		int err = daxfs_flush_pages(inode);

		if (err)
			return err;
	}
	for (;;) {
		u64 want, src;
		ssize_t n;
		size_t copied;
		int err = daxfs_begin_op(sbi);

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
		} else if (src & DAXFS_SRC_BACKING) {
			ssize_t got = daxfs_pcache_read(sbi, src & ~DAXFS_SRC_BACKING, n, to, NULL);

			if (got < 0) {
				if (!done)
					done = got;
				break;
			}
			copied = got;
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

/*
 * Copy the file's bytes [pos, pos + len), all below its size, into buf
 * (sbi->lock held): holes and truncated ranges as zeros.
 */
int daxfs_copy_out(struct inode *inode, u64 pos, void *buf, u64 len)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);

	while (len) {
		u64 src;
		ssize_t n = daxfs_resolve(inode, pos, len, &src);

		if (src == U64_MAX) {
			memset(buf, 0, n);
		} else if (src & DAXFS_SRC_BACKING) {
			/* Base data of a split image: through the shared page cache. */
			ssize_t got = daxfs_pcache_read(sbi, src & ~DAXFS_SRC_BACKING, n, NULL, buf);

			if (got < 0)
				return got;
		} else {
			const void *p = daxfs_mem(sbi, src, n);

			if (!p)
				return daxfs_corrupt(sbi, "inode %lu: data at %#llx outside the image",
						     inode->i_ino, src);
			memcpy(buf, p, n);
		}
		buf += n;
		pos += n;
		len -= n;
	}
	return 0;
}

/*
 * sendfile(2) and splice(2) from a file (busybox cat uses sendfile). The
 * image has no struct pages to lend the pipe (memremap), so the bytes are
 * copied into pages allocated here, as many as the data needs (nothing at
 * the end of the file), each filled straight from the image under one hold
 * of the mount's lock. The generic copy_splice_read allocated as many pages
 * as the pipe had room for whatever the file held, plus their bvec arrays,
 * and went through read_iter (two more index checks) to fill them.
 */
static ssize_t daxfs_splice_read(struct file *in, loff_t *ppos, struct pipe_inode_info *pipe,
				 size_t len, unsigned int flags)
{
	struct inode *inode = file_inode(in);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	u64 pos = *ppos, size;
	ssize_t done = 0;
	int err;

	/* splice sees what shared mappings wrote, as read(2) does. */
	if (mapping_writably_mapped(inode->i_mapping)) {
		err = daxfs_flush_pages(inode);
		if (err)
			return err;
	}
	err = daxfs_begin_op(sbi);
	if (err)
		return err;
	daxfs_sync_inode(inode);
	size = i_size_read(inode);
	len = pos < size ? min_t(u64, len, size - pos) : 0;
	while (len && !pipe_full(pipe->head, pipe->tail, pipe->max_usage)) {
		u32 fill = min_t(size_t, len, PAGE_SIZE);
		struct pipe_buffer buf = { .ops = &nosteal_pipe_buf_ops, .len = fill };
		ssize_t added;

		buf.page = alloc_page(GFP_KERNEL);
		if (!buf.page) {
			err = -ENOMEM;
			break;
		}
		err = daxfs_copy_out(inode, pos, page_address(buf.page), fill);
		if (err) {
			__free_page(buf.page);
			break;
		}
		/* The pipe owns the page from here, also on failure (it is released). */
		added = add_to_pipe(pipe, &buf);
		if (added < 0) {
			err = added;
			break;
		}
		pos += fill;
		done += fill;
		len -= fill;
	}
	mutex_unlock(&sbi->lock);
	*ppos = pos;
	return done ? done : err;
}

/* Bytes of file data per WRITE entry: a large write becomes several entries. */
#define DAXFS_WRITE_CHUNK (1U << 20)

/*
 * One WRITE entry of (at most) the next len bytes of from at pos, applied to
 * the index and the inode; *copied says how many it took (0: the memory
 * faulted, nothing was appended).
 */
int daxfs_write_entry(struct inode *inode, struct iov_iter *from, u64 pos, u32 len, u32 *copied)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	int err = daxfs_begin_op(sbi);

	*copied = 0;
	if (err)
		return err;
	err = daxfs_coord_lock(sbi);
	if (!err) {
		err = daxfs_append_write(sbi, inode->i_ino, pos, from, len, copied);
		daxfs_coord_unlock(sbi);
	}
	if (!err && *copied)
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
	ssize_t done = 0, ret;
	int err;

	inode_lock(inode);
	err = daxfs_begin_op(sbi);
	if (err) {
		ret = err;
		goto out;
	}
	daxfs_sync_inode(inode);	/* O_APPEND writes at the current size */
	mutex_unlock(&sbi->lock);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	/* Bytes written through shared mappings are older than this write. */
	err = daxfs_flush_pages(inode);
	if (err) {
		ret = err;
		goto out;
	}
	while (iov_iter_count(from)) {
		size_t n = min_t(size_t, iov_iter_count(from), DAXFS_WRITE_CHUNK);
		u32 copied;

		/*
		 * The bytes are copied with page faults disabled (log.c): fault
		 * them in first, as generic_perform_write does.
		 */
		if (fault_in_iov_iter_readable(from, n) == n) {
			err = -EFAULT;
			break;
		}
		err = daxfs_write_entry(inode, from, iocb->ki_pos, n, &copied);
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
		daxfs_update_pages(inode);
out:
	inode_unlock(inode);
	return ret;
}

/*
 * Entries are flushed when appended; fsync (and msync) logs the bytes
 * written through shared mappings, and reports an invalidated branch.
 */
static int daxfs_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	int err = daxfs_flush_pages(inode);

	if (err)
		return err;
	err = daxfs_begin_op(sbi);
	if (!err)
		mutex_unlock(&sbi->lock);
	return err;
}

/* The last close (and the last mapping gone): what mappings wrote is logged. */
static int daxfs_release(struct inode *inode, struct file *file)
{
	if (DAXFS_SB(inode->i_sb)->writable)
		daxfs_flush_pages(inode);
	return 0;
}

static int daxfs_file_setattr(daxfs_idmap_t *idmap, struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	int err = (attr->ia_valid & ATTR_SIZE) ? daxfs_flush_pages(inode) : 0;

	if (!err)
		err = daxfs_setattr(idmap, dentry, attr);
	if (!err && (attr->ia_valid & ATTR_SIZE))
		daxfs_update_pages(inode);
	return err;
}

const struct file_operations daxfs_file_fops = {
	.open = daxfs_open,
	.release = daxfs_release,
	.llseek = generic_file_llseek,
	.read_iter = daxfs_read_iter,
	.write_iter = daxfs_write_iter,
	.fsync = daxfs_fsync,
	.mmap = daxfs_mmap,
	.splice_read = daxfs_splice_read,
	/*
	 * sendfile(2) into a branch file (busybox tar extracts with it): pipe
	 * pages reach write_iter as one bvec, copied once, into the log.
	 */
	.splice_write = iter_file_splice_write,
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
