// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: inode instantiation (SPEC 3.7.2). An inode's attributes come from
 * main's replayed log when some entry touched it, else from its base slot.
 * Times (docs/semantics.md "Times"): a base inode's stored mtime (0 without
 * the BASE_MTIME extension), else what the entries made of them (delta.c);
 * the userspace tools report the same.
 */
#include <linux/slab.h>

#include "internal.h"

struct kmem_cache *daxfs_inode_cachep;

void daxfs_inode_init_once(void *ptr)
{
	struct daxfs_inode_info *di = ptr;

	inode_init_once(&di->vfs_inode);
	mutex_init(&di->flush_lock);
}

struct inode *daxfs_alloc_inode(struct super_block *sb)
{
	struct daxfs_inode_info *di = alloc_inode_sb(sb, daxfs_inode_cachep, GFP_KERNEL);

	if (!di)
		return NULL;
	di->data = 0;
	di->base_size = 0;
	di->dir_count = 0;
	di->seq = 0;
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
	daxfs_set_times(inode, le64_to_cpu(bi->mtime), le64_to_cpu(bi->mtime), le64_to_cpu(bi->mtime));
	di->data = daxfs_base_data(sbi, mode, le64_to_cpu(bi->data_offset));
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
	inode->i_mode = node->mode;
	i_uid_write(inode, node->uid);
	i_gid_write(inode, node->gid);
	set_nlink(inode, node->nlink);
	daxfs_set_times(inode, node->atime, node->mtime, node->ctime);
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

/*
 * Bring a cached inode's attributes up to the index (sbi->lock held): the
 * index follows other mounts' appends and commits (delta.c).
 */
void daxfs_sync_inode(struct inode *inode)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	struct daxfs_dnode *node = daxfs_dnode(sbi, inode->i_ino);

	WRITE_ONCE(DAXFS_I(inode)->seq, sbi->index_seq);
	if (!node)
		return;
	inode->i_mode = (inode->i_mode & S_IFMT) | (node->mode & 07777);
	i_uid_write(inode, node->uid);
	i_gid_write(inode, node->gid);
	set_nlink(inode, node->nlink);
	daxfs_set_times(inode, node->atime, node->mtime, node->ctime);
	if (i_size_read(inode) != node->size)
		i_size_write(inode, node->size);
	inode->i_blocks = DIV_ROUND_UP_ULL(node->size, DAXFS_BLOCK_SIZE) << 3;
}

/* The inode ino, instantiated or found in the cache (sbi->lock held). */
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
	if (!(inode->i_state & I_NEW)) {
		daxfs_sync_inode(inode);
		return inode;
	}

	if (node) {
		err = daxfs_fill_dnode(inode, node);
	} else {
		err = daxfs_read_base_inode(sbi, ino, &bi);
		err = err ? daxfs_corrupt(sbi, "inode %llu: slot outside the image", ino)
			  : daxfs_fill_base(inode, &bi);
	}
	if (err)
		goto fail;

	switch (inode->i_mode & S_IFMT) {
	case S_IFREG:
		inode->i_op = sbi->writable ? &daxfs_file_iops : &daxfs_file_ro_iops;
		inode->i_fop = &daxfs_file_fops;
		break;
	case S_IFDIR:
		inode->i_op = sbi->writable ? &daxfs_dir_iops : &daxfs_dir_ro_iops;
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
	DAXFS_I(inode)->seq = sbi->index_seq;
	unlock_new_inode(inode);
	return inode;
fail:
	/* Never leave a typeless inode in the cache (SPEC 7.1, 875e7f9). */
	make_bad_inode(inode);
	iget_failed(inode);
	return ERR_PTR(err);
}

/* One UTIMES entry (extension) for utimensat(2): the times the VFS resolved. */
static int daxfs_log_times(struct daxfs_sb_info *sbi, struct inode *inode, struct iattr *attr)
{
	struct {
		struct daxfs_delta_hdr hdr;
		struct daxfs_delta_utimes ut;
	} __packed e = {};
	u32 valid = 0;
	int err;

	if (attr->ia_valid & ATTR_ATIME) {
		if (attr->ia_atime.tv_sec < 0)
			return -EINVAL;
		valid |= DAXFS_UTIMES_ATIME;
		e.ut.atime = cpu_to_le64(timespec64_to_ns(&attr->ia_atime));
	}
	if (attr->ia_valid & ATTR_MTIME) {
		if (attr->ia_mtime.tv_sec < 0)
			return -EINVAL;
		valid |= DAXFS_UTIMES_MTIME;
		e.ut.mtime = cpu_to_le64(timespec64_to_ns(&attr->ia_mtime));
	}
	e.ut.valid = cpu_to_le32(valid);
	daxfs_fill_hdr(sbi, &e, DAXFS_DELTA_UTIMES, sizeof(e), inode->i_ino);
	err = daxfs_coord_lock(sbi);
	if (!err) {
		err = daxfs_append(sbi, &e, sizeof(e));
		daxfs_coord_unlock(sbi);
	}
	return err ?: daxfs_refresh(sbi);
}

/*
 * setattr in a branch (SPEC 3.8.9): a size change is a TRUNCATE entry (none
 * when the size stays, as @daxfs/core writes it); mode, uid and gid one
 * SETATTR entry; atime/mtime one UTIMES entry (extension), except the times
 * a truncation sets by itself (its entry's timestamp is the mtime).
 */
int daxfs_setattr(daxfs_idmap_t *idmap, struct dentry *dentry, struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	struct {
		struct daxfs_delta_hdr hdr;
		union {
			struct daxfs_delta_truncate trunc;
			struct daxfs_delta_setattr set;
		};
	} __packed e = {};
	u32 valid = 0;
	int err = setattr_prepare(idmap, dentry, attr);

	if (err)
		return err;
	if ((attr->ia_valid & ATTR_SIZE) && !S_ISREG(inode->i_mode))
		return -EISDIR;
	err = daxfs_begin_op(sbi);
	if (err)
		return err;
	daxfs_sync_inode(inode);
	if ((attr->ia_valid & ATTR_SIZE) && attr->ia_size != i_size_read(inode)) {
		e.trunc.new_size = cpu_to_le64(attr->ia_size);
		daxfs_fill_hdr(sbi, &e, DAXFS_DELTA_TRUNCATE, sizeof(e.hdr) + sizeof(e.trunc),
			       inode->i_ino);
		err = daxfs_coord_lock(sbi);
		if (!err) {
			err = daxfs_append(sbi, &e, sizeof(e.hdr) + sizeof(e.trunc));
			daxfs_coord_unlock(sbi);
		}
		if (!err)
			err = daxfs_refresh(sbi);
		if (err)
			goto out;
	}
	memset(&e, 0, sizeof(e));
	if (attr->ia_valid & ATTR_MODE) {
		valid |= DAXFS_ATTR_MODE;
		e.set.mode = cpu_to_le32((inode->i_mode & S_IFMT) | (attr->ia_mode & 07777));
	}
	if (attr->ia_valid & ATTR_UID) {
		valid |= DAXFS_ATTR_UID;
		e.set.uid = cpu_to_le32(from_kuid(&init_user_ns, attr->ia_uid));
	}
	if (attr->ia_valid & ATTR_GID) {
		valid |= DAXFS_ATTR_GID;
		e.set.gid = cpu_to_le32(from_kgid(&init_user_ns, attr->ia_gid));
	}
	if (valid) {
		e.set.valid = cpu_to_le32(valid);
		daxfs_fill_hdr(sbi, &e, DAXFS_DELTA_SETATTR, sizeof(e.hdr) + sizeof(e.set),
			       inode->i_ino);
		err = daxfs_coord_lock(sbi);
		if (!err) {
			err = daxfs_append(sbi, &e, sizeof(e.hdr) + sizeof(e.set));
			daxfs_coord_unlock(sbi);
		}
		if (!err)
			err = daxfs_refresh(sbi);
		if (err)
			goto out;
	}
	if ((attr->ia_valid & (ATTR_ATIME | ATTR_MTIME)) &&
	    (!(attr->ia_valid & ATTR_SIZE) || (attr->ia_valid & (ATTR_ATIME_SET | ATTR_MTIME_SET))))
		err = daxfs_log_times(sbi, inode, attr);
out:
	daxfs_sync_inode(inode);
	mutex_unlock(&sbi->lock);
	return err;
}

/* stat: the attributes as the index has them now (other mounts may have changed them). */
int daxfs_getattr(daxfs_idmap_t *idmap, const struct path *path, struct kstat *stat,
		  u32 mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	int err;

	/* Synced since the index last changed, and the records did not move. */
	if (READ_ONCE(DAXFS_I(inode)->seq) != READ_ONCE(sbi->index_seq) ||
	    !daxfs_index_current(sbi)) {
		err = daxfs_begin_op(sbi);
		if (err)
			return err;
		daxfs_sync_inode(inode);
		mutex_unlock(&sbi->lock);
	}
	daxfs_fillattr(idmap, mask, inode, stat);
	stat->blksize = DAXFS_BLOCK_SIZE;
	return 0;
}
