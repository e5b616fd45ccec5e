// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: the in-memory index of the mounted chain (SPEC 3.7): main's log,
 * then each descendant's down to the mounted branch, replayed into an overlay
 * of the base image with the POSIX semantics of NOTES.md: the newest entry
 * wins at every byte and every name, truncation cuts off older bytes, holes
 * read as zeros, renames move names. WRITE data is the last len bytes of its
 * entry (NOTES.md item 8). Entries come from log.c; this file only applies
 * them. Any entry that does not fit the log or the tree refuses the mount
 * with one line naming its offset (EUCLEAN when met later).
 *
 * Times (docs/semantics.md "Times", as @daxfs/core's chain-index.ts): an
 * entry's timestamp becomes the mtime and ctime of what it changes (a file's
 * bytes, a directory's names) and the ctime of an inode whose attributes or
 * links it changes; UTIMES sets atime and mtime as recorded.
 *
 * The index follows the records (NOTES.md: a child sees its parent chain's
 * later appends and commits): every operation first compares the chain's
 * records with what the index was built from; entries appended to the
 * mounted branch's own log are applied on top, any other change rebuilds
 * the index. Callers hold sbi->lock.
 */
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/stringhash.h>

#include "internal.h"

/*
 * Rate-limited: a damaged log found at run time fails every later operation that replays it, and
 * one line per operation would flood the log.
 */
#define bad_entry(at, fmt, ...)						\
	({ pr_err_ratelimited("log entry at %#llx: " fmt "\n", at, ##__VA_ARGS__); -EINVAL; })

struct daxfs_dnode *daxfs_dnode(struct daxfs_sb_info *sbi, u64 ino)
{
	struct daxfs_dnode *node;

	if (!sbi->overlay)
		return NULL;
	hash_for_each_possible(sbi->overlay->nodes, node, hash, ino)
		if (node->ino == ino)
			return node;
	return NULL;
}

static struct daxfs_dnode *new_node(struct daxfs_sb_info *sbi, u64 ino)
{
	struct daxfs_dnode *node = kzalloc(sizeof(*node), GFP_KERNEL);

	if (!node)
		return ERR_PTR(-ENOMEM);
	node->ino = ino;
	hash_add(sbi->overlay->nodes, &node->hash, ino);
	return node;
}

/* The overlay node of a live inode, made from its base slot on first use. */
static struct daxfs_dnode *live_node(struct daxfs_sb_info *sbi, u64 ino)
{
	struct daxfs_dnode *node = daxfs_dnode(sbi, ino);
	struct daxfs_base_inode bi;

	if (node)
		return node->nlink ? node : ERR_PTR(-ENOENT);
	if (daxfs_read_base_inode(sbi, ino, &bi) || !bi.ino || !le32_to_cpu(bi.nlink))
		return ERR_PTR(-ENOENT);
	node = new_node(sbi, ino);
	if (IS_ERR(node))
		return node;
	node->mode = le32_to_cpu(bi.mode);
	node->uid = le32_to_cpu(bi.uid);
	node->gid = le32_to_cpu(bi.gid);
	node->size = le64_to_cpu(bi.size);
	node->nlink = le32_to_cpu(bi.nlink);
	node->atime = node->mtime = node->ctime = le64_to_cpu(bi.mtime);
	node->in_base = true;
	node->base_data = daxfs_base_data(sbi, node->mode, le64_to_cpu(bi.data_offset));
	node->base_limit = node->size;
	if (S_ISLNK(node->mode)) {
		const char *t = daxfs_mem(sbi, node->base_data, node->size);

		if (!t || node->size >= PATH_MAX)
			return ERR_PTR(-EUCLEAN);
		node->target = kmemdup_nul(t, node->size, GFP_KERNEL);
		if (!node->target)
			return ERR_PTR(-ENOMEM);
	}
	return node;
}

/*
 * The node of an inode the chain knows, linked or not: WRITE, TRUNCATE and
 * SETATTR may reach a file unlinked while open (@daxfs/core's replay: only
 * an inode never known in the chain is corrupt).
 */
static struct daxfs_dnode *known_node(struct daxfs_sb_info *sbi, u64 ino)
{
	struct daxfs_dnode *node = daxfs_dnode(sbi, ino);

	return node ? node : live_node(sbi, ino);
}

/* The entry changed node's contents (bytes or names): mtime and ctime. */
static void modified(struct daxfs_dnode *node, u64 t)
{
	node->mtime = node->ctime = t;
}

/*
 * The live name of dir, or NULL: one hash bucket searched (a directory the
 * log changed can hold many names; untar builds them one lookup at a time).
 */
struct daxfs_dname *daxfs_dir_name(struct daxfs_dnode *dir, const char *name, u32 len)
{
	u32 hval = full_name_hash(NULL, name, len);
	struct daxfs_dname *dn;

	if (!dir->cap_names)
		return NULL;
	hlist_for_each_entry(dn, &dir->name_hash[hval & (dir->cap_names - 1)], hash)
		if (dn->hval == hval && dn->len == len && !memcmp(dn->name, name, len))
			return dn;
	return NULL;
}

/* Room for one more name: both arrays double, the buckets are filled again. */
static int grow_names(struct daxfs_dnode *dir)
{
	u32 cap = max(16U, dir->cap_names * 2), i;
	struct hlist_head *buckets = kvmalloc_array(cap, sizeof(*buckets), GFP_KERNEL);
	struct daxfs_dname **names = kvmalloc_array(cap, sizeof(*names), GFP_KERNEL);

	if (!buckets || !names) {
		kvfree(buckets);
		kvfree(names);
		return -ENOMEM;
	}
	if (dir->nr_names)
		memcpy(names, dir->names, dir->nr_names * sizeof(*names));
	kvfree(dir->names);
	dir->names = names;
	for (i = 0; i < cap; i++)
		INIT_HLIST_HEAD(&buckets[i]);
	for (i = 0; i < dir->nr_names; i++)
		hlist_add_head(&dir->names[i]->hash, &buckets[dir->names[i]->hval & (cap - 1)]);
	kvfree(dir->name_hash);
	dir->name_hash = buckets;
	dir->cap_names = cap;
	return 0;
}

static int add_name(struct daxfs_dnode *dir, u64 ino, umode_t mode,
		    const char *name, u32 len)
{
	struct daxfs_dname *dn;
	int err;

	if (dir->nr_names == dir->cap_names) {
		err = grow_names(dir);
		if (err)
			return err;
	}
	dn = kmalloc(struct_size(dn, name, len), GFP_KERNEL);
	if (!dn)
		return -ENOMEM;
	dn->ino = ino;
	dn->hval = full_name_hash(NULL, name, len);
	dn->mode = mode & S_IFMT;
	dn->len = len;
	memcpy(dn->name, name, len);
	hlist_add_head(&dn->hash, &dir->name_hash[dn->hval & (dir->cap_names - 1)]);
	dir->names[dir->nr_names++] = dn;
	return 0;
}

/* Drop dn from dir: its slot in creation order closes up (readdir positions). */
static void remove_name(struct daxfs_dnode *dir, struct daxfs_dname *dn)
{
	u32 i = dir->nr_names;

	while (i && dir->names[i - 1] != dn)
		i--;
	if (WARN_ON_ONCE(!i))
		return;
	i--;
	hlist_del(&dn->hash);
	kfree(dn);
	memmove(&dir->names[i], &dir->names[i + 1],
		(dir->nr_names - i - 1) * sizeof(*dir->names));
	dir->nr_names--;
}

/* Copy a base directory's entries into its node before changing them. */
static int load_dir(struct daxfs_sb_info *sbi, struct daxfs_dnode *dir)
{
	struct daxfs_dirent de;
	u64 count = dir->in_base ? dir->size / DAXFS_DIRENT_SIZE : 0;
	u64 i;
	int err;

	if (dir->dir_loaded)
		return 0;
	for (i = 0; i < count; i++) {
		u32 len;

		if (daxfs_read_dirent(sbi, dir->base_data, i, &de))
			return -EUCLEAN;
		len = le16_to_cpu(de.name_len);
		if (!daxfs_name_ok(de.name, len))
			return -EUCLEAN;
		err = add_name(dir, le32_to_cpu(de.ino), le32_to_cpu(de.mode), de.name, len);
		if (err)
			return err;
	}
	dir->dir_loaded = true;
	return 0;
}

struct daxfs_dnode *daxfs_live_dir(struct daxfs_sb_info *sbi, u64 ino)
{
	struct daxfs_dnode *dir = live_node(sbi, ino);
	int err;

	if (IS_ERR(dir))
		return dir;
	if (!S_ISDIR(dir->mode))
		return ERR_PTR(-ENOTDIR);
	err = load_dir(sbi, dir);
	return err ? ERR_PTR(err) : dir;
}

static void truncate_node(struct daxfs_dnode *node, u64 size)
{
	u32 i;

	for (i = 0; i < node->nr_extents; i++) {
		struct daxfs_extent *e = &node->extents[i];

		if (e->file_off >= size)
			e->len = 0;
		else if (e->len > size - e->file_off)
			e->len = size - e->file_off;
	}
	node->base_limit = min(node->base_limit, size);
	node->size = size;
}

/*
 * Drop name index of dir and the link it held (DELETE, the victim of a
 * RENAME or CREATE). As in @daxfs/core's replay, a directory's removal ends
 * it and whatever was below it becomes unreachable; emptiness is the
 * writer's check (SPEC 3.8.3), not the log's.
 */
static void unlink_child(struct daxfs_sb_info *sbi, struct daxfs_dnode *dir,
			 struct daxfs_dname *dn, u64 t)
{
	struct daxfs_dnode *child = live_node(sbi, dn->ino);

	if (!IS_ERR(child)) {
		child->ctime = t;
		if (S_ISDIR(child->mode)) {
			child->nlink = 0;
			dir->nlink--;
		} else {
			child->nlink--;
		}
	}
	remove_name(dir, dn);
}

/* Remove name from dir if it is there (the log may repeat a removal). */
static void remove_if_present(struct daxfs_sb_info *sbi, struct daxfs_dnode *dir,
			      const char *name, u32 len, u64 t)
{
	struct daxfs_dname *dn = daxfs_dir_name(dir, name, len);

	if (dn)
		unlink_child(sbi, dir, dn, t);
}

static int apply_write(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	struct daxfs_dnode *node = known_node(sbi, e->ino);

	if (IS_ERR(node) || !S_ISREG(node->mode))
		return bad_entry(e->at, "WRITE to %llu, not a known regular file", e->ino);
	if (node->nr_extents == node->cap_extents) {
		u32 cap = max(8U, node->cap_extents * 2);
		void *p = krealloc_array(node->extents, cap, sizeof(*node->extents),
					 GFP_KERNEL);

		if (!p)
			return -ENOMEM;
		node->extents = p;
		node->cap_extents = cap;
	}
	node->extents[node->nr_extents++] = (struct daxfs_extent) {
		.file_off = e->write.offset, .len = e->write.len, .data = e->write.data,
	};
	node->size = max(node->size, e->write.offset + e->write.len);
	modified(node, e->stamp);
	return 0;
}

static int apply_create(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	bool symlink = e->type == DAXFS_DELTA_SYMLINK;
	u64 ino = e->ino;
	umode_t want = symlink ? S_IFLNK : e->type == DAXFS_DELTA_MKDIR ? S_IFDIR : S_IFREG;
	struct daxfs_dnode *dir = daxfs_live_dir(sbi, e->create.parent), *node;
	u32 mode = e->create.mode;

	if (IS_ERR(dir))
		return bad_entry(e->at, "parent %llu is not a live directory", e->create.parent);
	/* Foreign logs may leave the type bits 0; the entry type supplies them. */
	if (!(mode & S_IFMT))
		mode |= want;
	if ((mode & S_IFMT) != want)
		return bad_entry(e->at, "mode %#o does not match the entry type", mode);
	/* New numbers lie above the base and below next_inode_id (SPEC 3.8.2). */
	if (ino <= sbi->inode_count || ino >= sbi->next_inode_id)
		return bad_entry(e->at, "new inode number %llu out of range %u..%llu", ino,
				 sbi->inode_count + 1, sbi->next_inode_id - 1);
	if (daxfs_dnode(sbi, ino))
		return bad_entry(e->at, "inode number %llu is in use", ino);
	node = new_node(sbi, ino);
	if (IS_ERR(node))
		return PTR_ERR(node);
	node->mode = mode;
	node->uid = e->create.uid;
	node->gid = e->create.gid;
	if (symlink) {
		node->target = kmemdup_nul(e->create.target, e->create.target_len, GFP_KERNEL);
		if (!node->target)
			return -ENOMEM;
		node->size = e->create.target_len;
	}
	node->nlink = S_ISDIR(mode) ? 2 : 1;
	node->atime = node->mtime = node->ctime = e->stamp;
	node->dir_loaded = true;
	if (S_ISDIR(mode))
		dir->nlink++;
	/* A name the entry reuses goes first (replay semantics of @daxfs/core). */
	remove_if_present(sbi, dir, e->name, e->name_len, e->stamp);
	modified(dir, e->stamp);
	return add_name(dir, ino, mode, e->name, e->name_len);
}

/*
 * LINK (extension, docs/semantics.md "Extensions"): an existing file or
 * symlink gains a name; a live name it lands on goes first, as for CREATE.
 */
static int apply_link(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	struct daxfs_dnode *dir, *node = known_node(sbi, e->ino);

	if (IS_ERR(node) || S_ISDIR(node->mode))
		return bad_entry(e->at, "LINK of %llu, not a known file or symlink", e->ino);
	dir = daxfs_live_dir(sbi, e->del.parent);
	if (IS_ERR(dir))
		return bad_entry(e->at, "parent %llu is not a live directory", e->del.parent);
	remove_if_present(sbi, dir, e->name, e->name_len, e->stamp);
	node->nlink++;
	node->ctime = e->stamp;
	modified(dir, e->stamp);
	return add_name(dir, e->ino, node->mode, e->name, e->name_len);
}

/* UTIMES (extension): atime and mtime as recorded, ctime the entry's time. */
static int apply_utimes(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	struct daxfs_dnode *node = known_node(sbi, e->ino);

	if (IS_ERR(node))
		return bad_entry(e->at, "UTIMES of unknown inode %llu", e->ino);
	if (e->utimes.valid & DAXFS_UTIMES_ATIME)
		node->atime = e->utimes.atime;
	if (e->utimes.valid & DAXFS_UTIMES_MTIME)
		node->mtime = e->utimes.mtime;
	node->ctime = e->stamp;
	return 0;
}

/* DELETE: the name goes, whatever it names now; absent, nothing happens. */
static int apply_delete(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	struct daxfs_dnode *dir = daxfs_live_dir(sbi, e->del.parent);

	if (IS_ERR(dir))
		return PTR_ERR(dir) == -ENOMEM ? -ENOMEM : 0;
	remove_if_present(sbi, dir, e->name, e->name_len, e->stamp);
	modified(dir, e->stamp);
	return 0;
}

/*
 * RENAME, as @daxfs/core replays it: the renamed inode must exist and the
 * new parent be a directory. When the old name no longer names the inode
 * (its parent changed it after the child branch wrote the entry), the old
 * name still goes and the new name still names the inode.
 */
static int rename_names(struct daxfs_sb_info *sbi, struct daxfs_entry *e,
			struct daxfs_dnode *node, struct daxfs_dnode *from, struct daxfs_dnode *to)
{
	const char *oname = e->name, *nname = e->rename.new_name;
	u32 olen = e->name_len, nlen = e->rename.new_name_len;
	u64 moved = e->ino, t = e->stamp;
	struct daxfs_dname *i, *j;

	if (from == to && olen == nlen && !memcmp(oname, nname, olen))
		return 0;
	i = IS_ERR(from) ? NULL : daxfs_dir_name(from, oname, olen);
	j = daxfs_dir_name(to, nname, nlen);
	if (i && i->ino == moved) {
		if (j && j->ino == moved)
			return 0;	/* two names of one inode: POSIX does nothing */
		remove_name(from, i);
		if (j)
			unlink_child(sbi, to, j, t);
		if (S_ISDIR(node->mode) && from != to) {
			from->nlink--;
			to->nlink++;
		}
		return add_name(to, moved, node->mode, nname, nlen);
	}
	if (i)
		unlink_child(sbi, from, i, t);
	j = daxfs_dir_name(to, nname, nlen);
	if (j && j->ino == moved)
		return 0;
	if (j)
		unlink_child(sbi, to, j, t);
	if (S_ISDIR(node->mode))
		to->nlink++;
	else
		node->nlink++;
	return add_name(to, moved, node->mode, nname, nlen);
}

static int apply_rename(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	struct daxfs_dnode *node, *from, *to;
	int err;

	node = live_node(sbi, e->ino);
	if (IS_ERR(node))
		return bad_entry(e->at, "renamed inode %llu does not exist", e->ino);
	to = daxfs_live_dir(sbi, e->rename.new_parent);
	if (IS_ERR(to))
		return bad_entry(e->at, "new parent %llu is not a directory", e->rename.new_parent);
	from = daxfs_live_dir(sbi, e->rename.old_parent);
	if (IS_ERR(from) && PTR_ERR(from) == -ENOMEM)
		return -ENOMEM;
	err = rename_names(sbi, e, node, from, to);
	if (err)
		return err;
	/* Both parents and the moved inode, whatever the names did (chain-index.ts). */
	if (!IS_ERR(from))
		modified(from, e->stamp);
	modified(to, e->stamp);
	node->ctime = e->stamp;
	return 0;
}

static int apply_attr(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	struct daxfs_dnode *node = known_node(sbi, e->ino);
	u32 valid;

	if (IS_ERR(node))
		return bad_entry(e->at, "inode %llu is not known", e->ino);
	if (e->type == DAXFS_DELTA_TRUNCATE) {
		if (!S_ISREG(node->mode))
			return bad_entry(e->at, "TRUNCATE of a non-regular file");
		truncate_node(node, e->trunc.new_size);
		modified(node, e->stamp);
		return 0;
	}
	valid = e->setattr.valid;
	node->ctime = e->stamp;
	if (valid & DAXFS_ATTR_MODE)
		node->mode = (node->mode & S_IFMT) | (e->setattr.mode & 07777);
	if (valid & DAXFS_ATTR_UID)
		node->uid = e->setattr.uid;
	if (valid & DAXFS_ATTR_GID)
		node->gid = e->setattr.gid;
	if (valid & DAXFS_ATTR_SIZE) {
		if (!S_ISREG(node->mode))
			return bad_entry(e->at, "SETATTR size of a non-regular file");
		truncate_node(node, e->setattr.size);
		modified(node, e->stamp);
	}
	return 0;
}

static int apply_entry(struct daxfs_sb_info *sbi, struct daxfs_entry *e)
{
	switch (e->type) {
	case DAXFS_DELTA_WRITE:
		return apply_write(sbi, e);
	case DAXFS_DELTA_CREATE:
	case DAXFS_DELTA_MKDIR:
	case DAXFS_DELTA_SYMLINK:
		return apply_create(sbi, e);
	case DAXFS_DELTA_DELETE:
		return apply_delete(sbi, e);
	case DAXFS_DELTA_RENAME:
		return apply_rename(sbi, e);
	case DAXFS_DELTA_LINK:
		return apply_link(sbi, e);
	case DAXFS_DELTA_UTIMES:
		return apply_utimes(sbi, e);
	default:
		return apply_attr(sbi, e);
	}
}

/* Apply the entries of [log + from, log + size). */
static int replay_log(struct daxfs_sb_info *sbi, u64 log, u64 from, u64 size)
{
	struct daxfs_entry *e = &sbi->overlay->entry;
	u64 pos = from;
	int err = 0;

	for (;;) {
		err = daxfs_log_entry(sbi, log, size, pos, e);
		if (err < 0)
			err = bad_entry(e->at, "%s", e->why);
		if (err <= 0)
			break;
		err = apply_entry(sbi, e);
		if (err) {
			if (err != -EINVAL)
				err = bad_entry(e->at, "cannot apply (%d)", err);
			break;
		}
		pos += e->size;
		cond_resched();
	}
	return err;
}

/* A record's log as it is now, checked to lie in the delta region. */
static int level_log(struct daxfs_sb_info *sbi, struct daxfs_level *lvl, u64 *log, u64 *size)
{
	struct daxfs_branch br;
	u64 cap;

	if (daxfs_read_record(sbi, lvl->slot, &br))
		return -EUCLEAN;
	if (le64_to_cpu(br.branch_id) != lvl->id || le32_to_cpu(br.state) != DAXFS_BRANCH_ACTIVE ||
	    le32_to_cpu(br.generation) != lvl->generation) {
		sbi->stale = true;
		return -ESTALE;
	}
	*log = le64_to_cpu(br.delta_log_offset);
	*size = le64_to_cpu(br.delta_log_size);
	cap = le64_to_cpu(br.delta_log_capacity);
	if (*size > cap || *log < sbi->region || *log - sbi->region > sbi->region_size ||
	    cap > sbi->region_size - (*log - sbi->region)) {
		pr_err_ratelimited("branch %llu: log [%#llx, +%llu) is outside the delta region\n",
				   lvl->id, *log, cap);
		return -EUCLEAN;
	}
	return 0;
}

/* Replay every level from scratch (mount, or a parent's log changed). */
int daxfs_build_index(struct daxfs_sb_info *sbi)
{
	u32 i;
	int err;

	/* Until every level replays, no operation may trust the index. */
	sbi->need_rebuild = true;
	daxfs_free_overlay(sbi);
	sbi->overlay = kvzalloc(sizeof(*sbi->overlay), GFP_KERNEL);
	if (!sbi->overlay)
		return -ENOMEM;
	hash_init(sbi->overlay->nodes);
	sbi->next_inode_id = daxfs_get64(sbi, offsetof(struct daxfs_super, next_inode_id));
	sbi->index_gen++;
	sbi->index_seq++;
	for (i = 0; i < sbi->nr_levels; i++) {
		struct daxfs_level *lvl = &sbi->levels[i];

		err = level_log(sbi, lvl, &lvl->log, &lvl->size);
		if (!err)
			err = replay_log(sbi, lvl->log, 0, lvl->size);
		if (err)
			return err;
	}
	sbi->need_rebuild = false;
	return 0;
}

/*
 * Bring the index up to the records (SPEC 3.10 with NOTES.md): ESTALE when
 * a level is no longer the ACTIVE branch it was; entries appended to the
 * mounted branch's own log applied on top; any other change rebuilds.
 */
int daxfs_refresh(struct daxfs_sb_info *sbi)
{
	struct daxfs_level *me;
	u64 log, size;
	u32 i;
	int err;

	if (sbi->static_image)
		return 0;
	if (sbi->stale)
		return -ESTALE;
	if (sbi->need_rebuild)
		goto rebuild;
	/* Nothing moved (the common case): no record needs copying out. */
	if (daxfs_index_current(sbi))
		return 0;
	for (i = 0; i < sbi->nr_levels; i++) {
		err = level_log(sbi, &sbi->levels[i], &log, &size);
		if (err)
			return err;
		if (log != sbi->levels[i].log || size < sbi->levels[i].size ||
		    (size != sbi->levels[i].size && i + 1 < sbi->nr_levels))
			goto rebuild;
	}
	me = &sbi->levels[sbi->nr_levels - 1];
	if (size == me->size)
		return 0;
	sbi->next_inode_id = daxfs_get64(sbi, offsetof(struct daxfs_super, next_inode_id));
	err = replay_log(sbi, me->log, me->size, size);
	if (err) {
		sbi->need_rebuild = true;
		return err == -ENOMEM ? err : -EUCLEAN;
	}
	/*
	 * Entries other than this mount's own last append (a child's commit
	 * merged into this log, another mount's writes): names may have
	 * changed under cached dentries.
	 */
	if (me->size != sbi->own_from || size != sbi->own_to)
		sbi->index_gen++;
	sbi->index_seq++;
	me->size = size;
	return 0;
rebuild:
	err = daxfs_build_index(sbi);
	if (err && err != -ESTALE && err != -ENOMEM)
		err = -EUCLEAN;
	return err;
}

/*
 * True when the chain's records still say what the index was built from
 * (no lock: a torn read of a cached field only answers false). Lets path
 * walks in RCU mode trust a dentry without taking the mount's lock.
 */
bool daxfs_index_current(struct daxfs_sb_info *sbi)
{
	u32 i;

	if (sbi->static_image)
		return true;
	if (READ_ONCE(sbi->stale) || READ_ONCE(sbi->need_rebuild))
		return false;
	for (i = 0; i < sbi->nr_levels; i++) {
		const struct daxfs_level *lvl = &sbi->levels[i];
		const struct daxfs_branch *br = daxfs_mem(sbi, daxfs_record(sbi, lvl->slot), sizeof(*br));

		if (!br || le64_to_cpu(READ_ONCE(br->branch_id)) != READ_ONCE(lvl->id) ||
		    le32_to_cpu(READ_ONCE(br->state)) != DAXFS_BRANCH_ACTIVE ||
		    le32_to_cpu(READ_ONCE(br->generation)) != READ_ONCE(lvl->generation) ||
		    le64_to_cpu(READ_ONCE(br->delta_log_offset)) != READ_ONCE(lvl->log) ||
		    le64_to_cpu(READ_ONCE(br->delta_log_size)) != READ_ONCE(lvl->size))
			return false;
	}
	return true;
}

/* Start an operation: take the mount's lock and bring the index up to date. */
int daxfs_begin(struct daxfs_sb_info *sbi)
{
	int err;

	mutex_lock(&sbi->lock);
	err = daxfs_refresh(sbi);
	if (err)
		mutex_unlock(&sbi->lock);
	return err;
}

/* daxfs_begin for system calls: an invalidated branch also loses its mappings. */
int daxfs_begin_op(struct daxfs_sb_info *sbi)
{
	int err = daxfs_begin(sbi);

	if (err == -ESTALE)
		daxfs_zap_mappings(sbi->sb);
	return err;
}

/*
 * The mount found its branch invalidated: tear down every mapping of its
 * files once (SPEC 3.10), so later accesses fault and get SIGBUS. Not from
 * a page fault (the caller's own page tables are being walked there).
 */
void daxfs_zap_mappings(struct super_block *sb)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(sb);
	struct inode *inode, *done = NULL;

	if (!sbi->stale || xchg(&sbi->zapped, true))
		return;
	spin_lock(&sb->s_inode_list_lock);
	list_for_each_entry(inode, &sb->s_inodes, i_sb_list) {
		spin_lock(&inode->i_lock);
		if ((inode->i_state & (I_FREEING | I_WILL_FREE | I_NEW)) ||
		    !mapping_mapped(inode->i_mapping)) {
			spin_unlock(&inode->i_lock);
			continue;
		}
		__iget(inode);
		spin_unlock(&inode->i_lock);
		spin_unlock(&sb->s_inode_list_lock);
		unmap_mapping_range(inode->i_mapping, 0, 0, 1);
		iput(done);
		done = inode;
		cond_resched();
		spin_lock(&sb->s_inode_list_lock);
	}
	spin_unlock(&sb->s_inode_list_lock);
	iput(done);
}

void daxfs_free_overlay(struct daxfs_sb_info *sbi)
{
	struct daxfs_dnode *node;
	struct hlist_node *tmp;
	int bkt;
	u32 i;

	if (!sbi->overlay)
		return;
	hash_for_each_safe(sbi->overlay->nodes, bkt, tmp, node, hash) {
		for (i = 0; i < node->nr_names; i++)
			kfree(node->names[i]);
		kvfree(node->names);
		kvfree(node->name_hash);
		kfree(node->extents);
		kfree(node->target);
		kfree(node);
	}
	kvfree(sbi->overlay);
	sbi->overlay = NULL;
}

/*
 * Where the bytes of a file at pos come from: returns how many (at most len)
 * share one source and sets *src to their absolute image offset, or to
 * U64_MAX for a run of zeros (a hole or bytes cut off by a truncation).
 * The newest extent covering pos wins, up to the start of any newer one.
 */
ssize_t daxfs_resolve(struct inode *inode, u64 pos, u64 len, u64 *src)
{
	struct daxfs_inode_info *di = DAXFS_I(inode);
	struct daxfs_dnode *node = daxfs_dnode(DAXFS_SB(inode->i_sb), inode->i_ino);
	u64 end = pos + len;
	int i, found = -1;

	if (!node) {
		if (pos >= di->base_size) {
			*src = U64_MAX;
			return len;
		}
		*src = di->data + pos;
		return min(len, di->base_size - pos);
	}
	for (i = node->nr_extents - 1; i >= 0; i--) {
		struct daxfs_extent *x = &node->extents[i];

		if (x->file_off <= pos && pos - x->file_off < x->len) {
			found = i;
			end = min(end, x->file_off + x->len);
			break;
		}
	}
	for (i = node->nr_extents - 1; i > found; i--) {
		struct daxfs_extent *x = &node->extents[i];

		if (x->len && x->file_off > pos && x->file_off < end)
			end = x->file_off;
	}
	if (found >= 0) {
		*src = node->extents[found].data + (pos - node->extents[found].file_off);
	} else if (node->in_base && pos < node->base_limit) {
		*src = node->base_data + pos;
		end = min(end, node->base_limit);
	} else {
		*src = U64_MAX;
	}
	return end - pos;
}
