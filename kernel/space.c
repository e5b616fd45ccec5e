// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: delta-region space as docs/space.md describes it for @daxfs/core.
 * delta_alloc_offset is a bump cursor; logs start at 64 KiB on 4096-byte
 * boundaries and, when an append or a commit merge does not fit, grow in
 * place (the log is the last extent handed out) or move to a doubled extent:
 * copy, then repoint the record. Each step leaves the record valid. Callers
 * hold the coordination lock.
 */
#include "internal.h"

#define SUPER_ALLOC_OFF offsetof(struct daxfs_super, delta_alloc_offset)
#define INITIAL_LOG_CAPACITY (64 * 1024)
#define EXTENT_ALIGN 4096

static u64 space_left(struct daxfs_sb_info *sbi)
{
	u64 cursor = ALIGN(daxfs_get64(sbi, SUPER_ALLOC_OFF), EXTENT_ALIGN);
	u64 end = sbi->region + sbi->region_size;

	return cursor < end ? end - cursor : 0;
}

/* capacity bytes from the region; the cursor moves (and is flushed) first. */
int daxfs_alloc_extent(struct daxfs_sb_info *sbi, u64 capacity, u64 *start)
{
	u64 cursor = daxfs_get64(sbi, SUPER_ALLOC_OFF);
	u64 at = ALIGN(max(cursor, sbi->region), EXTENT_ALIGN);
	u64 end = sbi->region + sbi->region_size;

	if (at > end || capacity > end - at) {
		pr_err_ratelimited("delta region full (%llu bytes wanted)\n", capacity);
		return -ENOSPC;
	}
	daxfs_put64(sbi, SUPER_ALLOC_OFF, at + capacity);
	*start = at;
	return 0;
}

/* Doubling from the current capacity (at least 64 KiB) until needed fits. */
static u64 grown_capacity(u64 current_cap, u64 needed)
{
	u64 cap = max_t(u64, current_cap, INITIAL_LOG_CAPACITY);

	while (cap < needed)
		cap *= 2;
	return ALIGN(cap, EXTENT_ALIGN);
}

/* Make the log of the record in slot hold needed bytes (space.ts ensureLogCapacity). */
int daxfs_ensure_capacity(struct daxfs_sb_info *sbi, u32 slot, u64 needed)
{
	u64 at = daxfs_record(sbi, slot);
	struct daxfs_branch br;
	u64 log, cap, used, cursor, end = sbi->region + sbi->region_size, new_log;
	void *dst;
	const void *src;
	int err = daxfs_read_record(sbi, slot, &br);

	if (err)
		return err;
	log = le64_to_cpu(br.delta_log_offset);
	cap = le64_to_cpu(br.delta_log_capacity);
	used = le64_to_cpu(br.delta_log_size);
	if (needed <= cap)
		return 0;
	if (log < sbi->region || log - sbi->region > sbi->region_size ||
	    cap > sbi->region_size - (log - sbi->region) || used > cap)
		return daxfs_corrupt(sbi, "branch slot %u: log outside the delta region", slot);
	if (needed > end - sbi->region)
		return -ENOSPC;
	cursor = daxfs_get64(sbi, SUPER_ALLOC_OFF);
	if (log + cap == cursor && IS_ALIGNED(log, EXTENT_ALIGN)) {
		u64 grown = grown_capacity(cap, needed);

		if (log + grown > end)
			grown = ALIGN(needed, EXTENT_ALIGN);
		if (log + grown > end) {
			pr_err_ratelimited("delta region full (a log needs %llu bytes)\n", needed);
			return -ENOSPC;
		}
		daxfs_put64(sbi, SUPER_ALLOC_OFF, log + grown);
		daxfs_put64(sbi, at + offsetof(struct daxfs_branch, delta_log_capacity), grown);
		return 0;
	}
	cap = grown_capacity(cap, needed);
	if (cap > space_left(sbi))
		cap = ALIGN(needed, EXTENT_ALIGN);
	err = daxfs_alloc_extent(sbi, cap, &new_log);
	if (err)
		return err;
	src = daxfs_mem(sbi, log, used);
	dst = (void *)daxfs_mem(sbi, new_log, used);
	if (!src || !dst)
		return -EUCLEAN;
	memcpy(dst, src, used);
	daxfs_flush(sbi, dst, used);
	daxfs_put64(sbi, at + offsetof(struct daxfs_branch, delta_log_offset), new_log);
	daxfs_put64(sbi, at + offsetof(struct daxfs_branch, delta_log_capacity), cap);
	/* This mount's own log moved: its replayed entries are the same bytes. */
	if (sbi->nr_levels && sbi->levels[sbi->nr_levels - 1].slot == slot &&
	    sbi->levels[sbi->nr_levels - 1].log == log)
		sbi->levels[sbi->nr_levels - 1].log = new_log;
	return 0;
}
