// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: name lookup (SPEC 3.8.1 with the NOTES.md semantics). A directory
 * that main's log changed is searched in its rebuilt name list; any other
 * in its base dirent array: a scan when small, else a sorted index of name
 * hashes built on the first lookup. Names match by exact bytes.
 */
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stringhash.h>

#include "internal.h"

/* Directories with fewer entries are scanned; larger ones get an index. */
#define DAXFS_INDEX_MIN 32

int daxfs_cmp_name_key(const void *a, const void *b)
{
	const struct daxfs_name_key *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->index < y->index ? -1 : (x->index > y->index);
}

static u32 daxfs_dirent_hash(const struct daxfs_dirent *de)
{
	u32 len = le16_to_cpu(de->name_len);

	/* An overlong name_len matches no lookup; hash no bytes for it. */
	return full_name_hash(NULL, de->name, len <= DAXFS_NAME_MAX ? len : 0);
}

/*
 * The sorted name hashes of a base directory, built on its first lookup
 * and kept with the inode (the base never changes under a mount).
 */
static struct daxfs_name_key *daxfs_dir_index(struct inode *dir)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(dir);
	struct daxfs_name_key *keys = smp_load_acquire(&di->name_index);
	struct daxfs_dirent de;
	u32 i;

	if (keys)
		return keys;
	keys = kvmalloc_array(di->dir_count, sizeof(*keys), GFP_KERNEL);
	if (!keys)
		return ERR_PTR(-ENOMEM);
	for (i = 0; i < di->dir_count; i++) {
		if (daxfs_read_dirent(sbi, di->data, i, &de)) {
			kvfree(keys);
			return ERR_PTR(daxfs_corrupt(sbi, "directory %lu: entry %u outside the image",
						     dir->i_ino, i));
		}
		keys[i].hash = daxfs_dirent_hash(&de);
		keys[i].index = i;
		if (!(i & 255))
			cond_resched();
	}
	sort(keys, di->dir_count, sizeof(*keys), daxfs_cmp_name_key, NULL);
	if (cmpxchg_release(&di->name_index, NULL, keys)) {
		kvfree(keys);
		keys = smp_load_acquire(&di->name_index);
	}
	return keys;
}

static bool daxfs_dirent_is(const struct daxfs_dirent *de, const struct qstr *name)
{
	return le16_to_cpu(de->name_len) == name->len &&
	       !memcmp(de->name, name->name, name->len);
}

/* The inode number name has in dir: 0 when absent, or a negative errno. */
static s64 daxfs_find(struct inode *dir, const struct qstr *name)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct daxfs_inode_info *di = DAXFS_I(dir);
	struct daxfs_dnode *node = di->dnode;
	struct daxfs_name_key *keys;
	struct daxfs_dirent de;
	u32 i, lo, hi, hash;

	if (node && node->dir_loaded) {
		for (i = 0; i < node->nr_names; i++)
			if (node->names[i]->len == name->len &&
			    !memcmp(node->names[i]->name, name->name, name->len))
				return node->names[i]->ino;
		return 0;
	}
	if (di->dir_count < DAXFS_INDEX_MIN) {
		for (i = 0; i < di->dir_count; i++) {
			if (daxfs_read_dirent(sbi, di->data, i, &de))
				return daxfs_corrupt(sbi, "directory %lu: entry %u outside the image",
						     dir->i_ino, i);
			if (daxfs_dirent_is(&de, name))
				return le32_to_cpu(de.ino);
		}
		return 0;
	}
	keys = daxfs_dir_index(dir);
	if (IS_ERR(keys))
		return PTR_ERR(keys);
	hash = full_name_hash(NULL, name->name, name->len);
	for (lo = 0, hi = di->dir_count; lo < hi;) {
		u32 mid = lo + (hi - lo) / 2;

		if (keys[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (i = lo; i < di->dir_count && keys[i].hash == hash; i++) {
		if (daxfs_read_dirent(sbi, di->data, keys[i].index, &de))
			return -EUCLEAN;
		if (daxfs_dirent_is(&de, name))
			return le32_to_cpu(de.ino);
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
