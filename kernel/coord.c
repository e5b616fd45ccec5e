// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: the coordination lock (SPEC 1.3 "Coordination area", 3.9.1 step 3)
 * with the owner/epoch record and the commit intent of docs/coordination.md,
 * byte for byte as @daxfs/core keeps them, so kernels and userspace tools on
 * the same memory exclude each other. The word is taken by compare-and-swap
 * 0 -> 1 and released with a CAS 1 -> 0; it never takes another value.
 *
 * A kernel holder records owner_pid 0 (no process can be checked for it), so
 * any waiter judges it by the epoch: unchanged for 30 s means dead, and the
 * waiter that moves the epoch first takes the lock over.
 */
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/libnvdimm.h>
#include <linux/sched/signal.h>

#include "internal.h"

#define COORD_OFF offsetof(struct daxfs_super, coord)
#define COORD_LOCK_OFF (COORD_OFF + offsetof(struct daxfs_global_coord, coord_lock))
#define COORD_EPOCH_OFF (COORD_OFF + offsetof(struct daxfs_global_coord, reserved))
#define COORD_OWNER_PID_OFF (COORD_EPOCH_OFF + 4)
#define COORD_OWNER_START_OFF (COORD_EPOCH_OFF + 8)
#define COORD_OWNER_BOOT_OFF (COORD_EPOCH_OFF + 16)

#define COORD_STALE_MS 30000	/* a holder whose epoch stays this long is dead */
#define COORD_TIMEOUT_MS 60000	/* then EBUSY */

/*
 * Make stores to the image visible (and durable on persistent memory) before
 * the next store: write back the cache lines of a phys mapping, then order.
 * A dma-buf is ordinary coherent RAM; ordering is all it needs.
 */
void daxfs_flush(struct daxfs_sb_info *sbi, const void *p, size_t len)
{
	if (!sbi->dmabuf && len)
		arch_wb_cache_pmem((void *)p, len);
	wmb();
}

/* Single little-endian fields of the image; callers checked the offsets. */
void daxfs_put32(struct daxfs_sb_info *sbi, u64 off, u32 v)
{
	__le32 *p = (__le32 *)daxfs_mem(sbi, off, 4);

	if (p) {
		WRITE_ONCE(*p, cpu_to_le32(v));
		daxfs_flush(sbi, p, 4);
	}
}

void daxfs_put64(struct daxfs_sb_info *sbi, u64 off, u64 v)
{
	__le64 *p = (__le64 *)daxfs_mem(sbi, off, 8);

	if (p) {
		WRITE_ONCE(*p, cpu_to_le64(v));
		daxfs_flush(sbi, p, 8);
	}
}

u32 daxfs_get32(struct daxfs_sb_info *sbi, u64 off)
{
	const __le32 *p = daxfs_mem(sbi, off, 4);

	return p ? le32_to_cpu(READ_ONCE(*p)) : 0;
}

u64 daxfs_get64(struct daxfs_sb_info *sbi, u64 off)
{
	const __le64 *p = daxfs_mem(sbi, off, 8);

	return p ? le64_to_cpu(READ_ONCE(*p)) : 0;
}

/* CAS of a u32 of the image (x86 is little-endian, as the format). */
static u32 coord_cas(struct daxfs_sb_info *sbi, u64 off, u32 old, u32 new)
{
	u32 *p = (u32 *)daxfs_mem(sbi, off, 4);
	u32 found = cmpxchg(p, cpu_to_le32(old), cpu_to_le32(new));

	daxfs_flush(sbi, p, 4);
	return le32_to_cpu(found);
}

/*
 * A kernel holder's owner record is all zeros (no process). The previous
 * holder was usually a kernel too: only fields that say otherwise are
 * stored (each store is a cache-line write-back and a barrier).
 */
static void record_owner(struct daxfs_sb_info *sbi)
{
	if (daxfs_get64(sbi, COORD_OWNER_START_OFF))
		daxfs_put64(sbi, COORD_OWNER_START_OFF, 0);
	if (daxfs_get32(sbi, COORD_OWNER_BOOT_OFF))
		daxfs_put32(sbi, COORD_OWNER_BOOT_OFF, 0);
	if (daxfs_get32(sbi, COORD_OWNER_PID_OFF))
		daxfs_put32(sbi, COORD_OWNER_PID_OFF, 0);
}

static void bump_epoch(struct daxfs_sb_info *sbi)
{
	for (;;) {
		u32 epoch = daxfs_get32(sbi, COORD_EPOCH_OFF);

		if (coord_cas(sbi, COORD_EPOCH_OFF, epoch, epoch + 1) == epoch)
			return;
	}
}

/* Claim a dead holder's lock: whoever moves the epoch first owns it. */
static bool take_over(struct daxfs_sb_info *sbi, u32 epoch)
{
	if (coord_cas(sbi, COORD_EPOCH_OFF, epoch, epoch + 1) != epoch)
		return false;
	if (coord_cas(sbi, COORD_LOCK_OFF, 1, 1) != 1 &&
	    coord_cas(sbi, COORD_LOCK_OFF, 0, 1) != 0)
		return false;
	pr_warn("coordination lock: holder silent for %d s, taken over\n",
		COORD_STALE_MS / 1000);
	return true;
}

/*
 * Take the lock, then repair a merge its previous holder left half-done
 * (docs/coordination.md). EBUSY after a minute of a live holder; EINTR on a
 * fatal signal.
 */
int daxfs_coord_lock(struct daxfs_sb_info *sbi)
{
	unsigned long start = jiffies, seen_since = jiffies;
	u32 seen = 0;
	bool have_seen = false;
	unsigned int spins;

	if (!daxfs_mem(sbi, 0, sizeof(struct daxfs_super)))
		return -EUCLEAN;
	for (spins = 0;; spins++) {
		u32 epoch, word = coord_cas(sbi, COORD_LOCK_OFF, 0, 1);

		if (word == 0) {
			bump_epoch(sbi);
			break;
		}
		if (word != 1) {
			pr_err_ratelimited("coordination lock word holds %u, not 0 or 1\n", word);
			return -EUCLEAN;
		}
		epoch = daxfs_get32(sbi, COORD_EPOCH_OFF);
		if (!have_seen || epoch != seen) {
			seen = epoch;
			have_seen = true;
			seen_since = jiffies;
		}
		if (time_after(jiffies, seen_since + msecs_to_jiffies(COORD_STALE_MS)) &&
		    take_over(sbi, epoch))
			break;
		if (time_after(jiffies, start + msecs_to_jiffies(COORD_TIMEOUT_MS))) {
			pr_err("coordination lock held by another mount for %d s\n",
			       COORD_TIMEOUT_MS / 1000);
			return -EBUSY;
		}
		if (fatal_signal_pending(current))
			return -EINTR;
		if (spins < 100)
			cpu_relax();
		else
			usleep_range(500, 1000);
	}
	record_owner(sbi);
	daxfs_recover_merge(sbi);
	return 0;
}

void daxfs_coord_unlock(struct daxfs_sb_info *sbi)
{
	if (daxfs_get32(sbi, COORD_OWNER_PID_OFF))
		daxfs_put32(sbi, COORD_OWNER_PID_OFF, 0);
	coord_cas(sbi, COORD_LOCK_OFF, 1, 0);
}
