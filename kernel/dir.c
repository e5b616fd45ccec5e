// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: readdir (SPEC 3.8.6 with the NOTES.md semantics: exactly the live
 * names, once each). Position 0 is ".", 1 "..", and 2 + i the i-th entry of
 * the base array or of the rebuilt name list. Both are fixed for the life of
 * the mount, so positions survive telldir/seekdir.
 */
#include "internal.h"

static int daxfs_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *dir = file_inode(file);
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(dir);
	struct daxfs_dnode *node = di->dnode;
	struct daxfs_dirent de;
	u64 i;

	if (!dir_emit_dots(file, ctx))
		return 0;
	if (node && node->dir_loaded) {
		for (i = ctx->pos - 2; i < node->nr_names; i++, ctx->pos++) {
			struct daxfs_dname *dn = node->names[i];

			if (!dir_emit(ctx, dn->name, dn->len, dn->ino,
				      fs_umode_to_dtype(dn->mode)))
				return 0;
		}
		return 0;
	}
	for (i = ctx->pos - 2; i < di->dir_count; i++, ctx->pos++) {
		u32 len;

		if (daxfs_read_dirent(sbi, di->data, i, &de))
			return daxfs_corrupt(sbi, "directory %lu: entry %llu outside the image",
					     dir->i_ino, i);
		len = le16_to_cpu(de.name_len);
		if (!daxfs_name_ok(de.name, len))
			return daxfs_corrupt(sbi, "directory %lu: entry %llu has a bad name",
					     dir->i_ino, i);
		if (!dir_emit(ctx, de.name, len, le32_to_cpu(de.ino),
			      fs_umode_to_dtype(le32_to_cpu(de.mode))))
			return 0;
	}
	return 0;
}

const struct file_operations daxfs_dir_fops = {
	.llseek = generic_file_llseek,
	.read = generic_read_dir,
	.iterate_shared = daxfs_readdir,
	.unlocked_ioctl = daxfs_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};
