// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: delta log entries (SPEC 1.5): decoding one entry out of a log, and
 * appending one to the mounted branch's log as @daxfs/core's BranchWriter
 * does: under the coordination lock, record re-read, log grown or moved if
 * it must (space.c), bytes written and flushed, then delta_log_size stored,
 * so every reader sees an entry whole or not at all.
 *
 * Decoding copies the header, payload and names out of the image before they
 * are checked (the memory is shared: no double fetch); WRITE data stays in
 * place and is read by offset.
 */
#include <linux/ktime.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "internal.h"

static const u8 payload_size[] = {
	[DAXFS_DELTA_WRITE] = sizeof(struct daxfs_delta_write),
	[DAXFS_DELTA_CREATE] = sizeof(struct daxfs_delta_create),
	[DAXFS_DELTA_DELETE] = sizeof(struct daxfs_delta_delete),
	[DAXFS_DELTA_TRUNCATE] = sizeof(struct daxfs_delta_truncate),
	[DAXFS_DELTA_MKDIR] = sizeof(struct daxfs_delta_create),
	[DAXFS_DELTA_RENAME] = sizeof(struct daxfs_delta_rename),
	[DAXFS_DELTA_SETATTR] = sizeof(struct daxfs_delta_setattr),
	[DAXFS_DELTA_SYMLINK] = sizeof(struct daxfs_delta_symlink),
	[DAXFS_DELTA_LINK] = sizeof(struct daxfs_delta_link),
	[DAXFS_DELTA_UTIMES] = sizeof(struct daxfs_delta_utimes),
};

static const char *const type_name[] = {
	[DAXFS_DELTA_LINK] = "LINK", [DAXFS_DELTA_UTIMES] = "UTIMES",
	[DAXFS_DELTA_WRITE] = "WRITE", [DAXFS_DELTA_CREATE] = "CREATE",
	[DAXFS_DELTA_DELETE] = "DELETE", [DAXFS_DELTA_TRUNCATE] = "TRUNCATE",
	[DAXFS_DELTA_MKDIR] = "MKDIR", [DAXFS_DELTA_RENAME] = "RENAME",
	[DAXFS_DELTA_SETATTR] = "SETATTR", [DAXFS_DELTA_SYMLINK] = "SYMLINK",
};

u32 daxfs_payload_size(u32 type)
{
	return type >= 1 && type < ARRAY_SIZE(payload_size) ? payload_size[type] : 0;
}

/* The superblock feature an entry type needs (docs/semantics.md "Extensions"). */
u32 daxfs_feature_of(u32 type)
{
	return type == DAXFS_DELTA_LINK ? DAXFS_FEATURE_LINK :
	       type == DAXFS_DELTA_UTIMES ? DAXFS_FEATURE_UTIMES : 0;
}

const char *daxfs_entry_type_name(u32 type)
{
	return daxfs_payload_size(type) ? type_name[type] : "entry";
}

/* Why the entry does not decode, into e->why ("TYPE: ..." once the type is known). */
static __printf(2, 3) int bad(struct daxfs_entry *e, const char *fmt, ...)
{
	int n = e->type ? scnprintf(e->why, sizeof(e->why), "%s: ", type_name[e->type]) : 0;
	va_list args;

	va_start(args, fmt);
	vscnprintf(e->why + n, sizeof(e->why) - n, fmt, args);
	va_end(args);
	return -EINVAL;
}

/* An inode number: not 0, and exact in the TypeScript tools. */
static int inode_field(struct daxfs_entry *e, __le64 raw, const char *label, u64 *ino)
{
	*ino = le64_to_cpu(raw);
	if (!*ino)
		return bad(e, "%s is 0", label);
	if (*ino > DAXFS_SAFE_MAX)
		return bad(e, "%s %llu is too large", label, *ino);
	return 0;
}

/*
 * A name of len bytes at skip in the trailing bytes, of which needed must fit
 * in room: 1..255 bytes, no '/' or NUL, not "." or "..".
 */
static int name_field(struct daxfs_entry *e, u32 room, u32 skip, u32 len, u32 needed,
		      const char *label, const char **name)
{
	if (needed > room)
		return bad(e, "total_size %u is too small for its %u trailing bytes", e->size,
			   needed);
	/* skip is 0 or an earlier name's checked length, so tail holds the name. */
	if (!daxfs_name_ok(e->tail + skip, len))
		return bad(e, "%s is not a valid name", label);
	*name = e->tail + skip;
	return 0;
}

/*
 * The one decoder of delta-log entries (SPEC 1.5.1; the checks and their
 * order are @daxfs/core's delta/decode.ts): replay (delta.c) and the
 * `validate` option (validate.c) both read entries through it and add only
 * their own rules on top. Decodes the entry at pos of the log [log, log +
 * size) into e: 1 when one was decoded, 0 at the end (pos == size or a
 * total_size of 0), -EINVAL with e->why when it is malformed.
 */
int daxfs_log_entry(struct daxfs_sb_info *sbi, u64 log, u64 size, u64 pos,
		    struct daxfs_entry *e)
{
	union {
		struct daxfs_delta_write write;
		struct daxfs_delta_create create;
		struct daxfs_delta_delete del;
		struct daxfs_delta_truncate trunc;
		struct daxfs_delta_rename rename;
		struct daxfs_delta_setattr setattr;
		struct daxfs_delta_symlink symlink;
		struct daxfs_delta_link link;
		struct daxfs_delta_utimes utimes;
	} p;
	struct daxfs_delta_hdr hdr;
	u32 type, psize, room, len, len2;
	u64 ino;		/* an inode the payload repeats */
	int err;

	e->type = 0;
	if (pos >= size)
		return 0;
	e->at = log + pos;
	if (size - pos < sizeof(hdr))
		return bad(e, "%llu bytes at the log end are too short for an entry header",
			   size - pos);
	if (daxfs_read(sbi, e->at, &hdr, sizeof(hdr)))
		return bad(e, "outside the image");
	e->size = le32_to_cpu(hdr.total_size);
	if (!e->size)
		return 0;
	if (e->size < sizeof(hdr))
		return bad(e, "total_size %u is smaller than its header", e->size);
	if (e->size > size - pos)
		return bad(e, "total_size %u runs past the log end (%llu bytes left)", e->size,
			   size - pos);
	type = le32_to_cpu(hdr.type);
	psize = daxfs_payload_size(type);
	if (!psize)
		return bad(e, "unknown type %u", type);
	e->type = type;
	if (e->size < sizeof(hdr) + psize)
		return bad(e, "total_size %u is below the minimum %zu", e->size,
			   sizeof(hdr) + psize);
	room = e->size - sizeof(hdr) - psize;
	err = inode_field(e, hdr.ino, "inode", &e->ino);
	if (err)
		return err;
	e->stamp = le64_to_cpu(hdr.timestamp);
	/* Everything is copied out before it is checked: WRITE data excepted. */
	if (daxfs_read(sbi, e->at + sizeof(hdr), &p, psize) ||
	    (type != DAXFS_DELTA_WRITE &&
	     daxfs_read(sbi, e->at + sizeof(hdr) + psize, e->tail,
			min_t(u32, room, sizeof(e->tail)))))
		return bad(e, "outside the image");
	e->name = NULL;
	e->name_len = 0;

	switch (type) {
	case DAXFS_DELTA_WRITE:
		e->write.offset = le64_to_cpu(p.write.offset);
		e->write.len = le32_to_cpu(p.write.len);
		if (e->write.len > room)
			return bad(e, "%u data bytes do not fit in total_size %u", e->write.len,
				   e->size);
		if (e->write.offset > DAXFS_SAFE_MAX ||
		    e->write.offset + e->write.len > DAXFS_SAFE_MAX)
			return bad(e, "file offset too large");
		/* The data is the entry's last len bytes (NOTES.md item 8). */
		e->write.data = e->at + e->size - e->write.len;
		return 1;
	case DAXFS_DELTA_CREATE:
	case DAXFS_DELTA_MKDIR:
		err = inode_field(e, p.create.new_ino, "new inode", &ino);
		if (!err && ino != e->ino)
			return bad(e, "header inode %llu differs from new inode %llu", e->ino, ino);
		len = le16_to_cpu(p.create.name_len);
		if (!err)
			err = name_field(e, room, 0, len, len, "name", &e->name);
		if (!err)
			err = inode_field(e, p.create.parent_ino, "parent inode", &e->create.parent);
		e->name_len = len;
		e->create.mode = le32_to_cpu(p.create.mode);
		e->create.uid = le32_to_cpu(p.create.uid);
		e->create.gid = le32_to_cpu(p.create.gid);
		return err ?: 1;
	case DAXFS_DELTA_SYMLINK:
		err = inode_field(e, p.symlink.new_ino, "new inode", &ino);
		if (!err && ino != e->ino)
			return bad(e, "header inode %llu differs from new inode %llu", e->ino, ino);
		len = le16_to_cpu(p.symlink.name_len);
		len2 = le16_to_cpu(p.symlink.target_len);
		if (!err)
			err = name_field(e, room, 0, len, len + len2 + 1, "name", &e->name);
		if (err)
			return err;
		if (!len2 || len2 > DAXFS_SYMLINK_MAX)
			return bad(e, "target length %u is outside 1..%u", len2, DAXFS_SYMLINK_MAX);
		e->create.target = e->tail + len;
		if (memchr(e->create.target, 0, len2) || e->create.target[len2])
			return bad(e, "target is not a NUL-terminated string");
		err = inode_field(e, p.symlink.parent_ino, "parent inode", &e->create.parent);
		e->name_len = len;
		e->create.target_len = len2;
		/* A symlink's mode is not stored: it is always this. */
		e->create.mode = S_IFLNK | 0777;
		e->create.uid = le32_to_cpu(p.symlink.uid);
		e->create.gid = le32_to_cpu(p.symlink.gid);
		return err ?: 1;
	case DAXFS_DELTA_DELETE:
		len = le16_to_cpu(p.del.name_len);
		err = name_field(e, room, 0, len, len, "name", &e->name);
		if (!err)
			err = inode_field(e, p.del.parent_ino, "parent inode", &e->del.parent);
		e->name_len = len;
		return err ?: 1;
	case DAXFS_DELTA_TRUNCATE:
		e->trunc.new_size = le64_to_cpu(p.trunc.new_size);
		if (e->trunc.new_size > DAXFS_SAFE_MAX)
			return bad(e, "new size %llu is too large", e->trunc.new_size);
		return 1;
	case DAXFS_DELTA_RENAME:
		err = inode_field(e, p.rename.ino, "renamed inode", &ino);
		if (err)
			return err;
		if (ino != e->ino)
			return bad(e, "header inode %llu differs from renamed inode %llu", e->ino, ino);
		len = le16_to_cpu(p.rename.old_name_len);
		len2 = le16_to_cpu(p.rename.new_name_len);
		err = name_field(e, room, 0, len, len + len2, "old name", &e->name);
		if (!err)
			err = name_field(e, room, len, len2, len + len2, "new name",
					 &e->rename.new_name);
		if (!err)
			err = inode_field(e, p.rename.old_parent_ino, "old parent inode",
					  &e->rename.old_parent);
		if (!err)
			err = inode_field(e, p.rename.new_parent_ino, "new parent inode",
					  &e->rename.new_parent);
		e->name_len = len;
		e->rename.new_name_len = len2;
		return err ?: 1;
	case DAXFS_DELTA_SETATTR:
		e->setattr.valid = le32_to_cpu(p.setattr.valid);
		if (e->setattr.valid &
		    ~(DAXFS_ATTR_MODE | DAXFS_ATTR_UID | DAXFS_ATTR_GID | DAXFS_ATTR_SIZE))
			return bad(e, "unknown valid bits %#x", e->setattr.valid);
		e->setattr.size = le64_to_cpu(p.setattr.size);
		if (e->setattr.size > DAXFS_SAFE_MAX)
			return bad(e, "size %llu is too large", e->setattr.size);
		e->setattr.mode = le32_to_cpu(p.setattr.mode);
		e->setattr.uid = le32_to_cpu(p.setattr.uid);
		e->setattr.gid = le32_to_cpu(p.setattr.gid);
		return 1;
	case DAXFS_DELTA_LINK:
		len = le16_to_cpu(p.link.name_len);
		err = name_field(e, room, 0, len, len, "name", &e->name);
		if (!err)
			err = inode_field(e, p.link.parent_ino, "parent inode", &e->del.parent);
		e->name_len = len;
		return err ?: 1;
	case DAXFS_DELTA_UTIMES:
		e->utimes.valid = le32_to_cpu(p.utimes.valid);
		if (e->utimes.valid & ~(DAXFS_UTIMES_ATIME | DAXFS_UTIMES_MTIME))
			return bad(e, "unknown valid bits %#x", e->utimes.valid);
		e->utimes.atime = le64_to_cpu(p.utimes.atime);
		e->utimes.mtime = le64_to_cpu(p.utimes.mtime);
		return 1;
	}
	return bad(e, "unknown type %u", type);	/* payload_size knows no more types */
}

/* Header of a new entry: wall-clock ns, strictly increasing per mount (SPEC 1.5.1). */
void daxfs_fill_hdr(struct daxfs_sb_info *sbi, void *entry, u32 type, u32 size, u64 ino)
{
	struct daxfs_delta_hdr *hdr = entry;
	u64 now = ktime_get_real_ns();

	sbi->last_stamp = now > sbi->last_stamp ? now : sbi->last_stamp + 1;
	hdr->type = cpu_to_le32(type);
	hdr->total_size = cpu_to_le32(size);
	hdr->ino = cpu_to_le64(ino);
	hdr->timestamp = cpu_to_le64(sbi->last_stamp);
}

/*
 * Room for size bytes at the tail of the mounted branch's log (coordination
 * lock held): grown or moved first if it must be (space.c). Returns where
 * the bytes go; *used is the log size before them. ESTALE once the branch is
 * no longer ACTIVE; ENOSPC only when the delta region itself is full.
 */
static void *append_room(struct daxfs_sb_info *sbi, u32 type, u32 size, u64 *used)
{
	struct daxfs_level *me = &sbi->levels[sbi->nr_levels - 1];
	struct daxfs_branch br;
	u64 log, cap;
	u64 flags_at = offsetof(struct daxfs_super, flags);
	u32 feature = daxfs_feature_of(type);
	void *dst;
	int err = daxfs_own_record(sbi, &br);

	if (err)
		return ERR_PTR(err);
	/* An extension is announced before its first entry can be seen. */
	if (feature && !(daxfs_get32(sbi, flags_at) & feature))
		daxfs_put32(sbi, flags_at, daxfs_get32(sbi, flags_at) | feature);
	*used = le64_to_cpu(br.delta_log_size);
	cap = le64_to_cpu(br.delta_log_capacity);
	if (*used > cap)
		return ERR_PTR(daxfs_corrupt(sbi, "branch %llu: log size %llu over capacity",
					     me->id, *used));
	if (size > cap - *used) {
		/* Room for a padded variant too, as @daxfs/core reserves it. */
		err = daxfs_ensure_capacity(sbi, me->slot, *used + size + 4096);
		if (!err)
			err = daxfs_own_record(sbi, &br);
		if (err)
			return ERR_PTR(err);
	}
	log = le64_to_cpu(br.delta_log_offset);
	if (log < sbi->region || log - sbi->region > sbi->region_size ||
	    *used + size > sbi->region_size - (log - sbi->region))
		return ERR_PTR(daxfs_corrupt(sbi, "branch %llu: log outside the delta region",
					     me->id));
	dst = (void *)daxfs_mem(sbi, log + *used, size);
	return dst ? dst : ERR_PTR(-EUCLEAN);
}

/* The entry's bytes at dst are whole: flush them, then make them part of the log. */
static void append_publish(struct daxfs_sb_info *sbi, void *dst, u64 used, u32 size)
{
	u64 at = daxfs_record(sbi, sbi->levels[sbi->nr_levels - 1].slot);

	daxfs_flush(sbi, dst, size);
	daxfs_put64(sbi, at + offsetof(struct daxfs_branch, delta_log_size), used + size);
	sbi->own_from = used;
	sbi->own_to = used + size;
}

/* Append the encoded entry to the mounted branch's log (coordination lock held). */
int daxfs_append(struct daxfs_sb_info *sbi, void *entry, u32 size)
{
	u32 type = le32_to_cpu(((struct daxfs_delta_hdr *)entry)->type);
	u64 used;
	void *dst = append_room(sbi, type, size, &used);

	if (IS_ERR(dst))
		return PTR_ERR(dst);
	memcpy(dst, entry, size);
	append_publish(sbi, dst, used, size);
	return 0;
}

/*
 * Append one WRITE entry of file bytes [pos, +len) taken from the iterator
 * straight into the log (coordination lock held): no staging copy. User
 * memory is read with page faults disabled (a fault could need this mount's
 * lock: a mapping of one of its files), so fewer bytes may come; the entry
 * then says how many did (*copied), and none is appended when none came:
 * the caller faults the memory in and tries again.
 */
int daxfs_append_write(struct daxfs_sb_info *sbi, u64 ino, u64 pos, struct iov_iter *from,
		       u32 len, u32 *copied)
{
	struct {
		struct daxfs_delta_hdr hdr;
		struct daxfs_delta_write w;
	} __packed head = {};
	u32 size = sizeof(head) + len;
	u64 used;
	void *dst = append_room(sbi, DAXFS_DELTA_WRITE, size, &used);

	*copied = 0;
	if (IS_ERR(dst))
		return PTR_ERR(dst);
	pagefault_disable();
	*copied = copy_from_iter(dst + sizeof(head), len, from);
	pagefault_enable();
	if (!*copied)
		return 0;
	size = sizeof(head) + *copied;
	head.w.offset = cpu_to_le64(pos);
	head.w.len = cpu_to_le32(*copied);
	daxfs_fill_hdr(sbi, &head, DAXFS_DELTA_WRITE, size, ino);
	memcpy(dst, &head, sizeof(head));
	append_publish(sbi, dst, used, size);
	return 0;
}
