// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: delta log entries (SPEC 1.5): parsing one entry out of a log, and
 * appending one to the mounted branch's log as @daxfs/core's BranchWriter
 * does: under the coordination lock, record re-read, log grown or moved if
 * it must (space.c), bytes written and flushed, then delta_log_size stored,
 * so every reader sees an entry whole or not at all.
 *
 * Parsing copies the header, payload and names out of the image before they
 * are checked (the memory is shared: no double fetch); WRITE data stays in
 * place and is read by offset.
 */
#include <linux/ktime.h>

#include "internal.h"

static const u8 payload_size[] = {
	[DAXFS_DELTA_WRITE] = 16, [DAXFS_DELTA_CREATE] = 32, [DAXFS_DELTA_DELETE] = 16,
	[DAXFS_DELTA_TRUNCATE] = 8, [DAXFS_DELTA_MKDIR] = 32, [DAXFS_DELTA_RENAME] = 32,
	[DAXFS_DELTA_SETATTR] = 24, [DAXFS_DELTA_SYMLINK] = 32,
	[DAXFS_DELTA_LINK] = 16, [DAXFS_DELTA_UTIMES] = 24,
};

/* The superblock feature an entry type needs (docs/semantics.md "Extensions"). */
static u32 feature_of(u32 type)
{
	return type == DAXFS_DELTA_LINK ? DAXFS_FEATURE_LINK :
	       type == DAXFS_DELTA_UTIMES ? DAXFS_FEATURE_UTIMES : 0;
}

u32 daxfs_payload_size(u32 type)
{
	return type >= 1 && type < ARRAY_SIZE(payload_size) ? payload_size[type] : 0;
}

#define bad_entry(at, fmt, ...)						\
	({ pr_err("log entry at %#llx: " fmt "\n", at, ##__VA_ARGS__); -EINVAL; })

/*
 * The entry at pos of the log [log, log + size): 1 when one was read, 0 at
 * the end (pos == size or a total_size of 0), -EINVAL when it does not fit.
 */
int daxfs_log_entry(struct daxfs_sb_info *sbi, u64 log, u64 size, u64 pos,
		    struct daxfs_entry *e)
{
	struct daxfs_delta_hdr hdr;
	u32 psize;

	if (pos >= size)
		return 0;
	e->at = log + pos;
	if (size - pos < sizeof(hdr))
		return bad_entry(e->at, "%llu bytes at the log end are too short for a header",
				 size - pos);
	if (daxfs_read(sbi, e->at, &hdr, sizeof(hdr)))
		return bad_entry(e->at, "outside the image");
	e->type = le32_to_cpu(hdr.type);
	e->size = le32_to_cpu(hdr.total_size);
	e->ino = le64_to_cpu(hdr.ino);
	e->stamp = le64_to_cpu(hdr.timestamp);
	if (!e->size)
		return 0;
	if (e->size > size - pos)
		return bad_entry(e->at, "total_size %u runs past the log", e->size);
	psize = daxfs_payload_size(e->type);
	if (!psize)
		return bad_entry(e->at, "unknown type %u", e->type);
	if (e->size < sizeof(hdr) + psize)
		return bad_entry(e->at, "total_size %u too small for type %u", e->size, e->type);
	if (daxfs_read(sbi, e->at + sizeof(hdr), &e->p, psize))
		return bad_entry(e->at, "outside the image");
	e->tail_len = e->size - sizeof(hdr) - psize;
	if (e->type != DAXFS_DELTA_WRITE) {
		/* Names and targets are short; anything longer is checked against this. */
		u32 n = min_t(u32, e->tail_len, sizeof(e->tail));

		if (daxfs_read(sbi, e->at + sizeof(hdr) + psize, e->tail, n))
			return bad_entry(e->at, "outside the image");
		e->tail_len = n;
	}
	return 1;
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
 * Append the encoded entry to the mounted branch's log (coordination lock
 * held). ESTALE once the branch is no longer ACTIVE; ENOSPC only when the
 * delta region itself is full.
 */
int daxfs_append(struct daxfs_sb_info *sbi, void *entry, u32 size)
{
	struct daxfs_level *me = &sbi->levels[sbi->nr_levels - 1];
	u64 at = daxfs_record(sbi, me->slot);
	struct daxfs_branch br;
	u64 log, used, cap;
	u64 flags_at = offsetof(struct daxfs_super, flags);
	u32 feature = feature_of(le32_to_cpu(((struct daxfs_delta_hdr *)entry)->type));
	void *dst;
	int err = daxfs_own_record(sbi, &br);

	if (err)
		return err;
	/* An extension is announced before its first entry can be seen. */
	if (feature && !(daxfs_get32(sbi, flags_at) & feature))
		daxfs_put32(sbi, flags_at, daxfs_get32(sbi, flags_at) | feature);
	used = le64_to_cpu(br.delta_log_size);
	cap = le64_to_cpu(br.delta_log_capacity);
	if (used > cap)
		return daxfs_corrupt(sbi, "branch %llu: log size %llu over capacity", me->id, used);
	if (size > cap - used) {
		/* Room for a padded variant too, as @daxfs/core reserves it. */
		err = daxfs_ensure_capacity(sbi, me->slot, used + size + 4096);
		if (err)
			return err;
		err = daxfs_own_record(sbi, &br);
		if (err)
			return err;
	}
	log = le64_to_cpu(br.delta_log_offset);
	if (log < sbi->region || log - sbi->region > sbi->region_size ||
	    used + size > sbi->region_size - (log - sbi->region))
		return daxfs_corrupt(sbi, "branch %llu: log outside the delta region", me->id);
	dst = (void *)daxfs_mem(sbi, log + used, size);
	if (!dst)
		return -EUCLEAN;
	memcpy(dst, entry, size);
	daxfs_flush(sbi, dst, size);
	daxfs_put64(sbi, at + offsetof(struct daxfs_branch, delta_log_size), used + size);
	sbi->own_from = used;
	sbi->own_to = used + size;
	return 0;
}
