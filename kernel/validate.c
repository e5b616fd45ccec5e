// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: the `validate` mount option (SPEC 4 with the NOTES.md "Validity"
 * rules, identical to the TypeScript validator) and the per-structure reads
 * that the lookup paths share. Each refusal prints one line naming the
 * structure and the problem and returns -EINVAL.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/stringhash.h>

#include "internal.h"

#define refuse(fmt, ...)						\
	({ pr_err("validate: " fmt "\n", ##__VA_ARGS__); -EINVAL; })

/* A directory entry name: 1..255 bytes, no '/', no NUL, not "." or "..". */
bool daxfs_name_ok(const char *name, u32 len)
{
	if (len == 0 || len > DAXFS_NAME_MAX)
		return false;
	if (memchr(name, '/', len) || memchr(name, '\0', len))
		return false;
	return !(name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')));
}

/* Base inode slot of ino (SPEC 1.6.2), copied out of the image. */
int daxfs_read_base_inode(struct daxfs_sb_info *sbi, u64 ino,
			  struct daxfs_base_inode *bi)
{
	if (ino < 1 || ino > sbi->inode_count)
		return -ENOENT;
	return daxfs_read(sbi, sbi->inode_table + (ino - 1) * sizeof(*bi), bi,
			  sizeof(*bi));
}

/* Entry index of the dirent array at absolute offset array (stride 272). */
int daxfs_read_dirent(struct daxfs_sb_info *sbi, u64 array, u32 index,
		      struct daxfs_dirent *de)
{
	return daxfs_read(sbi, array + (u64)index * DAXFS_DIRENT_STRIDE, de,
			  sizeof(*de));
}

/* [off, off + len) inside [0, limit), overflow-safe. */
static bool within(u64 off, u64 len, u64 limit)
{
	return off <= limit && len <= limit - off;
}

static bool overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	if (!alen || !blen)
		return false;
	return a < b + blen && b < a + alen;
}

/*
 * One superblock region (SPEC 4.2): block-aligned, past the superblock's
 * block, inside the image. Checked in the order of the TS validator
 * (validate/regions.ts) so that both name the same first problem.
 */
static int check_region(const char *what, u64 off, u64 len, u64 image)
{
	if (!IS_ALIGNED(off, DAXFS_BLOCK_SIZE))
		return refuse("superblock: %s at %#llx is not block-aligned", what, off);
	if (off < DAXFS_BLOCK_SIZE)
		return refuse("superblock: %s at %#llx overlaps the superblock block", what, off);
	if (!within(off, len, image))
		return refuse("superblock: %s [%#llx, +%llu) runs past the image end %llu", what,
			      off, len, image);
	return 0;
}

/* A static image (branch_table_entries 0) has no branching fields (SPEC 1.2). */
static int check_static_fields(const struct daxfs_super *s)
{
	if (s->branch_table_offset || s->delta_region_offset || s->delta_region_size ||
	    s->delta_alloc_offset || s->next_branch_id || s->active_branches || s->pcache_offset)
		return refuse("superblock: static image with branching fields set");
	return 0;
}

static int check_branching_fields(const struct daxfs_super *s, u64 image)
{
	u64 table = le64_to_cpu(s->branch_table_offset);
	u64 delta = le64_to_cpu(s->delta_region_offset);
	u64 delta_size = le64_to_cpu(s->delta_region_size);
	u64 alloc = le64_to_cpu(s->delta_alloc_offset);
	int err;

	if (!table)
		return refuse("superblock: branch_table_entries is set but the table has no offset");
	err = check_region("branch table", table,
			   (u64)le32_to_cpu(s->branch_table_entries) * sizeof(struct daxfs_branch),
			   image);
	if (err)
		return err;
	if (!delta)
		return refuse("superblock: branching image without a delta region");
	err = check_region("delta region", delta, delta_size, image);
	if (err)
		return err;
	if (alloc < delta || alloc - delta > delta_size)
		return refuse("superblock: delta_alloc_offset %#llx outside the delta region [%#llx, +%llu]",
			      alloc, delta, delta_size);
	if (!s->next_branch_id)
		return refuse("superblock: branching image with next_branch_id 0");
	return 0;
}

static int check_pcache_fields(const struct daxfs_super *s, u64 image)
{
	u64 size = le64_to_cpu(s->pcache_size);
	u32 slots = le32_to_cpu(s->pcache_slot_count);
	int err;

	if (!s->pcache_offset) {
		/* Readers size the region from these: they must not describe one. */
		if (size || slots || s->pcache_hash_shift)
			return refuse("superblock: page-cache fields set without a page cache");
		return 0;
	}
	if (!slots || (slots & (slots - 1)))
		return refuse("superblock: page-cache slot count %u is not a power of two", slots);
	if (size < DAXFS_BLOCK_SIZE + ALIGN(16ULL * slots, DAXFS_BLOCK_SIZE) +
		   (u64)DAXFS_BLOCK_SIZE * slots)
		return refuse("superblock: page cache of %llu bytes is too small for %u slots",
			      size, slots);
	err = check_region("page cache", le64_to_cpu(s->pcache_offset), size, image);
	if (err)
		return err;
	if (le32_to_cpu(s->pcache_hash_shift) != ilog2(slots))
		return refuse("superblock: pcache_hash_shift %u is not log2(%u)",
			      le32_to_cpu(s->pcache_hash_shift), slots);
	return 0;
}

/*
 * SPEC 4.2 with NOTES.md "Validity": the superblock's fields and regions, on
 * a copy of the superblock (the image may change while it is checked).
 */
int daxfs_validate_super(struct daxfs_sb_info *sbi, const struct daxfs_super *s)
{
	struct { const char *name; u64 off, len; } r[5] = {
		{ "superblock", 0, DAXFS_SUPER_SIZE },
		{ "base image", le64_to_cpu(s->base_offset), le64_to_cpu(s->base_size) },
		{ "branch table", le64_to_cpu(s->branch_table_offset),
		  (u64)le32_to_cpu(s->branch_table_entries) * sizeof(struct daxfs_branch) },
		{ "delta region", le64_to_cpu(s->delta_region_offset),
		  le64_to_cpu(s->delta_region_size) },
		{ "page cache", le64_to_cpu(s->pcache_offset), le64_to_cpu(s->pcache_size) },
	};
	int i, j, err;

	if (le32_to_cpu(s->block_size) != DAXFS_BLOCK_SIZE)
		return refuse("superblock: block_size %u: only 4096-byte blocks exist in v5",
			      le32_to_cpu(s->block_size));
	if (le32_to_cpu(s->flags) & ~DAXFS_KNOWN_FEATURES)
		return refuse("superblock: unknown feature bits %#x",
			      le32_to_cpu(s->flags) & ~DAXFS_KNOWN_FEATURES);
	if (le64_to_cpu(s->total_size) > sbi->size)
		return refuse("superblock: image is truncated: total_size %llu, mapped %llu",
			      le64_to_cpu(s->total_size), sbi->size);
	if (!s->base_offset)
		return refuse("superblock: image has no base image");
	err = check_region("base image", r[1].off, r[1].len, sbi->size);
	if (!err)
		err = s->branch_table_entries ? check_branching_fields(s, sbi->size) :
						check_static_fields(s);
	if (!err)
		err = check_pcache_fields(s, sbi->size);
	if (err)
		return err;
	for (i = 1; i < ARRAY_SIZE(r); i++)
		if (!r[i].off)
			r[i].len = 0;
	for (i = 0; i < ARRAY_SIZE(r); i++)
		for (j = i + 1; j < ARRAY_SIZE(r); j++)
			if (overlap(r[i].off, r[i].len, r[j].off, r[j].len))
				return refuse("superblock: %s overlaps the %s", r[j].name, r[i].name);
	return 0;
}

/* Per-inode facts gathered by the base check. */
struct base_census {
	u32 *names;		/* directory entries naming each inode */
	u32 *subdirs;		/* subdirectories of each directory */
	u32 *parent;		/* the directory naming each directory */
	u64 data_start, total;	/* the data area, base-relative */
	struct data_item { u64 start, end; u32 ino; } *items;
	u32 nr_items;
};

/* A data item: 4096-aligned, inside the data area, kept for the overlap check. */
static int check_item(struct base_census *c, u32 ino, const char *what, u64 start, u64 len)
{
	if (!IS_ALIGNED(start, DAXFS_BLOCK_SIZE))
		return refuse("inode %u: %s starts unaligned at %#llx", ino, what, start);
	if (start < c->data_start || !within(start, len, c->total))
		return refuse("inode %u: %s [%#llx, +%llu) outside the data area", ino, what,
			      start, len);
	c->items[c->nr_items++] = (struct data_item){ start, start + len, ino };
	return 0;
}

static int cmp_item(const void *a, const void *b)
{
	const struct data_item *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* SPEC 4.3 step 6 for one directory: entries, names, duplicates. */
static int check_dir(struct daxfs_sb_info *sbi, u32 ino, u64 array, u32 count,
		     struct base_census *c)
{
	struct daxfs_dirent de, other;
	struct daxfs_base_inode child;
	struct daxfs_name_key *keys;
	u32 i;
	int err = 0;

	keys = kvmalloc_array(count, sizeof(*keys), GFP_KERNEL);
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		u32 cino, len;

		if (daxfs_read_dirent(sbi, array, i, &de)) {
			err = refuse("directory %u: entry %u outside the image", ino, i);
			goto out;
		}
		cino = le32_to_cpu(de.ino);
		len = le16_to_cpu(de.name_len);
		if (!daxfs_name_ok(de.name, len)) {
			err = refuse("directory %u: entry %u has an invalid name", ino, i);
			goto out;
		}
		if (daxfs_read_base_inode(sbi, cino, &child) || !child.ino) {
			err = refuse("directory %u: entry '%.*s' names unused inode %u",
				     ino, len, de.name, cino);
			goto out;
		}
		if (le32_to_cpu(de.mode) != le32_to_cpu(child.mode)) {
			err = refuse("directory %u: entry '%.*s' mode differs from inode %u",
				     ino, len, de.name, cino);
			goto out;
		}
		c->names[cino - 1]++;
		if (S_ISDIR(le32_to_cpu(child.mode))) {
			c->subdirs[ino - 1]++;
			c->parent[cino - 1] = ino;
		}
		keys[i].hash = full_name_hash(NULL, de.name, len);
		keys[i].index = i;
	}
	/* Duplicates: sort by name hash, compare neighbours in full. */
	sort(keys, count, sizeof(*keys), daxfs_cmp_name_key, NULL);
	for (i = 1; i < count && !err; i++) {
		u32 j = i;

		while (j-- > 0 && keys[j].hash == keys[i].hash) {
			u32 len, olen;

			/*
			 * Names are compared on fresh copies; a copy whose hash is not
			 * the one sorted on changed under us, and is refused.
			 */
			if (daxfs_read_dirent(sbi, array, keys[i].index, &de) ||
			    daxfs_read_dirent(sbi, array, keys[j].index, &other)) {
				err = refuse("directory %u: entries outside the image", ino);
				break;
			}
			len = le16_to_cpu(de.name_len);
			olen = le16_to_cpu(other.name_len);
			if (!daxfs_name_ok(de.name, len) || !daxfs_name_ok(other.name, olen) ||
			    full_name_hash(NULL, de.name, len) != keys[i].hash ||
			    full_name_hash(NULL, other.name, olen) != keys[j].hash) {
				err = refuse("directory %u: entries changed while they were checked", ino);
				break;
			}
			if (len == olen && !memcmp(de.name, other.name, len)) {
				err = refuse("directory %u: name '%.*s' appears twice", ino, len,
					     de.name);
				break;
			}
		}
	}
out:
	kvfree(keys);
	return err;
}

/* SPEC 4.3 step 6: one inode slot. */
static int check_inode(struct daxfs_sb_info *sbi, u32 ino, struct base_census *c)
{
	struct daxfs_base_inode bi;
	u64 size, data;
	u32 mode;
	char *target;
	int err;

	if (daxfs_read_base_inode(sbi, ino, &bi))
		return refuse("inode %u: slot outside the image", ino);
	mode = le32_to_cpu(bi.mode);
	size = le64_to_cpu(bi.size);
	data = le64_to_cpu(bi.data_offset);
	if (!bi.ino && !mode)
		return 0;	/* unused slot (NOTES.md layout item 6) */
	if (le32_to_cpu(bi.ino) != ino)
		return refuse("inode %u: slot says ino %u", ino, le32_to_cpu(bi.ino));
	if (!S_ISREG(mode) && !S_ISDIR(mode) && !S_ISLNK(mode))
		return refuse("inode %u: unsupported file type %#o", ino, mode & S_IFMT);
	/* (uid_t)-1 is no owner: not even root could use such an inode. */
	if (le32_to_cpu(bi.uid) == U32_MAX || le32_to_cpu(bi.gid) == U32_MAX)
		return refuse("inode %u: uid or gid 4294967295 is not a valid owner", ino);
	/* Without BASE_MTIME those bytes are reserved (docs/semantics.md "Extensions"). */
	if (bi.mtime && !(daxfs_get32(sbi, offsetof(struct daxfs_super, flags)) &
			  DAXFS_FEATURE_BASE_MTIME))
		return refuse("inode %u: mtime stored in an image whose superblock does not announce base_mtime",
			      ino);
	if (S_ISREG(mode) && sbi->external_data)
		return 0;	/* data lives in the backing file (SPEC 4.5) */
	if (!size) {
		if (data > c->total)
			return refuse("inode %u: empty inode's data offset %#llx is outside the base",
				      ino, data);
		return 0;
	}
	if (S_ISDIR(mode)) {
		u64 count = size / DAXFS_DIRENT_SIZE;

		if (size % DAXFS_DIRENT_SIZE || count > U32_MAX)
			return refuse("inode %u: directory size %llu is not a multiple of 271",
				      ino, size);
		err = check_item(c, ino, "directory entries", data, count * DAXFS_DIRENT_STRIDE);
		return err ? err : check_dir(sbi, ino, sbi->base_offset + data, count, c);
	}
	if (S_ISLNK(mode)) {
		if (size >= DAXFS_BLOCK_SIZE)
			return refuse("inode %u: symlink target length %llu", ino, size);
		err = check_item(c, ino, "symlink target", data, size + 1);
		if (err)
			return err;
		/* Checked on a copy: the image may change under us. */
		target = kmalloc(size + 1, GFP_KERNEL);
		if (!target)
			return -ENOMEM;
		err = daxfs_read(sbi, sbi->base_offset + data, target, size + 1);
		if (!err && (target[size] || memchr(target, 0, size)))
			err = refuse("inode %u: symlink target is not one NUL-terminated string",
				     ino);
		kfree(target);
		return err;
	}
	return check_item(c, ino, "data", data, size);
}

/*
 * NOTES.md "Validity": link counts, one name per directory, every directory
 * reachable from the root. Walks parent links upwards (no recursion), so a
 * cycle shows as a walk longer than the inode count.
 */
static int check_links(struct daxfs_sb_info *sbi, u32 root, struct base_census *c)
{
	struct daxfs_base_inode bi;
	u32 ino, mode, nlink, want, up, steps;

	for (ino = 1; ino <= sbi->inode_count; ino++) {
		daxfs_read_base_inode(sbi, ino, &bi);
		mode = le32_to_cpu(bi.mode);
		if (!bi.ino && !mode) {
			if (c->names[ino - 1])
				return refuse("inode %u: unused slot is named", ino);
			continue;
		}
		nlink = le32_to_cpu(bi.nlink);
		if (!S_ISDIR(mode)) {
			if (!c->names[ino - 1] || nlink != c->names[ino - 1])
				return refuse("inode %u: nlink %u but %u names", ino, nlink,
					      c->names[ino - 1]);
			continue;
		}
		want = 2 + c->subdirs[ino - 1];
		if (nlink != want)
			return refuse("directory %u: nlink %u, expected %u", ino, nlink, want);
		if (c->names[ino - 1] != (ino == root ? 0 : 1))
			return refuse("directory %u: named by %u entries", ino,
				      c->names[ino - 1]);
		for (up = ino, steps = 0; up != root; up = c->parent[up - 1])
			if (!up || ++steps > sbi->inode_count)
				return refuse("directory %u: not reachable from the root", ino);
	}
	return 0;
}

/* SPEC 4.3 with the NOTES.md rules; sbi has the base geometry already. */
int daxfs_validate_base(struct daxfs_sb_info *sbi)
{
	struct daxfs_base_super *bs;
	struct daxfs_base_inode root_inode;
	struct base_census c = {};
	u64 inode_off, table_end;
	u32 root, ino, i, flags;
	int err;

	/* A copy of the fields before the reserved tail (4 KiB is too big for the stack). */
	bs = kmalloc(sizeof(*bs), GFP_KERNEL);
	if (!bs)
		return -ENOMEM;
	err = daxfs_read(sbi, sbi->base_offset, bs, offsetof(typeof(*bs), reserved));
	c.total = le64_to_cpu(bs->total_size);
	c.data_start = le64_to_cpu(bs->data_offset);
	inode_off = le64_to_cpu(bs->inode_offset);
	root = le32_to_cpu(bs->root_inode);
	flags = le32_to_cpu(bs->flags);
	if (!err && (le32_to_cpu(bs->inode_count) != sbi->inode_count ||
		     sbi->base_offset + inode_off != sbi->inode_table))
		err = 1;
	kfree(bs);
	if (err)
		return refuse("base superblock outside the image or changed while it was read");
	if (flags & ~DAXFS_BASE_EXTERNAL_DATA)
		return refuse("unknown base flags %#x", flags);
	if (c.total > sbi->base_size)
		return refuse("base total_size %llu exceeds base_size %llu", c.total,
			      sbi->base_size);
	if (!sbi->inode_count)
		return refuse("base image has no inodes");
	if (inode_off < sizeof(*bs) || !IS_ALIGNED(inode_off, DAXFS_BLOCK_SIZE))
		return refuse("inode_offset %#llx overlaps the base superblock or is unaligned",
			      inode_off);
	table_end = inode_off + (u64)sbi->inode_count * DAXFS_BASE_INODE_SIZE;
	if (table_end > c.total)
		return refuse("inode table runs past the base image");
	if (c.data_start < table_end || c.data_start > c.total ||
	    !IS_ALIGNED(c.data_start, DAXFS_BLOCK_SIZE))
		return refuse("data_offset %#llx overlaps the inode table or lies outside the base",
			      c.data_start);
	if (root != DAXFS_ROOT_INO)
		return refuse("root inode is %u, not 1", root);
	daxfs_read_base_inode(sbi, root, &root_inode);
	if (!S_ISDIR(le32_to_cpu(root_inode.mode)))
		return refuse("root inode is not a directory");

	c.names = kvcalloc(sbi->inode_count, sizeof(u32), GFP_KERNEL);
	c.subdirs = kvcalloc(sbi->inode_count, sizeof(u32), GFP_KERNEL);
	c.parent = kvcalloc(sbi->inode_count, sizeof(u32), GFP_KERNEL);
	c.items = kvmalloc_array(sbi->inode_count, sizeof(*c.items), GFP_KERNEL);
	err = -ENOMEM;
	if (!c.names || !c.subdirs || !c.parent || !c.items)
		goto out;
	for (ino = 1; ino <= sbi->inode_count; ino++) {
		err = check_inode(sbi, ino, &c);
		if (err)
			goto out;
		cond_resched();
	}
	/* No two data items share a byte: sorted by start, neighbours compared. */
	sort(c.items, c.nr_items, sizeof(*c.items), cmp_item, NULL);
	for (i = 1; i < c.nr_items; i++) {
		if (c.items[i].start < c.items[i - 1].end) {
			err = refuse("inode %u: data overlaps inode %u's", c.items[i].ino,
				     c.items[i - 1].ino);
			goto out;
		}
	}
	err = check_links(sbi, root, &c);
out:
	kvfree(c.names);
	kvfree(c.subdirs);
	kvfree(c.parent);
	kvfree(c.items);
	return err;
}

/*
 * Branch table and delta logs (SPEC 1.4, 1.5; OVERVIEW.md 3, 4; NOTES.md
 * "Validity"): the rules of the TS validator's validate/branches.ts and
 * validate/deltas.ts, refusing on the first problem. Records and entries are
 * copied out before they are checked; parent chains are followed with a step
 * bound, never by recursion.
 */

struct vbranch {
	u32 slot;
	u32 state;
	u64 id, parent;
	u64 log, size, capacity;
	char name[DAXFS_BRANCH_NAME_MAX + 1];
	u32 depth;		/* records on the chain to main, this one included */
};

struct vtable {
	struct vbranch *b;	/* the non-FREE records, in slot order */
	u32 nr;
	u64 *ids;		/* ids sorted, for lookups */
};

static struct vbranch *branch_by_id(struct vtable *t, u64 id)
{
	u32 lo = 0, hi = t->nr, i;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (t->ids[2 * mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == t->nr || t->ids[2 * lo] != id)
		return NULL;
	i = t->ids[2 * lo + 1];
	return &t->b[i];
}

static int cmp_id_pair(const void *a, const void *b)
{
	const u64 *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

static bool is_main(const struct vbranch *b)
{
	return b->id == 1 && !strcmp(b->name, "main") && !b->parent &&
	       b->state == DAXFS_BRANCH_ACTIVE;
}

/*
 * Main's record (OVERVIEW.md 3: id 1, "main", parent 0, ACTIVE) and its log
 * inside the allocated delta region. Called at every mount, not only with
 * `validate`: a damaged main record must refuse the mount, never leave the
 * base alone in its place (that would drop every committed change). Returns
 * the slot of main, -ENOENT when the image has none yet (next_branch_id 1:
 * the public tools' images before their first mount), or a refusal.
 */
int daxfs_check_main_record(struct daxfs_sb_info *sbi, const struct daxfs_super *s)
{
	u64 table = le64_to_cpu(s->branch_table_offset);
	u64 region = le64_to_cpu(s->delta_region_offset);
	u64 alloc = le64_to_cpu(s->delta_alloc_offset);
	u32 entries = le32_to_cpu(s->branch_table_entries), i;
	struct daxfs_branch br;
	int found = -ENOENT;

	for (i = 0; i < entries; i++) {
		u64 id, parent, log, cap;
		bool named;

		if (daxfs_read(sbi, table + (u64)i * sizeof(br), &br, sizeof(br)))
			return refuse("branch %u: record outside the image", i);
		if (!(i % 4096))
			cond_resched();
		if (le32_to_cpu(br.state) == DAXFS_BRANCH_FREE)
			continue;
		id = le64_to_cpu(br.branch_id);
		named = !strncmp(br.name, "main", sizeof(br.name));
		if (id != 1 && !named)
			continue;
		parent = le64_to_cpu(br.parent_id);
		if (id != 1 || !named || parent || le32_to_cpu(br.state) != DAXFS_BRANCH_ACTIVE)
			return refuse("branch %u: branch_id: bad main branch record (id %llu, parent %llu, state %u)",
				      i, id, parent, le32_to_cpu(br.state));
		if (found >= 0)
			return refuse("branch %u: branch_id: duplicate branch id 1, also in slot %d",
				      i, found);
		log = le64_to_cpu(br.delta_log_offset);
		cap = le64_to_cpu(br.delta_log_capacity);
		if (le64_to_cpu(br.delta_log_size) > cap)
			return refuse("branch %u: delta_log_size %llu: log fuller than its capacity %llu",
				      i, le64_to_cpu(br.delta_log_size), cap);
		if (log < region || alloc < log || cap > alloc - log)
			return refuse("branch %u: delta_log_offset [%#llx, +%llu): branch log lies outside the allocated delta region [%#llx, %#llx)",
				      i, log, cap, region, alloc);
		found = i;
	}
	/* Main is the first branch of every image (SPEC 3.4.1): any id handed out means it exists. */
	if (found == -ENOENT && le64_to_cpu(s->next_branch_id) > 1)
		return refuse("superblock: next_branch_id %llu but the table has no main record",
			      le64_to_cpu(s->next_branch_id));
	return found;
}

/* One record, as branches.ts checks it on its own (no other record needed). */
static int check_record(struct daxfs_sb_info *sbi, const struct daxfs_super *s,
			const struct daxfs_branch *br, struct vbranch *b)
{
	u64 region = le64_to_cpu(s->delta_region_offset);
	u64 alloc = le64_to_cpu(s->delta_alloc_offset);
	u64 next_ino = le64_to_cpu(s->next_inode_id);
	u64 local = le64_to_cpu(br->next_local_ino);
	const char *nul = memchr(br->name, 0, sizeof(br->name));
	u32 slot = b->slot;

	b->state = le32_to_cpu(br->state);
	b->id = le64_to_cpu(br->branch_id);
	b->parent = le64_to_cpu(br->parent_id);
	b->log = le64_to_cpu(br->delta_log_offset);
	b->size = le64_to_cpu(br->delta_log_size);
	b->capacity = le64_to_cpu(br->delta_log_capacity);
	if (b->state > DAXFS_BRANCH_ABORTED)
		return refuse("branch %u: state %u: unknown branch state", slot, b->state);
	if (!b->id || b->id >= le64_to_cpu(s->next_branch_id))
		return refuse("branch %u: branch_id %llu: branch id out of range 1..%llu", slot,
			      b->id, le64_to_cpu(s->next_branch_id) - 1);
	if (!nul)
		return refuse("branch %u: name: branch name is not NUL-terminated", slot);
	memcpy(b->name, br->name, nul - br->name + 1);
	if (b->state == DAXFS_BRANCH_ACTIVE && !b->name[0])
		return refuse("branch %u: name: active branch without a name", slot);
	if (b->id == 1 || !strcmp(b->name, "main")) {
		if (!is_main(b))
			return refuse("branch %u: branch_id: bad main branch record", slot);
	} else if (!b->parent) {
		return refuse("branch %u: parent_id: branch without a parent", slot);
	}
	/*
	 * next_local_ino is where the branch's counter resumes; writers hand
	 * out max(next_local_ino, next_inode_id) and raise next_inode_id past
	 * it (SPEC 3.8.2), so it never exceeds next_inode_id. It may lie
	 * below the base inodes: the public module writes 2 into main's.
	 */
	if (local > next_ino)
		return refuse("branch %u: next_local_ino %llu: branch inode counter above next_inode_id %llu",
			      slot, local, next_ino);
	if (b->size > b->capacity)
		return refuse("branch %u: delta_log_size %llu: log fuller than its capacity %llu",
			      slot, b->size, b->capacity);
	if (b->log < region || alloc < b->log || b->capacity > alloc - b->log)
		return refuse("branch %u: delta_log_offset [%#llx, +%llu): branch log lies outside the allocated delta region [%#llx, %#llx)",
			      slot, b->log, b->capacity, region, alloc);
	return 0;
}

static int cmp_log(const void *a, const void *b)
{
	const struct vbranch *x = *(const struct vbranch **)a, *y = *(const struct vbranch **)b;

	return x->log < y->log ? -1 : x->log > y->log;
}

static int cmp_name(const void *a, const void *b)
{
	const struct vbranch *x = *(const struct vbranch **)a, *y = *(const struct vbranch **)b;

	return strcmp(x->name, y->name);
}

/* Table-wide rules: unique ids and live names, chains to main, disjoint live logs. */
static int check_table(struct vtable *t)
{
	struct vbranch **live, *prev = NULL;
	u32 i, nr_live = 0;
	int err = 0;

	for (i = 0; i < t->nr; i++) {
		t->ids[2 * i] = t->b[i].id;
		t->ids[2 * i + 1] = i;
	}
	sort(t->ids, t->nr, 2 * sizeof(u64), cmp_id_pair, NULL);
	for (i = 1; i < t->nr; i++)
		if (t->ids[2 * i] == t->ids[2 * i - 2]) {
			struct vbranch *a = &t->b[t->ids[2 * i - 1]], *b = &t->b[t->ids[2 * i + 1]];

			return refuse("branch %u: branch_id %llu: duplicate branch id, also in slot %u",
				      max(a->slot, b->slot), b->id, min(a->slot, b->slot));
		}
	/* Lookup by name must be unambiguous among live branches (SPEC 1.4): sorted, neighbours compared. */
	live = kvmalloc_array(t->nr, sizeof(*live), GFP_KERNEL);
	if (!live)
		return -ENOMEM;
	for (i = 0; i < t->nr; i++)
		if (t->b[i].state == DAXFS_BRANCH_ACTIVE)
			live[nr_live++] = &t->b[i];
	sort(live, nr_live, sizeof(*live), cmp_name, NULL);
	for (i = 1; i < nr_live && !err; i++)
		if (!strcmp(live[i]->name, live[i - 1]->name))
			err = refuse("branch %u: name \"%s\": duplicate branch name, also slot %u",
				     max(live[i]->slot, live[i - 1]->slot), live[i]->name,
				     min(live[i]->slot, live[i - 1]->slot));
	kvfree(live);
	if (err)
		return err;
	for (i = 0; i < t->nr; i++) {
		struct vbranch *b = &t->b[i], *up = b, *parent;
		u32 steps = 1;

		while (up->parent) {
			parent = branch_by_id(t, up->parent);
			if (!parent)
				return refuse("branch %u: parent_id %llu: parent branch does not exist",
					      up->slot, up->parent);
			if (++steps > t->nr)
				return refuse("branch %u: parent_id: branch parents form a cycle",
					      b->slot);
			up = parent;
		}
		b->depth = steps;
		if (b->state == DAXFS_BRANCH_ACTIVE && b->parent &&
		    branch_by_id(t, b->parent)->state != DAXFS_BRANCH_ACTIVE)
			return refuse("branch %u: state: live branch on a dead parent %llu",
				      b->slot, b->parent);
	}
	/* Live logs may not share bytes; dead ones may have had their space reused. */
	live = kvmalloc_array(t->nr, sizeof(*live), GFP_KERNEL);
	if (!live)
		return -ENOMEM;
	nr_live = 0;
	for (i = 0; i < t->nr; i++)
		if (t->b[i].state == DAXFS_BRANCH_ACTIVE && t->b[i].capacity)
			live[nr_live++] = &t->b[i];
	sort(live, nr_live, sizeof(*live), cmp_log, NULL);
	for (i = 0; i < nr_live; i++) {
		if (prev && live[i]->log < prev->log + prev->capacity) {
			err = refuse("branch %u: delta_log_offset %#llx: branch logs overlap (branch %llu's ends at %#llx)",
				     live[i]->slot, live[i]->log, prev->id, prev->log + prev->capacity);
			break;
		}
		if (!prev || live[i]->log + live[i]->capacity > prev->log + prev->capacity)
			prev = live[i];
	}
	kvfree(live);
	return err;
}

/* Inodes created by logs: number -> the creating branch and type (siblings may reuse numbers). */
struct vcreated {
	struct vcreated *next;
	u64 branch;
	umode_t type;
};

struct vlogs {
	struct daxfs_sb_info *sbi;
	struct vtable *t;
	u64 next_inode_id;
	u32 features;		/* the superblock's feature bits */
	struct xarray created;
	u64 *chain;		/* ids of the branch being checked up to main */
	u32 depth;
	const char *where;	/* the branch's name, as the TS validator prints it */
	u64 at;			/* the entry being checked */
};

/* A refusal naming the log entry being checked, as the TS validator names it. */
#define refuse_entry(v, fmt, ...)					\
	refuse("delta %s@%#llx: " fmt, (v)->where, (v)->at, ##__VA_ARGS__)

/* Type bits of ino as seen from the branch being checked; 0 if unknown there. */
static umode_t type_of(struct vlogs *v, u64 ino)
{
	struct daxfs_base_inode bi;
	struct vcreated *c;
	u32 i;

	if (ino <= v->sbi->inode_count) {
		if (daxfs_read_base_inode(v->sbi, ino, &bi))
			return 0;
		return le32_to_cpu(bi.mode) & S_IFMT;
	}
	for (c = xa_load(&v->created, ino); c; c = c->next)
		for (i = 0; i < v->depth; i++)
			if (v->chain[i] == c->branch)
				return c->type;
	return 0;
}

static const char *type_name(umode_t type)
{
	return type == S_IFREG ? "regular file" : type == S_IFDIR ? "directory" :
	       type == S_IFLNK ? "symlink" : "another type";
}

/* An inode an entry speaks of exists along the chain, with type want (0: any). */
static int needs(struct vlogs *v, const char *type, const char *field, u64 ino, umode_t want)
{
	umode_t actual = type_of(v, ino);

	if (!actual)
		return refuse_entry(v, "%s: %s: unknown inode %llu", field, type, ino);
	if (want && actual != want)
		return refuse_entry(v, "%s: %s: inode %llu is a %s, not a %s", field, type, ino,
				    type_name(actual), type_name(want));
	return 0;
}

static int record_create(struct vlogs *v, u64 branch, u64 ino, umode_t type)
{
	struct vcreated *c = kmalloc(sizeof(*c), GFP_KERNEL);
	int err;

	if (!c)
		return -ENOMEM;
	c->branch = branch;
	c->type = type;
	c->next = xa_load(&v->created, ino);
	err = xa_err(xa_store(&v->created, ino, c, GFP_KERNEL));
	if (err)
		kfree(c);
	return err;
}

/* A create-type entry: MKDIR, CREATE, SYMLINK (deltas.ts). */
static int check_create(struct vlogs *v, const struct vbranch *b, const struct daxfs_entry *e)
{
	const char *t = daxfs_entry_type_name(e->type);
	umode_t want = e->type == DAXFS_DELTA_SYMLINK ? S_IFLNK :
		       e->type == DAXFS_DELTA_MKDIR ? S_IFDIR : S_IFREG;
	/* Foreign logs may leave the type bits 0 (replay supplies them). */
	umode_t recorded = e->create.mode & S_IFMT;
	int err = needs(v, t, "parent_ino", e->create.parent, S_IFDIR);

	if (err)
		return err;
	if (recorded && recorded != want)
		return refuse_entry(v, "mode: %s: mode type disagrees with the entry type", t);
	if (e->ino <= v->sbi->inode_count || e->ino >= v->next_inode_id)
		return refuse_entry(v, "new_ino: %s: new inode number %llu out of range %u..%llu", t,
				    e->ino, v->sbi->inode_count + 1, v->next_inode_id - 1);
	if (type_of(v, e->ino))
		return refuse_entry(v, "new_ino: %s: inode number %llu created twice", t, e->ino);
	return record_create(v, b->id, e->ino, want);
}

/*
 * What only the whole image tells about a decoded entry: the inodes it
 * speaks of exist along the chain with the right type (deltas.ts).
 */
static int check_entry(struct vlogs *v, const struct vbranch *b, const struct daxfs_entry *e)
{
	const char *t = daxfs_entry_type_name(e->type);
	u32 feature = daxfs_feature_of(e->type);
	int err;

	/* An extension entry needs its superblock bit (docs/semantics.md "Extensions"). */
	if (feature && !(v->features & feature))
		return refuse_entry(v, "type: %s: extension entry in an image whose superblock does not announce it",
				    t);
	switch (e->type) {
	case DAXFS_DELTA_WRITE:
	case DAXFS_DELTA_TRUNCATE:
		return needs(v, t, "ino", e->ino, S_IFREG);
	case DAXFS_DELTA_LINK:
		/* A directory never gains a second name (NOTES.md "Validity"). */
		if (type_of(v, e->ino) == S_IFDIR)
			return refuse_entry(v, "ino: %s: inode %llu is a directory", t, e->ino);
		err = needs(v, t, "ino", e->ino, 0);
		return err ?: needs(v, t, "parent_ino", e->del.parent, S_IFDIR);
	case DAXFS_DELTA_UTIMES:
		return needs(v, t, "ino", e->ino, 0);
	case DAXFS_DELTA_CREATE:
	case DAXFS_DELTA_MKDIR:
	case DAXFS_DELTA_SYMLINK:
		return check_create(v, b, e);
	case DAXFS_DELTA_DELETE:
		err = needs(v, t, "parent_ino", e->del.parent, S_IFDIR);
		return err ?: needs(v, t, "ino", e->ino, 0);
	case DAXFS_DELTA_RENAME:
		err = needs(v, t, "old_parent_ino", e->rename.old_parent, S_IFDIR);
		if (!err)
			err = needs(v, t, "new_parent_ino", e->rename.new_parent, S_IFDIR);
		return err ?: needs(v, t, "ino", e->ino, 0);
	case DAXFS_DELTA_SETATTR:
		err = needs(v, t, "ino", e->ino, 0);
		if (!err && (e->setattr.valid & DAXFS_ATTR_MODE)) {
			umode_t type_bits = e->setattr.mode & S_IFMT;

			if (type_bits && type_bits != type_of(v, e->ino))
				return refuse_entry(v, "mode: %s: mode changes the file type", t);
		}
		return err;
	}
	return refuse_entry(v, "entry: %s: no rules for this type", t);
}

/* Every entry of one live branch's log: decoded by log.c, then the inode rules. */
static int check_log(struct vlogs *v, const struct vbranch *b, struct daxfs_entry *e)
{
	const struct vbranch *up = b;
	u64 pos = 0;
	int err;

	v->where = b->name;
	v->chain[0] = b->id;
	/* check_table() resolved every chain: each parent exists, no cycle. */
	for (v->depth = 1; up->parent && v->depth < v->t->nr; v->depth++) {
		up = branch_by_id(v->t, up->parent);
		v->chain[v->depth] = up->id;
	}
	for (;;) {
		v->at = b->log + pos;
		err = daxfs_log_entry(v->sbi, b->log, b->size, pos, e);
		if (err < 0)
			return refuse_entry(v, "entry: %s", e->why);
		if (!err)
			return 0;
		err = check_entry(v, b, e);
		if (err)
			return err;
		pos += e->size;
		cond_resched();
	}
}

static int cmp_depth(const void *a, const void *b)
{
	const struct vbranch *x = *(const struct vbranch **)a, *y = *(const struct vbranch **)b;

	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

/* Logs of every ACTIVE branch, parents first, so each entry is checked once. */
static int check_logs(struct daxfs_sb_info *sbi, const struct daxfs_super *s, struct vtable *t)
{
	struct vlogs v = { .sbi = sbi, .t = t, .next_inode_id = le64_to_cpu(s->next_inode_id),
			   .features = le32_to_cpu(s->flags) };
	struct vbranch **live;
	struct vcreated *c, *next;
	unsigned long ino;
	struct daxfs_entry *e;
	u32 i, nr = 0;
	int err = -ENOMEM;

	xa_init(&v.created);
	live = kvmalloc_array(t->nr, sizeof(*live), GFP_KERNEL);
	v.chain = kvmalloc_array(t->nr, sizeof(*v.chain), GFP_KERNEL);
	e = kmalloc(sizeof(*e), GFP_KERNEL);
	if (!live || !v.chain || !e)
		goto out;
	for (i = 0; i < t->nr; i++)
		if (t->b[i].state == DAXFS_BRANCH_ACTIVE)
			live[nr++] = &t->b[i];
	sort(live, nr, sizeof(*live), cmp_depth, NULL);
	err = 0;
	for (i = 0; i < nr && !err; i++)
		err = check_log(&v, live[i], e);
out:
	xa_for_each(&v.created, ino, c) {
		for (; c; c = next) {
			next = c->next;
			kfree(c);
		}
	}
	xa_destroy(&v.created);
	kfree(e);
	kvfree(v.chain);
	kvfree(live);
	return err;
}

/*
 * The page-cache header (SPEC 1.7, 4.2 item 4; validate/pcache.ts): offsets
 * inside the region, counts that agree, slot states and tags that hash to
 * their own slot (the cache is direct-mapped).
 */
static int check_pcache_header(struct daxfs_sb_info *sbi, const struct daxfs_super *s,
			       const struct daxfs_pcache_header *h)
{

	u64 region = le64_to_cpu(s->pcache_offset), size = le64_to_cpu(s->pcache_size);
	u32 slots = le32_to_cpu(s->pcache_slot_count), i;
	u64 meta_bytes = 16ULL * slots, data_bytes = (u64)DAXFS_BLOCK_SIZE * slots;
	struct daxfs_pcache_slot slot;
	u64 meta, data;

	if (le32_to_cpu(h->magic) != DAXFS_PCACHE_MAGIC)
		return refuse("pcache_header: magic %#x: bad page-cache magic", le32_to_cpu(h->magic));
	if (le32_to_cpu(h->version) != DAXFS_PCACHE_VERSION)
		return refuse("pcache_header: version %u: unknown page-cache version",
			      le32_to_cpu(h->version));
	if (le32_to_cpu(h->slot_count) != slots)
		return refuse("pcache_header: slot_count %u: slot counts disagree (superblock %u)",
			      le32_to_cpu(h->slot_count), slots);
	if (le32_to_cpu(h->hash_shift) != ilog2(slots))
		return refuse("pcache_header: hash_shift %u is not log2(slot count)",
			      le32_to_cpu(h->hash_shift));
	meta = le64_to_cpu(h->slot_meta_offset);
	data = le64_to_cpu(h->slot_data_offset);
	if (meta < DAXFS_BLOCK_SIZE || !within(meta, meta_bytes, size))
		return refuse("pcache_header: slot_meta_offset %llu: slot records lie outside the page-cache region",
			      meta);
	if (!IS_ALIGNED(data, DAXFS_BLOCK_SIZE) || data < DAXFS_BLOCK_SIZE ||
	    !within(data, data_bytes, size))
		return refuse("pcache_header: slot_data_offset %llu: slot data lies outside the page-cache region",
			      data);
	if (overlap(meta, meta_bytes, data, data_bytes))
		return refuse("pcache_header: slot_data_offset %llu: slot data overlaps the slot records",
			      data);
	if (le32_to_cpu(h->pending_count) > slots)
		return refuse("pcache_header: pending_count %u: more pending slots than slots",
			      le32_to_cpu(h->pending_count));
	for (i = 0; i < slots; i++) {
		u64 tag;
		u32 state;

		daxfs_read(sbi, region + meta + 16ULL * i, &slot, sizeof(slot));
		tag = le64_to_cpu(slot.state_tag);
		state = tag & 3;
		if (state == 3)
			return refuse("pcache_slot %u: state_tag: unknown slot state", i);
		if (state && ((tag >> 2) & (slots - 1)) != i)
			return refuse("pcache_slot %u: state_tag: cached page is in the wrong slot", i);
		if (!(i % 4096))
			cond_resched();
	}
	return 0;
}

static int check_pcache(struct daxfs_sb_info *sbi, const struct daxfs_super *s)
{
	/* Only the fields are copied; the rest of the 4 KiB header is reserved. */
	struct daxfs_pcache_header *h = kmalloc(sizeof(*h), GFP_KERNEL);
	int err;

	if (!h)
		return -ENOMEM;
	err = daxfs_read(sbi, le64_to_cpu(s->pcache_offset), h,
			 offsetofend(typeof(*h), pending_count));
	err = err ? refuse("pcache_header: outside the image") : check_pcache_header(sbi, s, h);
	kfree(h);
	return err;
}

/*
 * Everything past the base (validate.ts order): next_inode_id above the base
 * inodes, the branch table, the logs of live branches, the page cache. Runs
 * after daxfs_validate_base(), on a copy of the superblock.
 */
int daxfs_validate_branching(struct daxfs_sb_info *sbi, const struct daxfs_super *s)
{
	u32 entries = le32_to_cpu(s->branch_table_entries), i;
	u64 table = le64_to_cpu(s->branch_table_offset);
	struct vtable t = {};
	struct daxfs_branch br;
	int err = 0;

	if (le64_to_cpu(s->next_inode_id) < (u64)sbi->inode_count + 1)
		return refuse("superblock: next_inode_id %llu: inode high-water mark below the base inodes (%u)",
			      le64_to_cpu(s->next_inode_id), sbi->inode_count);
	if (entries) {
		t.b = kvmalloc_array(entries, sizeof(*t.b), GFP_KERNEL);
		t.ids = kvmalloc_array(entries, 2 * sizeof(u64), GFP_KERNEL);
		err = -ENOMEM;
		if (!t.b || !t.ids)
			goto out;
		err = 0;
		for (i = 0; i < entries && !err; i++) {
			if (daxfs_read(sbi, table + (u64)i * sizeof(br), &br, sizeof(br))) {
				err = refuse("branch %u: record outside the image", i);
				break;
			}
			if (!(i % 4096))
				cond_resched();
			if (le32_to_cpu(br.state) == DAXFS_BRANCH_FREE)
				continue;
			t.b[t.nr] = (struct vbranch){ .slot = i };
			err = check_record(sbi, s, &br, &t.b[t.nr]);
			t.nr++;
		}
		if (!err)
			err = check_table(&t);
		if (!err && t.nr)
			err = check_logs(sbi, s, &t);
		if (!err) {
			err = daxfs_check_main_record(sbi, s);
			err = err == -ENOENT || err >= 0 ? 0 : err;
		}
	}
	if (!err && s->pcache_offset)
		err = check_pcache(sbi, s);
out:
	kvfree(t.b);
	kvfree(t.ids);
	return err;
}
