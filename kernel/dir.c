// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: readdir (SPEC 3.8.6 with the NOTES.md semantics: exactly the live
 * names, once each). Position 0 is ".", 1 "..", and 2 + i the i-th entry of
 * the base array or of the rebuilt name list. The base array is fixed for
 * the life of the mount; a rebuilt list keeps creation order, so positions
 * survive telldir/seekdir while the directory does not change.
 */
#include "internal.h"

/* Names emitted per batch: copied under the lock, emitted after it. */
#define DAXFS_READDIR_BATCH 64

struct daxfs_rd_name {
	u64 ino;
	umode_t mode;
	u16 len;
	char name[DAXFS_NAME_MAX];
};

/*
 * The names [ctx->pos - 2, +DAXFS_READDIR_BATCH) of a directory the logs
 * changed, copied out so that no user copy runs under the mount's lock.
 * Returns how many, 0 at the end, or -ENODATA when the directory reads its base
 * array (the base never changes under a mount).
 */
static int daxfs_rd_batch(struct inode *dir, loff_t pos, struct daxfs_rd_name *out)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct daxfs_dnode *node;
	int n = 0, err = daxfs_begin_op(sbi);

	if (err)
		return err;
	node = daxfs_dnode(sbi, dir->i_ino);
	if (!node || !node->dir_loaded) {
		mutex_unlock(&sbi->lock);
		return -ENODATA;
	}
	for (; pos - 2 < node->nr_names && n < DAXFS_READDIR_BATCH; pos++, n++) {
		struct daxfs_dname *dn = node->names[pos - 2];

		out[n].ino = dn->ino;
		out[n].mode = dn->mode;
		out[n].len = dn->len;
		memcpy(out[n].name, dn->name, dn->len);
	}
	mutex_unlock(&sbi->lock);
	return n;
}

static int daxfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(dir);
	struct daxfs_rd_name *batch;
	struct daxfs_dirent de;
	int n, i;
	u64 k;

	if (!dir_emit_dots(file, ctx))
		return 0;
	batch = kmalloc_array(DAXFS_READDIR_BATCH, sizeof(*batch), GFP_KERNEL);
	if (!batch)
		return -ENOMEM;
	while ((n = daxfs_rd_batch(dir, ctx->pos, batch)) > 0) {
		for (i = 0; i < n; i++, ctx->pos++)
			if (!dir_emit(ctx, batch[i].name, batch[i].len, batch[i].ino,
				      fs_umode_to_dtype(batch[i].mode)))
				goto out;
	}
	if (n != -ENODATA)
		goto out;
	for (k = ctx->pos - 2; k < di->dir_count; k++, ctx->pos++) {
		u32 len;

		if (daxfs_read_dirent(sbi, di->data, k, &de)) {
			n = daxfs_corrupt(sbi, "directory %lu: entry %llu outside the image",
					  dir->i_ino, k);
			goto out;
		}
		len = le16_to_cpu(de.name_len);
		if (!daxfs_name_ok(de.name, len)) {
			n = daxfs_corrupt(sbi, "directory %lu: entry %llu has a bad name",
					  dir->i_ino, k);
			goto out;
		}
		if (!dir_emit(ctx, de.name, len, le32_to_cpu(de.ino),
			      fs_umode_to_dtype(le32_to_cpu(de.mode))))
			break;
	}
	n = 0;
out:
	kfree(batch);
	return n < 0 ? n : 0;
}

/* Opening anything in an invalidated branch fails (SPEC 3.10). */
int daxfs_open(struct inode *inode, struct file *file)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(inode->i_sb);
	int err;

	if (daxfs_index_current(sbi))
		return 0;
	err = daxfs_begin_op(sbi);
	if (err)
		return err;
	daxfs_sync_inode(inode);
	mutex_unlock(&sbi->lock);
	return 0;
}

/*
 * fsync(2) of a directory (dpkg syncs /var/lib/dpkg after each step): every entry a
 * directory operation appended was flushed when it was published (SPEC 1.5), so
 * nothing is left to write. Without this the VFS answers EINVAL. An invalidated
 * branch answers ESTALE, as fsync of a file does.
 */
static int daxfs_dir_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(file_inode(file)->i_sb);
	int err = daxfs_begin_op(sbi);

	if (!err)
		mutex_unlock(&sbi->lock);
	return err;
}

const struct file_operations daxfs_dir_fops = {
	.open = daxfs_open,
	.fsync = daxfs_dir_fsync,
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
	.iterate_shared = daxfs_readdir,
	.unlocked_ioctl = daxfs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};
