// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: inode instantiation (SPEC 3.7.2). An inode's attributes come from
 * main's replayed log when some entry touched it, else from its base slot.
 * Times are 0: format v5 stores none (NOTES.md layout item 7), and the
 * userspace tools report the same.
 */
#include <linux/slab.h>

#include "internal.h"

struct kmem_cache *daxfs_inode_cachep;

void daxfs_inode_init_once(void *ptr)
{
	struct daxfs_inode_info *di = ptr;

	inode_init_once(&di->vfs_inode);
}

struct inode *daxfs_alloc_inode(struct super_block *sb)
{
	struct daxfs_inode_info *di = alloc_inode_sb(sb, daxfs_inode_cachep, GFP_KERNEL);

	if (!di)
		return NULL;
	di->data = 0;
	di->base_size = 0;
	di->dir_count = 0;
	di->dnode = NULL;
	di->name_index = NULL;
	xa_init(&di->pages);
	return &di->vfs_inode;
}

void daxfs_free_inode(struct inode *inode)
{
	if (S_ISLNK(inode->i_mode))
		kfree(inode->i_link);
	kvfree(DAXFS_I(inode)->name_index);
	kmem_cache_free(daxfs_inode_cachep, DAXFS_I(inode));
}

/* Pages assembled for mmap of log-modified files go with the inode. */
void daxfs_evict_inode(struct inode *inode)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct page *page;
	unsigned long index;

	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	xa_for_each(&di->pages, index, page)
		__free_page(page);
	xa_destroy(&di->pages);
}

static void daxfs_set_times(struct inode *inode)
{
	struct timespec64 zero = {};

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_atime_to_ts(inode, zero);
	inode_set_mtime_to_ts(inode, zero);
	inode_set_ctime_to_ts(inode, zero);
#else
	inode->i_atime = inode->i_mtime = inode->i_ctime = zero;
#endif
}

/* Attributes of an inode untouched by the log, from its base slot. */
static int daxfs_fill_base(struct inode *inode, struct daxfs_base_inode *bi)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(inode);
	u64 size = le64_to_cpu(bi->size);
	u32 mode = le32_to_cpu(bi->mode);

	if (le32_to_cpu(bi->ino) != inode->i_ino || !le32_to_cpu(bi->nlink))
		return daxfs_corrupt(sbi, "inode %lu: unused or mismatched slot", inode->i_ino);
	inode->i_mode = mode;
	i_uid_write(inode, le32_to_cpu(bi->uid));
	i_gid_write(inode, le32_to_cpu(bi->gid));
	set_nlink(inode, le32_to_cpu(bi->nlink));
	di->data = sbi->base_offset + le64_to_cpu(bi->data_offset);
	if (S_ISDIR(mode)) {
		u64 count = size / DAXFS_DIRENT_SIZE;

		if (count > U32_MAX)
			return daxfs_corrupt(sbi, "directory %lu: size %llu", inode->i_ino, size);
		di->dir_count = count;
		di->base_size = count * DAXFS_DIRENT_STRIDE;
	} else {
		di->base_size = size;
	}
	i_size_write(inode, size);
	if (S_ISLNK(mode)) {
		const char *target = daxfs_mem(sbi, di->data, size);

		if (!target || !size || size >= PATH_MAX || memchr(target, 0, size))
			return daxfs_corrupt(sbi, "symlink %lu: bad target", inode->i_ino);
		inode->i_link = kmemdup_nul(target, size, GFP_KERNEL);
		if (!inode->i_link)
			return -ENOMEM;
	}
	return 0;
}

/* Attributes of an inode the log touched or created. */
static int daxfs_fill_dnode(struct inode *inode, struct daxfs_dnode *node)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);

	if (!node->nlink)
		return -ESTALE;
	di->dnode = node;
	inode->i_mode = node->mode;
	i_uid_write(inode, node->uid);
	i_gid_write(inode, node->gid);
	set_nlink(inode, node->nlink);
	/*
	 * A directory keeps its base size (0 when the log made it), as the
	 * userspace view (@daxfs/core) reports it.
	 */
	i_size_write(inode, node->size);
	/* A directory not yet changed by the log still reads its base array. */
	di->data = node->base_data;
	di->dir_count = node->size / DAXFS_DIRENT_SIZE;
	di->base_size = node->size;
	if (S_ISLNK(node->mode)) {
		inode->i_link = kstrdup(node->target, GFP_KERNEL);
		if (!inode->i_link)
			return -ENOMEM;
	}
	return 0;
}

struct inode *daxfs_iget(struct super_block *sb, u64 ino)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(sb);
	struct daxfs_dnode *node = daxfs_dnode(sbi, ino);
	struct daxfs_base_inode bi;
	struct inode *inode;
	int err;

	if (!node && (ino < 1 || ino > sbi->inode_count))
		return ERR_PTR(daxfs_corrupt(sbi, "inode number %llu out of range", ino));
	inode = iget_locked(sb, ino);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW))
		return inode;

	if (node) {
		err = daxfs_fill_dnode(inode, node);
	} else {
		err = daxfs_read_base_inode(sbi, ino, &bi);
		err = err ? daxfs_corrupt(sbi, "inode %llu: slot outside the image", ino)
			  : daxfs_fill_base(inode, &bi);
	}
	if (err)
		goto fail;

	daxfs_set_times(inode);
	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = &daxfs_file_iops;
		inode->i_fop = &daxfs_file_fops;
		break;
	case S_IFDIR:
		inode->i_op = &daxfs_dir_iops;
		inode->i_fop = &daxfs_dir_fops;
		break;
	case S_IFLNK:
		inode->i_op = &daxfs_symlink_iops;
		break;
	default:
		err = daxfs_corrupt(sbi, "inode %llu: unsupported type %#o", ino,
				    inode->i_mode & S_IFMT);
		goto fail;
	}
	/* Whole 4096-byte blocks of the size, as the userspace view reports. */
	inode->i_blocks = DIV_ROUND_UP_ULL(i_size_read(inode), DAXFS_BLOCK_SIZE) << 3;
	unlock_new_inode(inode);
	return inode;
fail:
	/* Never leave a typeless inode in the cache (SPEC 7.1, 875e7f9). */
	make_bad_inode(inode);
	iget_failed(inode);
	return ERR_PTR(err);
}
