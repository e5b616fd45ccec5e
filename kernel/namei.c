// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: name lookup (SPEC 3.8.1 with the NOTES.md semantics). A directory
 * that main's log changed is searched in its rebuilt name list; any other
 * in its base dirent array, an exact byte compare of each name.
 */
#include "internal.h"

/* The inode number name has in dir: 0 when absent, or a negative errno. */
static s64 daxfs_find(struct inode *dir, const struct qstr *name)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(dir);
	struct daxfs_dnode *node = di->dnode;
	struct daxfs_dirent de;
	u32 i;

	if (node && node->dir_loaded) {
		for (i = 0; i < node->nr_names; i++)
			if (node->names[i]->len == name->len &&
			    !memcmp(node->names[i]->name, name->name, name->len))
				return node->names[i]->ino;
		return 0;
	}
	for (i = 0; i < di->dir_count; i++) {
		if (daxfs_read_dirent(sbi, di->data, i, &de))
			return daxfs_corrupt(sbi, "directory %lu: entry %u outside the image",
					     dir->i_ino, i);
		if (le16_to_cpu(de.name_len) == name->len &&
		    !memcmp(de.name, name->name, name->len))
			return le32_to_cpu(de.ino);
		if (!(i & 255))
			cond_resched();
	}
	return 0;
}

static struct dentry *daxfs_lookup(struct inode *dir, struct dentry *dentry,
				   unsigned int flags)
{
	struct inode *inode = NULL;
	s64 ino;

	if (dentry->d_name.len > DAXFS_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	ino = daxfs_find(dir, &dentry->d_name);
	if (ino < 0)
		return ERR_PTR(ino);
	if (ino) {
		inode = daxfs_iget(dir->i_sb, ino);
		if (IS_ERR(inode))
			return ERR_CAST(inode);
	}
	return d_splice_alias(inode, dentry);
}

const struct inode_operations daxfs_dir_iops = {
	.lookup = daxfs_lookup,
};
