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

/* SPEC 4.2: regions inside the mapping and disjoint. */
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
	u32 slots = le32_to_cpu(s->pcache_slot_count);
	int i, j;

	if (le32_to_cpu(s->block_size) != DAXFS_BLOCK_SIZE)
		return refuse("block_size %u: only 4096-byte blocks exist in v5",
			      le32_to_cpu(s->block_size));
	if (le32_to_cpu(s->flags))
		return refuse("unknown superblock flags %#x", le32_to_cpu(s->flags));
	if (le64_to_cpu(s->total_size) > sbi->size)
		return refuse("image is truncated: total_size %llu, mapped %llu",
			      le64_to_cpu(s->total_size), sbi->size);

	for (i = 1; i < ARRAY_SIZE(r); i++) {
		if (!r[i].off)
			r[i].len = 0;
		else if (!within(r[i].off, r[i].len, sbi->size))
			return refuse("%s [%#llx, +%llu) outside the %llu-byte image",
				      r[i].name, r[i].off, r[i].len, sbi->size);
	}
	if (r[4].off) {
		if (!slots || (slots & (slots - 1)))
			return refuse("page-cache slot count %u is not a power of two", slots);
		if (r[4].len < 4096 + ALIGN(16ULL * slots, 4096) + 4096ULL * slots)
			return refuse("page cache of %llu bytes is too small for %u slots",
				      r[4].len, slots);
	}
	for (i = 0; i < ARRAY_SIZE(r); i++)
		for (j = i + 1; j < ARRAY_SIZE(r); j++)
			if (overlap(r[i].off, r[i].len, r[j].off, r[j].len))
				return refuse("%s overlaps %s", r[i].name, r[j].name);
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
			daxfs_read_dirent(sbi, array, keys[i].index, &de);
			daxfs_read_dirent(sbi, array, keys[j].index, &other);
			if (de.name_len == other.name_len &&
			    !memcmp(de.name, other.name, le16_to_cpu(de.name_len))) {
				err = refuse("directory %u: name '%.*s' appears twice", ino,
					     le16_to_cpu(de.name_len), de.name);
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
	char nul;
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
		daxfs_read(sbi, sbi->base_offset + data + size, &nul, 1);
		if (nul || memchr(daxfs_mem(sbi, sbi->base_offset + data, size), 0, size))
			return refuse("inode %u: symlink target is not one NUL-terminated string",
				      ino);
		return 0;
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
	const struct daxfs_base_super *bs = daxfs_mem(sbi, sbi->base_offset, sizeof(*bs));
	struct daxfs_base_inode root_inode;
	struct base_census c = {};
	u64 inode_off, table_end;
	u32 root, ino, i;
	int err;

	if (!bs)
		return refuse("base superblock outside the image");
	c.total = le64_to_cpu(bs->total_size);
	c.data_start = le64_to_cpu(bs->data_offset);
	inode_off = le64_to_cpu(bs->inode_offset);
	root = le32_to_cpu(bs->root_inode);
	if (le32_to_cpu(bs->flags) & ~DAXFS_BASE_EXTERNAL_DATA)
		return refuse("unknown base flags %#x", le32_to_cpu(bs->flags));
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
