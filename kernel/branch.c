// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: branch records and their lifecycle (SPEC 3.4, 3.9 with NOTES.md),
 * the same steps in the same order as @daxfs/core's branch/lifecycle.ts, so
 * kernels and the userspace tools can share one image: main created on
 * first use, branches created and re-attached at mount, commit (room made in
 * every parent first, so it never fails half-way), abort, and the drop of an
 * uncommitted branch at unmount. Every change to shared records happens
 * under the coordination lock (coord.c) after re-reading the table, one
 * field at a time, in an order that leaves the table valid after a crash.
 */
#include <linux/fs_context.h>
#include <linux/slab.h>

#include "internal.h"

#define SUPER_OFF(f) offsetof(struct daxfs_super, f)
#define REC_OFF(f) offsetof(struct daxfs_branch, f)
#define COORD_INTENT_LEVEL_OFF (SUPER_OFF(coord) + offsetof(struct daxfs_global_coord, reserved) + 20)
#define COORD_INTENT_SIZE_OFF (SUPER_OFF(coord) + offsetof(struct daxfs_global_coord, reserved) + 32)
#define COMMIT_SEQ_OFF (SUPER_OFF(coord) + offsetof(struct daxfs_global_coord, commit_sequence))
#define LAST_COMMITTED_OFF (SUPER_OFF(coord) + offsetof(struct daxfs_global_coord, last_committed_id))
#define INITIAL_LOG_CAPACITY (64 * 1024)

u64 daxfs_record(struct daxfs_sb_info *sbi, u32 slot)
{
	return sbi->table + (u64)slot * sizeof(struct daxfs_branch);
}

int daxfs_read_record(struct daxfs_sb_info *sbi, u32 slot, struct daxfs_branch *br)
{
	if (slot >= sbi->table_entries || daxfs_read(sbi, daxfs_record(sbi, slot), br, sizeof(*br)))
		return -EUCLEAN;
	return 0;
}

static bool name_is(const struct daxfs_branch *br, const char *name)
{
	return !strncmp(br->name, name, sizeof(br->name));
}

/* A named record as @daxfs/core's findBranch sees it: not FREE, not COMMITTED. */
static int find_by_name(struct daxfs_sb_info *sbi, const char *name, struct daxfs_branch *br)
{
	u32 slot;

	for (slot = 0; slot < sbi->table_entries; slot++) {
		u32 state;

		if (daxfs_read_record(sbi, slot, br))
			return -EUCLEAN;
		state = le32_to_cpu(br->state);
		if (state != DAXFS_BRANCH_FREE && state != DAXFS_BRANCH_COMMITTED &&
		    br->name[0] && name_is(br, name))
			return slot;
	}
	return -ENOENT;
}

/* The non-FREE slot holding id (its record copied to *br), -ENOENT, or -EUCLEAN. */
int daxfs_find_branch(struct daxfs_sb_info *sbi, u64 id, struct daxfs_branch *br)
{
	u32 slot;

	for (slot = 0; slot < sbi->table_entries; slot++) {
		if (daxfs_read_record(sbi, slot, br))
			return -EUCLEAN;
		if (le32_to_cpu(br->state) != DAXFS_BRANCH_FREE && le64_to_cpu(br->branch_id) == id)
			return slot;
	}
	return -ENOENT;
}

/* 1 when some non-FREE record names id as its parent. */
static int is_named_parent(struct daxfs_sb_info *sbi, u64 id)
{
	struct daxfs_branch br;
	u32 slot;

	for (slot = 0; slot < sbi->table_entries; slot++) {
		if (daxfs_read_record(sbi, slot, &br))
			return -EUCLEAN;
		if (le32_to_cpu(br.state) != DAXFS_BRANCH_FREE && le64_to_cpu(br.parent_id) == id)
			return 1;
	}
	return 0;
}

/*
 * The slot a new record goes into (docs/space.md "Branch slots", lifecycle.ts
 * claimSlot): the lowest FREE slot, else the lowest ABORTED or COMMITTED slot
 * whose id no record names as parent (validators need every parent to exist).
 * A reused slot is set FREE first, so a crash leaves a FREE slot; mounts of the
 * old branch compare ids on every refresh and answer ESTALE.
 */
static int claim_slot(struct daxfs_sb_info *sbi)
{
	struct daxfs_branch br;
	u32 slot, state, *oldest;
	int named, found = -ENOSPC;

	for (slot = 0; slot < sbi->table_entries; slot++) {
		if (daxfs_read_record(sbi, slot, &br))
			return -EUCLEAN;
		if (le32_to_cpu(br.state) == DAXFS_BRANCH_FREE)
			return slot;
	}
	/*
	 * A dead log goes to the free table before its slot forgets it, and a
	 * record a lease reaches keeps its slot (docs/space.md "Reuse").
	 */
	oldest = kcalloc(sbi->table_entries, sizeof(*oldest), GFP_KERNEL);
	if (!oldest)
		return -ENOMEM;
	named = daxfs_reclaim(sbi, oldest);
	if (named)
		goto out;
	for (slot = 0; slot < sbi->table_entries; slot++) {
		if (daxfs_read_record(sbi, slot, &br)) {
			found = -EUCLEAN;
			goto out;
		}
		state = le32_to_cpu(br.state);
		if ((state != DAXFS_BRANCH_ABORTED && state != DAXFS_BRANCH_COMMITTED) || oldest[slot])
			continue;
		named = is_named_parent(sbi, le64_to_cpu(br.branch_id));
		if (named < 0) {
			found = named;
			goto out;
		}
		if (named)
			continue;
		daxfs_put32(sbi, daxfs_record(sbi, slot) + REC_OFF(state), DAXFS_BRANCH_FREE);
		found = slot;
		goto out;
	}
out:
	kfree(oldest);
	if (found == -ENOSPC)
		pr_err("no free branch slot (all %u used, none reusable)\n", sbi->table_entries);
	return named < 0 ? named : found;
}

/* A new ACTIVE record in a FREE slot; the state goes last, after a flush. */
static void write_new_record(struct daxfs_sb_info *sbi, u32 slot, u64 id, u64 parent,
			     const char *name, u64 log, u64 cap, u64 next_ino)
{
	struct daxfs_branch *rec = (void *)daxfs_mem(sbi, daxfs_record(sbi, slot), sizeof(*rec));
	__le32 generation = rec->generation;

	memset(rec, 0, sizeof(*rec));
	rec->branch_id = cpu_to_le64(id);
	rec->parent_id = cpu_to_le64(parent);
	rec->delta_log_offset = cpu_to_le64(log);
	rec->delta_log_capacity = cpu_to_le64(cap);
	rec->state = cpu_to_le32(DAXFS_BRANCH_FREE);
	rec->refcount = cpu_to_le32(1);
	rec->next_local_ino = cpu_to_le64(next_ino);
	strscpy(rec->name, name, sizeof(rec->name));
	rec->generation = generation;
	daxfs_flush(sbi, rec, sizeof(*rec));
	daxfs_put32(sbi, daxfs_record(sbi, slot) + REC_OFF(state), DAXFS_BRANCH_ACTIVE);
}

static void adjust_active(struct daxfs_sb_info *sbi, int delta)
{
	u32 count = daxfs_get32(sbi, SUPER_OFF(active_branches));

	daxfs_put32(sbi, SUPER_OFF(active_branches),
		    delta < 0 && !count ? 0 : count + delta);
}

static void adjust_refcount(struct daxfs_sb_info *sbi, u32 slot, int delta)
{
	u64 at = daxfs_record(sbi, slot) + REC_OFF(refcount);
	u32 count = daxfs_get32(sbi, at);

	daxfs_put32(sbi, at, delta < 0 && !count ? 0 : count + delta);
}

/* Main's record (SPEC 3.4.1, lifecycle.ts ensureMain), created when absent. */
static int ensure_main(struct daxfs_sb_info *sbi)
{
	struct daxfs_branch br;
	u64 cap, log, left;
	int slot = find_by_name(sbi, "main", &br), err;

	if (slot != -ENOENT)
		return slot;
	slot = claim_slot(sbi);
	if (slot < 0)
		return slot;
	/* The public 1 MiB when the region has it (docs/space.md). */
	left = sbi->region + sbi->region_size -
	       min(sbi->region + sbi->region_size,
		   ALIGN(daxfs_get64(sbi, SUPER_OFF(delta_alloc_offset)), 4096));
	cap = left >= DAXFS_PUBLIC_LOG_CAPACITY ? DAXFS_PUBLIC_LOG_CAPACITY : INITIAL_LOG_CAPACITY;
	err = daxfs_alloc_extent(sbi, cap, &log);
	if (err)
		return err;
	write_new_record(sbi, slot, 1, 0, "main", log, cap,
			 daxfs_get64(sbi, SUPER_OFF(next_inode_id)));
	if (daxfs_get64(sbi, SUPER_OFF(next_branch_id)) < 2)
		daxfs_put64(sbi, SUPER_OFF(next_branch_id), 2);
	adjust_active(sbi, 1);
	return slot;
}

/* SPEC 3.4.2, lifecycle.ts createBranch (names checked by the caller). */
static int create_branch(struct fs_context *fc, struct daxfs_sb_info *sbi,
			 const char *name, const char *parent_name)
{
	struct daxfs_branch br, parent;
	int slot, pslot, err;
	u64 id, log;

	if (find_by_name(sbi, name, &br) >= 0) {
		errorfc(fc, "branch %s already exists", name);
		return -EEXIST;
	}
	pslot = find_by_name(sbi, parent_name, &parent);
	if (pslot < 0) {
		errorfc(fc, "parent branch %s not found", parent_name);
		return pslot;
	}
	if (le32_to_cpu(parent.state) != DAXFS_BRANCH_ACTIVE) {
		errorfc(fc, "parent branch %s is no longer active", parent_name);
		return -ESTALE;
	}
	slot = claim_slot(sbi);
	if (slot < 0)
		return slot;
	/* The id is consumed before the log is allocated (SPEC 3.4.2). */
	id = daxfs_get64(sbi, SUPER_OFF(next_branch_id));
	daxfs_put64(sbi, SUPER_OFF(next_branch_id), id + 1);
	err = daxfs_alloc_extent(sbi, INITIAL_LOG_CAPACITY, &log);
	if (err)
		return err;
	write_new_record(sbi, slot, id, le64_to_cpu(parent.branch_id), name, log,
			 INITIAL_LOG_CAPACITY, daxfs_get64(sbi, SUPER_OFF(next_inode_id)));
	adjust_active(sbi, 1);
	adjust_refcount(sbi, pslot, 1);
	return slot;
}

/* levels[] from main down to the record in slot (image.ts branchChain). */
static int load_chain(struct daxfs_sb_info *sbi, u32 slot)
{
	struct daxfs_level *levels;
	struct daxfs_branch br;
	u32 n = 0, i;
	int s = slot, err = 0;

	levels = kcalloc(DAXFS_MAX_DEPTH, sizeof(*levels), GFP_KERNEL);
	if (!levels)
		return -ENOMEM;
	for (;;) {
		if (n == DAXFS_MAX_DEPTH || n >= sbi->table_entries) {
			pr_err("branch slot %u: its parent chain has a cycle\n", slot);
			err = -EINVAL;
			goto out;
		}
		err = daxfs_read_record(sbi, s, &br);
		if (err)
			goto out;
		levels[n++] = (struct daxfs_level) {
			.slot = s, .id = le64_to_cpu(br.branch_id),
			.generation = le32_to_cpu(br.generation),
		};
		if (!br.parent_id)
			break;
		s = daxfs_find_branch(sbi, le64_to_cpu(br.parent_id), &br);
		if (s < 0) {
			pr_err("branch %llu: parent id %llu is not in the branch table\n",
			       levels[n - 1].id, le64_to_cpu(br.parent_id));
			err = -EINVAL;
			goto out;
		}
	}
	/* Main first. */
	for (i = 0; i < n / 2; i++)
		swap(levels[i], levels[n - 1 - i]);
	sbi->levels = levels;
	sbi->nr_levels = n;
	return 0;
out:
	kfree(levels);
	return err;
}

/*
 * SPEC 3.2 step 7: the mounted branch. No option (or only parent): main,
 * created when absent, read-only. branch and parent: a new branch. branch
 * alone: an existing ACTIVE branch. Children are writable.
 */
int daxfs_select_branch(struct fs_context *fc, struct daxfs_sb_info *sbi)
{
	const char *name = sbi->opts.branch;
	bool is_main = !name || !strcmp(name, "main");
	struct daxfs_branch br;
	int slot, err;

	if (name && !is_main) {
		if (strlen(name) > DAXFS_BRANCH_NAME_MAX) {
			errorfc(fc, "branch: name longer than %d bytes", DAXFS_BRANCH_NAME_MAX);
			return -ENAMETOOLONG;
		}
		if (!*name)
			return invalfc(fc, "branch: empty name");
	}
	if (is_main && name && sbi->opts.parent)
		return invalfc(fc, "branch: the name main is reserved");
	err = daxfs_coord_lock(sbi);
	if (err)
		return err;
	slot = ensure_main(sbi);
	if (slot >= 0 && !is_main) {
		if (sbi->opts.parent) {
			slot = create_branch(fc, sbi, name, sbi->opts.parent);
		} else {
			slot = find_by_name(sbi, name, &br);
			if (slot == -ENOENT)
				errorfc(fc, "branch %s not found", name);
			else if (slot >= 0 && le32_to_cpu(br.state) != DAXFS_BRANCH_ACTIVE) {
				errorfc(fc, "branch %s is no longer active", name);
				slot = -ESTALE;
			}
		}
	}
	if (slot >= 0)
		slot = load_chain(sbi, slot) ?: slot;
	/* Before the first read of a log: from now on no log of the chain is reused. */
	if (slot >= 0)
		slot = daxfs_lease_take(sbi, sbi->levels[sbi->nr_levels - 1].id) ?: slot;
	if (slot >= 0)
		daxfs_space_warn(sbi);
	daxfs_coord_unlock(sbi);
	if (slot < 0)
		return slot;
	sbi->writable = !is_main;
	return 0;
}

/* The mounted branch's record as it is now; ESTALE unless still the same ACTIVE branch. */
int daxfs_own_record(struct daxfs_sb_info *sbi, struct daxfs_branch *br)
{
	struct daxfs_level *me = &sbi->levels[sbi->nr_levels - 1];
	int err = daxfs_read_record(sbi, me->slot, br);

	if (err)
		return err;
	if (le64_to_cpu(br->branch_id) != me->id || le32_to_cpu(br->state) != DAXFS_BRANCH_ACTIVE ||
	    le32_to_cpu(br->generation) != me->generation) {
		sbi->stale = true;
		return -ESTALE;
	}
	return 0;
}

/*
 * A new inode number (SPEC 3.8.2, writer.ts allocateIno): the branch's
 * next_local_ino or the global counter if higher; both move past it.
 */
int daxfs_alloc_ino(struct daxfs_sb_info *sbi, u64 *ino)
{
	struct daxfs_level *me = &sbi->levels[sbi->nr_levels - 1];
	struct daxfs_branch br;
	u64 global, n;
	int err = daxfs_own_record(sbi, &br);

	if (err)
		return err;
	global = daxfs_get64(sbi, SUPER_OFF(next_inode_id));
	n = max(le64_to_cpu(br.next_local_ino), global);
	if (n < 2 || n >= U32_MAX)
		return -ENOSPC;
	daxfs_put64(sbi, daxfs_record(sbi, me->slot) + REC_OFF(next_local_ino), n + 1);
	if (n >= global)
		daxfs_put64(sbi, SUPER_OFF(next_inode_id), n + 1);
	sbi->next_inode_id = max(sbi->next_inode_id, n + 1);
	*ino = n;
	return 0;
}

/* lifecycle.ts endBranch: state first, then generation, name, parent refcount, count. */
static void end_branch(struct daxfs_sb_info *sbi, u32 slot, u32 state, bool clear_name,
		       bool bump_generation)
{
	u64 at = daxfs_record(sbi, slot);
	struct daxfs_branch br, parent;
	int pslot;

	if (daxfs_read_record(sbi, slot, &br))
		return;
	daxfs_put32(sbi, at + REC_OFF(state), state);
	if (bump_generation)
		daxfs_put32(sbi, at + REC_OFF(generation), le32_to_cpu(br.generation) + 1);
	if (clear_name) {
		void *name = (void *)daxfs_mem(sbi, at + REC_OFF(name), sizeof(br.name));

		memset(name, 0, sizeof(br.name));
		daxfs_flush(sbi, name, sizeof(br.name));
	}
	if (br.parent_id) {
		pslot = daxfs_find_branch(sbi, le64_to_cpu(br.parent_id), &parent);
		if (pslot >= 0)
			adjust_refcount(sbi, pslot, -1);
	}
	adjust_active(sbi, -1);
}

static bool has_active_child(struct daxfs_sb_info *sbi, u64 id)
{
	struct daxfs_branch br;
	u32 slot;

	for (slot = 0; slot < sbi->table_entries; slot++)
		if (!daxfs_read_record(sbi, slot, &br) &&
		    le32_to_cpu(br.state) == DAXFS_BRANCH_ACTIVE && le64_to_cpu(br.parent_id) == id)
			return true;
	return false;
}

/*
 * The chain of the mounted branch as the table has it now, branch first:
 * slots[0] the branch, slots[n - 1] main. -ESTALE when a level is gone.
 */
static int current_chain(struct daxfs_sb_info *sbi, int *slots, u32 *n)
{
	struct daxfs_level *me = &sbi->levels[sbi->nr_levels - 1];
	struct daxfs_branch br;
	int s = me->slot;

	*n = 0;
	if (daxfs_read_record(sbi, s, &br) || le64_to_cpu(br.branch_id) != me->id)
		return -ESTALE;
	for (;;) {
		if (*n == DAXFS_MAX_DEPTH)
			return -EUCLEAN;
		slots[(*n)++] = s;
		if (!br.parent_id)
			return 0;
		s = daxfs_find_branch(sbi, le64_to_cpu(br.parent_id), &br);
		if (s < 0)
			return -ESTALE;
	}
}

/* The checks commit and abort share (lifecycle.ts): ACTIVE, not main, no live children. */
static int check_endable(struct daxfs_sb_info *sbi, int *slots, u32 *n)
{
	struct daxfs_level *me = &sbi->levels[sbi->nr_levels - 1];
	struct daxfs_branch br;
	int err = daxfs_own_record(sbi, &br);

	if (err)
		return err;
	if (!br.parent_id)
		return -EINVAL;
	if (has_active_child(sbi, me->id)) {
		pr_err("branch %.*s has active children\n", (int)sizeof(br.name), br.name);
		return -EBUSY;
	}
	return current_chain(sbi, slots, n);
}

static u64 rec_field(struct daxfs_sb_info *sbi, int slot, size_t off)
{
	return daxfs_get64(sbi, daxfs_record(sbi, slot) + off);
}

/* Merge level (slot ls) into its parent (slot ps), with the intent record around it. */
static int merge_level(struct daxfs_sb_info *sbi, int ls, int ps)
{
	u64 lsize = rec_field(sbi, ls, REC_OFF(delta_log_size));
	u64 psize = rec_field(sbi, ps, REC_OFF(delta_log_size));
	u64 plog = rec_field(sbi, ps, REC_OFF(delta_log_offset));
	const void *src = daxfs_mem(sbi, rec_field(sbi, ls, REC_OFF(delta_log_offset)), lsize);
	void *dst = (void *)daxfs_mem(sbi, plog + psize, lsize);

	if (!lsize)
		return 0;
	if (!src || !dst || psize + lsize > rec_field(sbi, ps, REC_OFF(delta_log_capacity)))
		return -EUCLEAN;
	daxfs_put64(sbi, COORD_INTENT_SIZE_OFF, psize);
	daxfs_put32(sbi, COORD_INTENT_LEVEL_OFF, daxfs_get64(sbi, daxfs_record(sbi, ls)));
	memcpy(dst, src, lsize);
	daxfs_flush(sbi, dst, lsize);
	daxfs_put64(sbi, daxfs_record(sbi, ps) + REC_OFF(delta_log_size), psize + lsize);
	return 0;
}

/* SPEC 3.9.1 with lifecycle.ts commitBranch: never fails half-way. */
int daxfs_commit(struct daxfs_sb_info *sbi)
{
	int *slots;
	u32 n, i, s;
	u64 carried = 0;
	int err;

	slots = kcalloc(DAXFS_MAX_DEPTH, sizeof(*slots), GFP_KERNEL);
	if (!slots)
		return -ENOMEM;
	err = daxfs_coord_lock(sbi);
	if (err)
		goto out_free;
	err = check_endable(sbi, slots, &n);
	for (i = 1; !err && i < n; i++)
		if (daxfs_get32(sbi, daxfs_record(sbi, slots[i]) + REC_OFF(state)) !=
		    DAXFS_BRANCH_ACTIVE)
			err = -ESTALE;
	/* Pass 1: room in every parent for its own entries plus all merged from below. */
	for (i = 0; !err && i + 1 < n; i++) {
		carried += rec_field(sbi, slots[i], REC_OFF(delta_log_size));
		err = daxfs_ensure_merge_capacity(sbi, slots[i + 1],
						  rec_field(sbi, slots[i + 1], REC_OFF(delta_log_size)) +
						  carried);
	}
	/* Pass 2: invalidate siblings, merge, mark committed, one level at a time. */
	for (i = 0; !err && i + 1 < n; i++) {
		u64 id = rec_field(sbi, slots[i], REC_OFF(branch_id));
		u64 pid = rec_field(sbi, slots[i + 1], REC_OFF(branch_id));
		struct daxfs_branch br;

		for (s = 0; s < sbi->table_entries; s++) {
			if (daxfs_read_record(sbi, s, &br))
				continue;
			if (le32_to_cpu(br.state) == DAXFS_BRANCH_ACTIVE &&
			    le64_to_cpu(br.parent_id) == pid && le64_to_cpu(br.branch_id) != id)
				end_branch(sbi, s, DAXFS_BRANCH_ABORTED, false, true);
		}
		err = merge_level(sbi, slots[i], slots[i + 1]);
		if (err)
			break;
		end_branch(sbi, slots[i], DAXFS_BRANCH_COMMITTED, true, false);
		daxfs_put32(sbi, COORD_INTENT_LEVEL_OFF, 0);
	}
	if (!err) {
		daxfs_put64(sbi, COMMIT_SEQ_OFF, daxfs_get64(sbi, COMMIT_SEQ_OFF) + 1);
		daxfs_put64(sbi, LAST_COMMITTED_OFF, sbi->levels[sbi->nr_levels - 1].id);
		sbi->stale = sbi->finished = true;
	}
	daxfs_coord_unlock(sbi);
out_free:
	kfree(slots);
	return err;
}

/* SPEC 3.9.2, lifecycle.ts abortBranch: the chain up to (not including) main. */
int daxfs_abort(struct daxfs_sb_info *sbi)
{
	int *slots;
	u32 n, i;
	int err;

	slots = kcalloc(DAXFS_MAX_DEPTH, sizeof(*slots), GFP_KERNEL);
	if (!slots)
		return -ENOMEM;
	err = daxfs_coord_lock(sbi);
	if (err)
		goto out_free;
	err = check_endable(sbi, slots, &n);
	for (i = 0; !err && i + 1 < n; i++)
		if (daxfs_get32(sbi, daxfs_record(sbi, slots[i]) + REC_OFF(state)) ==
		    DAXFS_BRANCH_ACTIVE)
			end_branch(sbi, slots[i], DAXFS_BRANCH_ABORTED, true, true);
	if (!err)
		sbi->stale = sbi->finished = true;
	daxfs_coord_unlock(sbi);
out_free:
	kfree(slots);
	return err;
}

/*
 * SPEC 3.9.3 (lifecycle.ts dropBranch): unmount of a branch mounted
 * read-write ends only this branch; a read-only attach leaves it.
 */
void daxfs_drop(struct daxfs_sb_info *sbi)
{
	struct daxfs_level *me;
	struct daxfs_branch br;

	if (!sbi->drop_on_umount || sbi->finished || !sbi->nr_levels)
		goto release;
	me = &sbi->levels[sbi->nr_levels - 1];
	if (daxfs_coord_lock(sbi))
		goto release;
	/* A branch with live children stays (SPEC 3.9.3). */
	if (!daxfs_own_record(sbi, &br) && !has_active_child(sbi, me->id))
		end_branch(sbi, me->slot, DAXFS_BRANCH_ABORTED, true, true);
	daxfs_coord_unlock(sbi);
release:
	daxfs_lease_release(sbi);
}

/*
 * lifecycle.ts recoverInterruptedMerge, run with the lock just taken: a
 * holder that died between publishing a merge and marking the level
 * COMMITTED leaves the entries in both logs; the parent's size goes back.
 */
void daxfs_recover_merge(struct daxfs_sb_info *sbi)
{
	u32 level_id = daxfs_get32(sbi, COORD_INTENT_LEVEL_OFF);
	u64 before = daxfs_get64(sbi, COORD_INTENT_SIZE_OFF);
	struct daxfs_branch level, parent;
	int ls, ps;

	if (!level_id || !sbi->table_entries)
		return;
	ls = daxfs_find_branch(sbi, level_id, &level);
	ps = ls >= 0 ? daxfs_find_branch(sbi, le64_to_cpu(level.parent_id), &parent) : -ENOENT;
	if (ls >= 0 && ps >= 0 && le32_to_cpu(level.state) == DAXFS_BRANCH_ACTIVE &&
	    le64_to_cpu(parent.delta_log_size) == before + le64_to_cpu(level.delta_log_size)) {
		daxfs_put64(sbi, daxfs_record(sbi, ps) + REC_OFF(delta_log_size), before);
		pr_warn("recovered an interrupted commit of branch %u\n", level_id);
	}
	daxfs_put32(sbi, COORD_INTENT_LEVEL_OFF, 0);
}
