// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: names (SPEC 3.8.1-3.8.5 with the NOTES.md semantics). A directory
 * that the chain's logs changed is searched in its rebuilt name list; any
 * other in its base dirent array: a scan when small, else a sorted index of
 * name hashes built on the first lookup. Names match by exact bytes.
 *
 * In a branch, create, mkdir, symlink, unlink, rmdir and rename each append
 * one entry (log.c) encoded as @daxfs/core writes it and then apply it to
 * the index through the same replay code (published first, indexed second).
 * Dentries remember the index generation they were checked against and are
 * looked up again when another mount's changes rebuilt the index.
 */
#include <linux/namei.h>
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
	struct daxfs_dnode *node = daxfs_dnode(sbi, dir->i_ino);
	struct daxfs_name_key *keys;
	struct daxfs_dirent de;
	u32 i, lo, hi, hash;

	if (node && node->dir_loaded) {
		struct daxfs_dname *dn = daxfs_dir_name(node, name->name, name->len);

		return dn ? dn->ino : 0;
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
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct inode *inode = NULL;
	s64 ino;
	int err;

	if (dentry->d_name.len > DAXFS_NAME_MAX)
		return ERR_PTR(-ENAMETOOLONG);
	err = daxfs_begin_op(sbi);
	if (err)
		return ERR_PTR(err);
	ino = daxfs_find(dir, &dentry->d_name);
	if (ino > 0)
		inode = daxfs_iget(dir->i_sb, ino);
	dentry->d_time = sbi->index_gen;
	mutex_unlock(&sbi->lock);
	if (ino < 0)
		return ERR_PTR(ino);
	if (IS_ERR(inode))
		return ERR_CAST(inode);
	return d_splice_alias(inode, dentry);
}

/*
 * A dentry checked against an older index (another mount's appends or a
 * commit rebuilt it) is valid only if its name still names the same inode.
 */
static int daxfs_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dentry->d_sb);
	struct dentry *parent;
	s64 ino;
	int err;

	/* Nothing changed since the dentry was checked: valid, without the lock. */
	if (READ_ONCE(dentry->d_time) == READ_ONCE(sbi->index_gen) && daxfs_index_current(sbi))
		return 1;
	if (flags & LOOKUP_RCU)
		return -ECHILD;
	err = daxfs_begin_op(sbi);
	if (err)
		return err;
	if (dentry->d_time == sbi->index_gen) {
		mutex_unlock(&sbi->lock);
		return 1;
	}
	parent = dget_parent(dentry);
	ino = daxfs_find(d_inode(parent), &dentry->d_name);
	dput(parent);
	if (ino >= 0 && ino == (d_really_is_negative(dentry) ? 0 : d_inode(dentry)->i_ino)) {
		dentry->d_time = sbi->index_gen;
		if (ino)
			daxfs_sync_inode(d_inode(dentry));
		ino = 1;
	} else {
		ino = ino < 0 ? ino : 0;
	}
	mutex_unlock(&sbi->lock);
	return ino;
}

const struct dentry_operations daxfs_dops = {
	.d_revalidate = daxfs_d_revalidate,
};

/* Append the entry, then apply it to the index (sbi->lock held). */
static int daxfs_publish(struct daxfs_sb_info *sbi, void *entry, u32 size, bool new_ino)
{
	struct daxfs_delta_hdr *hdr = entry;
	u64 ino = 0;
	int err = daxfs_coord_lock(sbi);

	if (err)
		return err;
	if (new_ino) {
		err = daxfs_alloc_ino(sbi, &ino);
		if (!err) {
			/* hdr.ino and new_ino (the same offset in CREATE and SYMLINK). */
			struct daxfs_delta_create *c = entry + sizeof(*hdr);

			hdr->ino = cpu_to_le64(ino);
			c->new_ino = cpu_to_le64(ino);
		}
	}
	if (!err)
		err = daxfs_append(sbi, entry, size);
	daxfs_coord_unlock(sbi);
	return err ?: daxfs_refresh(sbi);
}

/* create, mkdir, symlink (SPEC 3.8.2): one CREATE, MKDIR or SYMLINK entry. */
static int daxfs_new(struct inode *dir, struct dentry *dentry, umode_t mode,
		     const char *target)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	u32 nlen = dentry->d_name.len, tlen = target ? strlen(target) : 0;
	u32 type = target ? DAXFS_DELTA_SYMLINK : S_ISDIR(mode) ? DAXFS_DELTA_MKDIR
							     : DAXFS_DELTA_CREATE;
	u32 size = sizeof(struct daxfs_delta_hdr) + daxfs_payload_size(type) + nlen +
		   (target ? tlen + 1 : 0);
	u32 uid = from_kuid(&init_user_ns, current_fsuid());
	u32 gid = from_kgid(&init_user_ns, current_fsgid());
	struct inode *inode;
	void *entry, *p;
	int err;

	if (nlen > DAXFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (target && tlen >= PATH_MAX)
		return -ENAMETOOLONG;
	if (dir->i_mode & S_ISGID) {
		gid = i_gid_read(dir);
		if (S_ISDIR(mode))
			mode |= S_ISGID;
	}
	entry = kzalloc(size, GFP_KERNEL);
	if (!entry)
		return -ENOMEM;
	p = entry + sizeof(struct daxfs_delta_hdr);
	if (target) {
		struct daxfs_delta_symlink *sl = p;

		sl->parent_ino = cpu_to_le64(dir->i_ino);
		sl->uid = cpu_to_le32(uid);
		sl->gid = cpu_to_le32(gid);
		sl->name_len = cpu_to_le16(nlen);
		sl->target_len = cpu_to_le16(tlen);
		memcpy(p + sizeof(*sl) + nlen, target, tlen);
	} else {
		struct daxfs_delta_create *c = p;

		c->parent_ino = cpu_to_le64(dir->i_ino);
		c->mode = cpu_to_le32((mode & S_IFMT) | (mode & 07777));
		c->uid = cpu_to_le32(uid);
		c->gid = cpu_to_le32(gid);
		c->name_len = cpu_to_le16(nlen);
	}
	memcpy(p + daxfs_payload_size(type), dentry->d_name.name, nlen);
	err = daxfs_begin_op(sbi);
	if (err)
		goto out;
	daxfs_fill_hdr(sbi, entry, type, size, 0);
	err = daxfs_publish(sbi, entry, size, true);
	if (!err) {
		inode = daxfs_iget(dir->i_sb, le64_to_cpu(((struct daxfs_delta_hdr *)entry)->ino));
		if (IS_ERR(inode)) {
			err = PTR_ERR(inode);
		} else {
			d_instantiate(dentry, inode);
			dentry->d_time = sbi->index_gen;
		}
	}
	daxfs_sync_inode(dir);
	mutex_unlock(&sbi->lock);
out:
	kfree(entry);
	return err;
}

static int daxfs_create(daxfs_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
			umode_t mode, bool excl)
{
	return daxfs_new(dir, dentry, S_IFREG | (mode & 07777), NULL);
}

static int daxfs_mkdir(daxfs_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
		       umode_t mode)
{
	return daxfs_new(dir, dentry, S_IFDIR | (mode & 07777), NULL);
}

static int daxfs_symlink(daxfs_idmap_t *idmap, struct inode *dir, struct dentry *dentry,
			 const char *target)
{
	return daxfs_new(dir, dentry, S_IFLNK | 0777, target);
}

/*
 * A LINK or DELETE entry naming dentry in dir: the two payloads have one
 * layout (parent, name length, the name after them), so one builder fills
 * both; the caller sets the header's type and inode. *size is the entry's.
 */
static_assert(sizeof(struct daxfs_delta_link) == sizeof(struct daxfs_delta_delete));
static_assert(offsetof(struct daxfs_delta_link, parent_ino) == offsetof(struct daxfs_delta_delete, parent_ino));
static_assert(offsetof(struct daxfs_delta_link, name_len) == offsetof(struct daxfs_delta_delete, name_len));

static void *daxfs_name_entry(struct inode *dir, struct dentry *dentry, u32 *size)
{
	u32 nlen = dentry->d_name.len;
	struct daxfs_delta_delete *payload;
	void *entry;

	*size = sizeof(struct daxfs_delta_hdr) + sizeof(*payload) + nlen;
	entry = kzalloc(*size, GFP_KERNEL);
	if (!entry)
		return NULL;
	payload = entry + sizeof(struct daxfs_delta_hdr);
	payload->parent_ino = cpu_to_le64(dir->i_ino);
	payload->name_len = cpu_to_le16(nlen);
	memcpy(payload + 1, dentry->d_name.name, nlen);
	return entry;
}

/*
 * link (extension, docs/semantics.md "Extensions"): one LINK entry gives the
 * file or symlink another name. The VFS refuses directories (EPERM) and
 * existing names (EEXIST) before we are called.
 */
static int daxfs_link(struct dentry *old_dentry, struct inode *dir, struct dentry *dentry)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct inode *inode = d_inode(old_dentry);
	u32 size;
	void *entry;
	int err;

	if (dentry->d_name.len > DAXFS_NAME_MAX)
		return -ENAMETOOLONG;
	entry = daxfs_name_entry(dir, dentry, &size);
	if (!entry)
		return -ENOMEM;
	err = daxfs_begin_op(sbi);
	if (err)
		goto out;
	daxfs_fill_hdr(sbi, entry, DAXFS_DELTA_LINK, size, inode->i_ino);
	err = daxfs_publish(sbi, entry, size, false);
	daxfs_sync_inode(inode);
	if (!err) {
		ihold(inode);
		d_instantiate(dentry, inode);
		dentry->d_time = sbi->index_gen;
	}
	daxfs_sync_inode(dir);
	mutex_unlock(&sbi->lock);
out:
	kfree(entry);
	return err;
}

/* True if the directory has no names (sbi->lock held). */
static int daxfs_dir_empty(struct daxfs_sb_info *sbi, struct inode *inode)
{
	struct daxfs_dnode *node = daxfs_live_dir(sbi, inode->i_ino);

	if (IS_ERR(node))
		return PTR_ERR(node);
	return node->nr_names ? -ENOTEMPTY : 0;
}

/* unlink and rmdir (SPEC 3.8.3): one DELETE entry; ENOTEMPTY checked here. */
static int daxfs_remove(struct inode *dir, struct dentry *dentry, bool isdir)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dir->i_sb);
	struct inode *victim = d_inode(dentry);
	u32 size;
	void *entry = daxfs_name_entry(dir, dentry, &size);
	int err;

	if (!entry)
		return -ENOMEM;
	err = daxfs_begin_op(sbi);
	if (err)
		goto out;
	if (isdir)
		err = daxfs_dir_empty(sbi, victim);
	if (!err) {
		daxfs_fill_hdr(sbi, entry, DAXFS_DELTA_DELETE, size, victim->i_ino);
		err = daxfs_publish(sbi, entry, size, false);
	}
	daxfs_sync_inode(victim);
	if (!err && isdir)
		clear_nlink(victim);
	daxfs_sync_inode(dir);
	mutex_unlock(&sbi->lock);
out:
	kfree(entry);
	return err;
}

static int daxfs_unlink(struct inode *dir, struct dentry *dentry)
{
	return daxfs_remove(dir, dentry, false);
}

static int daxfs_rmdir(struct inode *dir, struct dentry *dentry)
{
	return daxfs_remove(dir, dentry, true);
}

/*
 * rename (SPEC 3.8.4): one RENAME entry moves the name and replaces a
 * target by itself. The VFS checks the type rules and loops; ENOTEMPTY and
 * the flags are ours. RENAME_EXCHANGE cannot be one entry: EINVAL.
 */
static int daxfs_rename(daxfs_idmap_t *idmap, struct inode *old_dir, struct dentry *old_dentry,
			struct inode *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(old_dir->i_sb);
	struct inode *source = d_inode(old_dentry), *target = d_inode(new_dentry);
	u32 olen = old_dentry->d_name.len, nlen = new_dentry->d_name.len;
	u32 size = sizeof(struct daxfs_delta_hdr) + sizeof(struct daxfs_delta_rename) + olen + nlen;
	struct daxfs_delta_rename *r;
	void *entry;
	int err;

	if (flags & ~RENAME_NOREPLACE)
		return -EINVAL;
	entry = kzalloc(size, GFP_KERNEL);
	if (!entry)
		return -ENOMEM;
	r = entry + sizeof(struct daxfs_delta_hdr);
	r->old_parent_ino = cpu_to_le64(old_dir->i_ino);
	r->new_parent_ino = cpu_to_le64(new_dir->i_ino);
	r->ino = cpu_to_le64(source->i_ino);
	r->old_name_len = cpu_to_le16(olen);
	r->new_name_len = cpu_to_le16(nlen);
	memcpy((void *)(r + 1), old_dentry->d_name.name, olen);
	memcpy((void *)(r + 1) + olen, new_dentry->d_name.name, nlen);
	err = daxfs_begin_op(sbi);
	if (err)
		goto out;
	if (target && S_ISDIR(target->i_mode))
		err = daxfs_dir_empty(sbi, target);
	if (!err) {
		daxfs_fill_hdr(sbi, entry, DAXFS_DELTA_RENAME, size, source->i_ino);
		err = daxfs_publish(sbi, entry, size, false);
	}
	if (target) {
		daxfs_sync_inode(target);
		if (!err && S_ISDIR(target->i_mode))
			clear_nlink(target);
	}
	daxfs_sync_inode(source);
	daxfs_sync_inode(old_dir);
	daxfs_sync_inode(new_dir);
	if (!err)
		old_dentry->d_time = sbi->index_gen;
	mutex_unlock(&sbi->lock);
out:
	kfree(entry);
	return err;
}

/* Branch directories; mknod stays NULL: EPERM from the VFS (NOTES.md). */
const struct inode_operations daxfs_dir_iops = {
	.lookup = daxfs_lookup,
	.create = daxfs_create,
	.link = daxfs_link,
	.mkdir = daxfs_mkdir,
	.symlink = daxfs_symlink,
	.unlink = daxfs_unlink,
	.rmdir = daxfs_rmdir,
	.rename = daxfs_rename,
	.setattr = daxfs_setattr,
	.getattr = daxfs_getattr,
};

/* Main and static images: read-only. */
const struct inode_operations daxfs_dir_ro_iops = {
	.lookup = daxfs_lookup,
	.getattr = daxfs_getattr,
};
