// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: delta-region space as docs/space.md describes it for @daxfs/core.
 * delta_alloc_offset is a bump cursor; logs start at 64 KiB on 4096-byte
 * boundaries and, when an append or a commit merge does not fit, grow in
 * place (the log is the last extent handed out) or move to a larger extent:
 * copy, then repoint the record. Each step leaves the record valid. Callers
 * hold the coordination lock. Capacities are space.ts grownCapacity's, so a
 * sequence of appends and merges leaves the same records here as in core.
 *
 * Reuse (docs/space.md "Reuse", leases.ts and free-extents.ts): every mount
 * holds a lease in the superblock's reserved bytes on the branch it serves;
 * logs of dead records that no lease's chain reaches, and extents a log moved
 * away from once the leases older than the move are gone, are recorded in a
 * free-extent table there and handed out before the bump cursor moves.
 */
#include <linux/random.h>
#include <linux/slab.h>

#include "internal.h"

#define SUPER_ALLOC_OFF offsetof(struct daxfs_super, delta_alloc_offset)
#define INITIAL_LOG_CAPACITY (64 * 1024)
#define EXTENT_ALIGN 4096
/* Headroom of a tight growth: an eighth of the bytes needed (docs/space.md "Growth headroom"). */
#define TIGHT_HEADROOM_DIVISOR 8
#define REC_OFF(f) offsetof(struct daxfs_branch, f)

/* The layout docs/space.md "What changes on media" gives (absolute offsets). */
#define REUSE_MAGIC 0x55525844
#define REUSE_MAGIC_OFF 2048
#define LEASE_SERIAL_OFF 2052
#define LEASE_TABLE_OFF 2064
#define LEASE_ENTRIES 32
#define LEASE_SIZE 32
#define L_SERIAL 0
#define L_PID 4
#define L_BRANCH 8
#define L_START 16
#define L_BOOT 24
#define FREE_TABLE_OFF 3088
#define FREE_ENTRIES 39
#define FREE_SIZE 24
#define F_OFFSET 0
#define F_SIZE 8
#define F_HOLDER 16
#define F_SERIAL 20

static u64 lease_at(u32 i)
{
	return LEASE_TABLE_OFF + (u64)i * LEASE_SIZE;
}

static u64 free_at(u32 i)
{
	return FREE_TABLE_OFF + (u64)i * FREE_SIZE;
}

/* [off, +len) inside the handed-out part of the region: a damaged record or entry is never freed. */
static bool in_region(struct daxfs_sb_info *sbi, u64 off, u64 len)
{
	u64 cursor = min(daxfs_get64(sbi, SUPER_ALLOC_OFF), sbi->region + sbi->region_size);

	return off >= sbi->region && off <= cursor && len <= cursor - off;
}

static bool is_dead(const struct daxfs_branch *br)
{
	u32 state = le32_to_cpu(br->state);

	return state == DAXFS_BRANCH_ABORTED || state == DAXFS_BRANCH_COMMITTED;
}

/*
 * oldest[slot]: the smallest serial of a lease whose chain reaches the record
 * in slot, 0 when none does. Every lease is taken as live: the kernel cannot
 * tell a dead process of its own from a live one elsewhere (@daxfs/core
 * clears those). 1 when some lease's chain does not resolve: reuse nothing.
 */
static int leased_chains(struct daxfs_sb_info *sbi, u32 *oldest)
{
	struct daxfs_branch br;
	u32 i, steps;
	int slot;

	memset(oldest, 0, sbi->table_entries * sizeof(*oldest));
	for (i = 0; i < LEASE_ENTRIES; i++) {
		u32 serial = daxfs_get32(sbi, lease_at(i) + L_SERIAL);
		u64 id = daxfs_get64(sbi, lease_at(i) + L_BRANCH);

		if (!serial)
			continue;
		for (steps = 0;; steps++) {
			slot = daxfs_find_branch(sbi, id, &br);
			if (slot == -EUCLEAN)
				return slot;
			if (slot < 0 || steps > sbi->table_entries)
				return 1;
			if (!oldest[slot] || serial < oldest[slot])
				oldest[slot] = serial;
			id = le64_to_cpu(br.parent_id);
			if (!id)
				break;
		}
	}
	return 0;
}

static void mark_reuse(struct daxfs_sb_info *sbi)
{
	if (daxfs_get32(sbi, REUSE_MAGIC_OFF) != REUSE_MAGIC)
		daxfs_put32(sbi, REUSE_MAGIC_OFF, REUSE_MAGIC);
}

/*
 * free-extents.ts addFreeExtent: [off, +size) is free (holder 0) or free once
 * no lease older than serial reaches holder. A free-now extent joins a
 * neighbour; a full table forgets (leaks) the smaller one.
 */
static void add_free(struct daxfs_sb_info *sbi, u64 off, u64 size, u64 holder, u32 serial)
{
	u32 i, empty = FREE_ENTRIES, smallest = FREE_ENTRIES;
	u64 small_size = U64_MAX;

	if (!size || holder > U32_MAX)
		return;
	for (i = 0; i < FREE_ENTRIES; i++) {
		u64 at = free_at(i), eoff = daxfs_get64(sbi, at + F_OFFSET);
		u64 esize = daxfs_get64(sbi, at + F_SIZE);

		if (!esize) {
			if (empty == FREE_ENTRIES)
				empty = i;
			continue;
		}
		if (esize < small_size) {
			small_size = esize;
			smallest = i;
		}
		if (holder || daxfs_get32(sbi, at + F_HOLDER))
			continue;
		if (eoff + esize == off) {
			daxfs_put64(sbi, at + F_SIZE, esize + size);
			return;
		}
		if (off + size == eoff) {
			/* Offset first: [off, +esize) lies inside the union. */
			daxfs_put64(sbi, at + F_OFFSET, off);
			daxfs_put64(sbi, at + F_SIZE, esize + size);
			return;
		}
	}
	if (empty == FREE_ENTRIES) {
		if (smallest == FREE_ENTRIES || small_size >= size)
			return;
		empty = smallest;
		daxfs_put64(sbi, free_at(empty) + F_SIZE, 0);
	}
	daxfs_put64(sbi, free_at(empty) + F_OFFSET, off);
	daxfs_put32(sbi, free_at(empty) + F_HOLDER, holder);
	daxfs_put32(sbi, free_at(empty) + F_SERIAL, serial);
	mark_reuse(sbi);
	daxfs_put64(sbi, free_at(empty) + F_SIZE, size);
}

/*
 * Free-now neighbours recorded apart (one retired, the other freed) become one
 * extent: the second entry is dropped first (a crash leaks it), then the first
 * grows over it.
 */
static void join_free(struct daxfs_sb_info *sbi)
{
	u32 i, j;
	bool joined = true;

	while (joined) {
		joined = false;
		for (i = 0; i < FREE_ENTRIES && !joined; i++) {
			u64 ai = free_at(i), aoff = daxfs_get64(sbi, ai + F_OFFSET);
			u64 asize = daxfs_get64(sbi, ai + F_SIZE);

			if (!asize || daxfs_get32(sbi, ai + F_HOLDER))
				continue;
			for (j = 0; j < FREE_ENTRIES; j++) {
				u64 bj = free_at(j), bsize = daxfs_get64(sbi, bj + F_SIZE);

				if (j == i || !bsize || daxfs_get32(sbi, bj + F_HOLDER) ||
				    daxfs_get64(sbi, bj + F_OFFSET) != aoff + asize)
					continue;
				daxfs_put64(sbi, bj + F_SIZE, 0);
				daxfs_put64(sbi, ai + F_SIZE, asize + bsize);
				joined = true;
				break;
			}
		}
	}
}

/*
 * free-extents.ts reclaim: retired extents whose readers are gone become free
 * now; dead logs no lease reaches are emptied (size, then capacity) and freed.
 * Fills oldest[] (leased_chains); returns 1 when nothing may be reused.
 */
int daxfs_reclaim(struct daxfs_sb_info *sbi, u32 *oldest)
{
	struct daxfs_branch br;
	u32 i, slot;
	int err = leased_chains(sbi, oldest);

	if (err)
		return err;
	for (i = 0; i < FREE_ENTRIES; i++) {
		u64 at = free_at(i);
		u32 holder = daxfs_get32(sbi, at + F_HOLDER);
		u32 serial = daxfs_get32(sbi, at + F_SERIAL);
		int hs;

		if (!daxfs_get64(sbi, at + F_SIZE) || !holder)
			continue;
		hs = daxfs_find_branch(sbi, holder, &br);
		if (hs == -EUCLEAN)
			return hs;
		if (hs >= 0 && oldest[hs] && oldest[hs] < serial)
			continue;
		daxfs_put32(sbi, at + F_HOLDER, 0);
	}
	for (slot = 0; slot < sbi->table_entries; slot++) {
		u64 at = daxfs_record(sbi, slot);

		if (daxfs_read_record(sbi, slot, &br))
			return -EUCLEAN;
		if (!is_dead(&br) || !br.delta_log_capacity || oldest[slot] ||
		    !in_region(sbi, le64_to_cpu(br.delta_log_offset), le64_to_cpu(br.delta_log_capacity)))
			continue;
		daxfs_put64(sbi, at + REC_OFF(delta_log_size), 0);
		daxfs_put64(sbi, at + REC_OFF(delta_log_capacity), 0);
		add_free(sbi, le64_to_cpu(br.delta_log_offset), le64_to_cpu(br.delta_log_capacity), 0, 0);
	}
	join_free(sbi);
	return 0;
}

/* free-extents.ts takeFreeExtent: the tightest free-now run, cut from the end. */
static bool take_free(struct daxfs_sb_info *sbi, u64 capacity, u64 *start)
{
	u32 i, best = FREE_ENTRIES;
	u64 best_size = U64_MAX, best_start = 0;

	for (i = 0; i < FREE_ENTRIES; i++) {
		u64 at = free_at(i), off = daxfs_get64(sbi, at + F_OFFSET);
		u64 size = daxfs_get64(sbi, at + F_SIZE), run;

		if (!size || size < capacity || daxfs_get32(sbi, at + F_HOLDER) || !in_region(sbi, off, size))
			continue;
		run = round_down(off + size - capacity, EXTENT_ALIGN);
		if (run < off || size >= best_size)
			continue;
		best = i;
		best_size = size;
		best_start = run;
	}
	if (best == FREE_ENTRIES)
		return false;
	daxfs_put64(sbi, free_at(best) + F_SIZE,
		    best_start - daxfs_get64(sbi, free_at(best) + F_OFFSET));
	*start = best_start;
	return true;
}

/*
 * space.ts deltaUsage for the 90% warning: bytes handed out minus free-now
 * extents, dead logs no lease reaches, and retired extents no older lease
 * reaches (the last two are what the next allocation's reclaim frees).
 */
static void usage(struct daxfs_sb_info *sbi, u32 *oldest, u64 *used)
{
	struct daxfs_branch br;
	u64 cursor = min(daxfs_get64(sbi, SUPER_ALLOC_OFF), sbi->region + sbi->region_size);
	u64 free = 0;
	u32 i;
	bool chains = !leased_chains(sbi, oldest);

	for (i = 0; i < FREE_ENTRIES; i++) {
		u32 holder = daxfs_get32(sbi, free_at(i) + F_HOLDER);
		u32 serial = daxfs_get32(sbi, free_at(i) + F_SERIAL);
		u64 size = daxfs_get64(sbi, free_at(i) + F_SIZE);
		int hs;

		if (!size)
			continue;
		if (holder) {
			if (!chains)
				continue;
			hs = daxfs_find_branch(sbi, holder, &br);
			if (hs == -EUCLEAN)
				continue;
			/* Same rule as daxfs_reclaim: no lease older than the move reaches holder. */
			if (hs >= 0 && oldest[hs] && oldest[hs] < serial)
				continue;
		}
		free += size;
	}
	for (i = 0; chains && i < sbi->table_entries; i++) {
		if (daxfs_read_record(sbi, i, &br))
			break;
		if (is_dead(&br) && !oldest[i])
			free += le64_to_cpu(br.delta_log_capacity);
	}
	cursor = cursor > sbi->region ? cursor - sbi->region : 0;
	*used = cursor > free ? cursor - free : 0;
}

/*
 * leases.ts acquireLease for a kernel mount (caller holds the lock): pid 0,
 * a random cookie in starttime so only this mount's release clears it.
 */
int daxfs_lease_take(struct daxfs_sb_info *sbi, u64 branch_id)
{
	u32 i, serial;
	u64 at;

	for (i = 0; i < LEASE_ENTRIES; i++)
		if (!daxfs_get32(sbi, lease_at(i) + L_SERIAL))
			break;
	if (i == LEASE_ENTRIES) {
		pr_err("all %u mount leases are held (docs/space.md \"Reuse\")\n", LEASE_ENTRIES);
		return -EBUSY;
	}
	at = lease_at(i);
	serial = max_t(u32, 1, daxfs_get32(sbi, LEASE_SERIAL_OFF));
	daxfs_put32(sbi, LEASE_SERIAL_OFF, serial + 1 >= U32_MAX ? 1 : serial + 1);
	sbi->lease_cookie = get_random_u64() | 1;
	daxfs_put64(sbi, at + L_BRANCH, branch_id);
	daxfs_put32(sbi, at + L_PID, 0);
	daxfs_put64(sbi, at + L_START, sbi->lease_cookie);
	daxfs_put32(sbi, at + L_BOOT, 0);
	mark_reuse(sbi);
	daxfs_put32(sbi, at + L_SERIAL, serial);
	sbi->lease_index = i + 1;
	sbi->lease_serial = serial;
	return 0;
}

/* At unmount: give the lease back unless someone else's entry now sits there. */
void daxfs_lease_release(struct daxfs_sb_info *sbi)
{
	u64 at;

	if (!sbi->lease_index || daxfs_coord_lock(sbi))
		return;
	at = lease_at(sbi->lease_index - 1);
	if (daxfs_get32(sbi, at + L_SERIAL) == sbi->lease_serial &&
	    daxfs_get64(sbi, at + L_START) == sbi->lease_cookie)
		daxfs_put32(sbi, at + L_SERIAL, 0);
	sbi->lease_index = 0;
	daxfs_coord_unlock(sbi);
}

/* The mount log line of docs/space.md "Warning" (caller holds the lock). */
void daxfs_space_warn(struct daxfs_sb_info *sbi)
{
	u32 *oldest = kcalloc(sbi->table_entries ?: 1, sizeof(*oldest), GFP_KERNEL);
	u64 used;

	if (!oldest || !sbi->region_size)
		goto out;
	usage(sbi, oldest, &used);
	if (used * 10 > sbi->region_size * 9)
		pr_warn("delta region %llu%% used (%llu of %llu bytes); commit or abort branches, or rebuild the image\n",
			div64_u64(used * 100, sbi->region_size), used, sbi->region_size);
out:
	kfree(oldest);
}

/*
 * capacity bytes: freed space first (daxfs_reclaim), else the bump cursor,
 * which moves (and is flushed) before the extent is used. quiet: the caller
 * retries with a tighter size.
 */
static int alloc_extent(struct daxfs_sb_info *sbi, u64 capacity, u64 *start, bool quiet)
{
	u64 cursor = daxfs_get64(sbi, SUPER_ALLOC_OFF);
	u64 at = ALIGN(max(cursor, sbi->region), EXTENT_ALIGN);
	u64 end = sbi->region + sbi->region_size;
	u32 *oldest = kcalloc(sbi->table_entries ?: 1, sizeof(*oldest), GFP_KERNEL);
	int err;

	if (!oldest)
		return -ENOMEM;
	err = sbi->table_entries ? daxfs_reclaim(sbi, oldest) : 1;
	kfree(oldest);
	if (err < 0)
		return err;
	if (!err && take_free(sbi, capacity, start))
		return 0;
	if (at > end || capacity > end - at) {
		if (!quiet)
			pr_err_ratelimited("delta region full (%llu bytes wanted)\n", capacity);
		return -ENOSPC;
	}
	daxfs_put64(sbi, SUPER_ALLOC_OFF, at + capacity);
	*start = at;
	return 0;
}

int daxfs_alloc_extent(struct daxfs_sb_info *sbi, u64 capacity, u64 *start)
{
	return alloc_extent(sbi, capacity, start, false);
}

/*
 * space.ts grownCapacity: doubling from the current capacity (at least
 * 64 KiB) until needed fits; tight (a merge, or growth in place, which copies
 * nothing) at most an eighth of needed (at least 64 KiB) more than needed.
 */
static u64 grown_capacity(u64 current_cap, u64 needed, bool tight)
{
	u64 cap = max_t(u64, current_cap, INITIAL_LOG_CAPACITY);

	while (cap < needed)
		cap *= 2;
	if (tight)
		cap = min(cap, needed + max_t(u64, div_u64(needed, TIGHT_HEADROOM_DIVISOR),
					      INITIAL_LOG_CAPACITY));
	return ALIGN(cap, EXTENT_ALIGN);
}

/*
 * Make the log of the record in slot hold needed bytes (space.ts
 * ensureLogCapacity); merge: a commit adds a child's whole log at once.
 */
static int ensure_capacity(struct daxfs_sb_info *sbi, u32 slot, u64 needed, bool merge)
{
	u64 at = daxfs_record(sbi, slot);
	struct daxfs_branch br;
	u64 log, cap, old_cap, used, cursor, end = sbi->region + sbi->region_size, new_log;
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
		u64 grown = grown_capacity(cap, needed, true);

		if (log + grown > end)
			grown = ALIGN(needed, EXTENT_ALIGN);
		/* No room past the cursor: move into freed space instead (space.ts). */
		if (log + grown <= end) {
			daxfs_put64(sbi, SUPER_ALLOC_OFF, log + grown);
			daxfs_put64(sbi, at + offsetof(struct daxfs_branch, delta_log_capacity), grown);
			return 0;
		}
	}
	old_cap = cap;
	cap = grown_capacity(cap, needed, merge);
	err = alloc_extent(sbi, cap, &new_log, true);
	if (err == -ENOSPC) {
		cap = ALIGN(needed, EXTENT_ALIGN);
		err = daxfs_alloc_extent(sbi, cap, &new_log);
	}
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
	/* Retired: readers older than the move may still hold the old offset. */
	add_free(sbi, log, old_cap, le64_to_cpu(br.branch_id),
		 max_t(u32, 1, daxfs_get32(sbi, LEASE_SERIAL_OFF)));
	/* This mount's own log moved: its replayed entries are the same bytes. */
	if (sbi->nr_levels && sbi->levels[sbi->nr_levels - 1].slot == slot &&
	    sbi->levels[sbi->nr_levels - 1].log == log)
		sbi->levels[sbi->nr_levels - 1].log = new_log;
	return 0;
}

/* An append that does not fit: a moving log doubles (docs/space.md "Growth headroom"). */
int daxfs_ensure_capacity(struct daxfs_sb_info *sbi, u32 slot, u64 needed)
{
	return ensure_capacity(sbi, slot, needed, false);
}

/* Room in a parent for a commit merge: an eighth of headroom, moved or not. */
int daxfs_ensure_merge_capacity(struct daxfs_sb_info *sbi, u32 slot, u64 needed)
{
	return ensure_capacity(sbi, slot, needed, true);
}
