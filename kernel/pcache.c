// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: the shared page cache of split images (SPEC 1.7, 2.9, 5). Base
 * regular-file data lives in a backing file; every kernel mapping the image
 * shares one direct-mapped cache of its pages in DAX. A host mount
 * (backing=PATH) fills misses itself and runs a fill thread for the slots
 * other mounts (spawn mounts, no backing=) claimed; a spawn mount claims and
 * waits. Slot words change only by 64-bit CAS, with the states and tags of
 * @daxfs/core (base/page-cache.ts) and mkdaxfs's pre-warm.
 *
 * Where SPEC 5 marks defects this module does better (docs/kernel.md
 * "Split images"):
 * - no torn reads: a reader copies a VALID slot's bytes, then checks that
 *   the slot word is unchanged; if not, the copy is undone and retried;
 * - pending_count cannot drift: it is raised before the claim CAS (and
 *   lowered again when the claim fails), and lowered by whoever moves a
 *   slot out of PENDING (fill, give-up or stale eviction) - each PENDING
 *   word leaves that state by exactly one successful CAS;
 * - only the claimer's fill writes slot data, and only after the page was
 *   read into a private buffer: the slot holds a PENDING word just for a
 *   4 KiB copy; fills of one mount are serialised and re-check the word,
 *   so the fill thread and an inline fill never write the same slot;
 * - a spawn read waits for a host at most DAXFS_PCACHE_WAIT_MS,
 *   interruptibly, then fails with EIO and one log line;
 * - a backing file that is shorter than the image needs, unreadable, or
 *   changed or replaced since mount gives EIO and one log line, never a
 *   zero page or bytes of another file.
 */
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/namei.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "internal.h"

#define PC_PAGE DAXFS_BLOCK_SIZE
#define PC_STATE_MASK 3ULL
#define PC_WORD(tag, state) (((tag) << 2) | (state))

/* A spawn read waits this long for a host to fill its page, then EIO. */
#define DAXFS_PCACHE_WAIT_MS 5000
/* Another page's PENDING word unchanged this long: its claimer is gone. */
#define PC_STALE_MS 1000
/* Bound on claim/evict rounds for one page (SPEC 5 says 100 retries). */
#define PC_MAX_ROUNDS 1000
/* Idle fill thread: polls pending_count every 1 ms, backing off to this. */
#define PC_IDLE_MAX_US 16000

struct daxfs_pcache {
	struct daxfs_sb_info *sbi;
	u32 slots;
	u64 header;		/* absolute offsets in the image */
	u64 meta;
	u64 data;
	u64 need;		/* backing bytes the base inodes refer to */

	/* Host mounts only. */
	struct file *backing;
	struct path parent;	/* where the backing name is looked up again */
	char *name;
	struct kstat at_mount;	/* ino, size, mtime as opened */
	struct mutex fill_lock;	/* one fill at a time: bounce, slot data */
	void *bounce;
	struct task_struct *filler;
	bool broken;		/* the backing file changed: no more fills */

	atomic64_t hits, misses, fills, waits, evictions, errors;
};

static __le64 *slot_word(struct daxfs_pcache *pc, u32 slot)
{
	return (__le64 *)(pc->sbi->mem + pc->meta + (u64)slot * sizeof(struct daxfs_pcache_slot));
}

static __le32 *slot_ref(struct daxfs_pcache *pc, u32 slot)
{
	return (__le32 *)(pc->sbi->mem + pc->meta + (u64)slot * sizeof(struct daxfs_pcache_slot) +
			  offsetof(struct daxfs_pcache_slot, ref_bit));
}

static void *slot_data(struct daxfs_pcache *pc, u32 slot)
{
	return pc->sbi->mem + pc->data + (u64)slot * PC_PAGE;
}

static u64 load_word(struct daxfs_pcache *pc, u32 slot)
{
	u64 w = le64_to_cpu(READ_ONCE(*slot_word(pc, slot)));

	smp_rmb();	/* the word before the bytes it guards */
	return w;
}

/* 64-bit CAS of a slot word; true when it held old and now holds new. */
static bool cas_word(struct daxfs_pcache *pc, u32 slot, u64 old, u64 new)
{
	__le64 *p = slot_word(pc, slot);
	bool done = cmpxchg64((u64 *)p, (u64)cpu_to_le64(old), (u64)cpu_to_le64(new)) ==
		    (u64)cpu_to_le64(old);

	daxfs_flush(pc->sbi, p, sizeof(*p));
	return done;
}

static u32 *pending_word(struct daxfs_pcache *pc)
{
	return (u32 *)(pc->sbi->mem + pc->header +
		       offsetof(struct daxfs_pcache_header, pending_count));
}

/* pending_count +1 or -1 by CAS, never below 0 (SPEC 5 with 7.2 item 19). */
static void pending_add(struct daxfs_pcache *pc, int delta)
{
	u32 *p = pending_word(pc);
	u32 old = le32_to_cpu(READ_ONCE(*p)), new;

	for (;;) {
		u32 found;

		if (delta < 0 && !old)
			return;
		new = old + delta;
		found = le32_to_cpu(cmpxchg(p, cpu_to_le32(old), cpu_to_le32(new)));
		if (found == old)
			break;
		old = found;
	}
	daxfs_flush(pc->sbi, p, sizeof(*p));
}

u32 daxfs_pcache_pending(struct daxfs_pcache *pc)
{
	return le32_to_cpu(READ_ONCE(*pending_word(pc)));
}

/* Leave PENDING(tag) for new; the one who succeeds lowers pending_count. */
static bool leave_pending(struct daxfs_pcache *pc, u32 slot, u64 tag, u64 new)
{
	if (!cas_word(pc, slot, PC_WORD(tag, DAXFS_PCACHE_PENDING), new))
		return false;
	pending_add(pc, -1);
	return true;
}

/* Claim a FREE slot for tag: PENDING(tag). The count goes up first. */
static bool claim(struct daxfs_pcache *pc, u32 slot, u64 tag)
{
	pending_add(pc, 1);
	if (cas_word(pc, slot, 0, PC_WORD(tag, DAXFS_PCACHE_PENDING)))
		return true;
	pending_add(pc, -1);
	return false;
}

static const char *pc_label(struct daxfs_pcache *pc)
{
	struct daxfs_mount_opts *o = &pc->sbi->opts;

	return o->name ? o->name : o->branch ? o->branch : "main";
}

/*
 * The backing file as this mount opened it: same inode under the same name,
 * same size and mtime. A change means other bytes than the image's: fills
 * stop for good (cached pages came from the original file and stay valid).
 */
static int check_backing(struct daxfs_pcache *pc)
{
	struct kstat now;
	struct dentry *d;
	int err;

	if (pc->broken)
		return -EIO;
	err = vfs_getattr(&pc->backing->f_path, &now, STATX_BASIC_STATS, AT_STATX_SYNC_AS_STAT);
	if (!err && (now.size != pc->at_mount.size ||
		     !timespec64_equal(&now.mtime, &pc->at_mount.mtime)))
		err = -ESTALE;
	if (!err) {
		/* The name as resolved at mount (symlinks followed then). */
		d = lookup_positive_unlocked(pc->name, pc->parent.dentry, strlen(pc->name));
		if (IS_ERR(d)) {
			err = PTR_ERR(d) == -ENOENT ? -ESTALE : PTR_ERR(d);
		} else {
			if (d_inode(d) != file_inode(pc->backing))
				err = -ESTALE;
			dput(d);
		}
	}
	if (!err)
		return 0;
	pc->broken = true;
	pr_err_ratelimited("%s: backing file %s %s since mount: reads of uncached pages fail with EIO\n",
			   pc_label(pc), pc->name, err == -ESTALE ? "changed or was replaced" :
			   "can no longer be checked");
	return -EIO;
}

/* Backing page tag into pc->bounce (fill_lock held): exactly what the image needs. */
static int read_backing(struct daxfs_pcache *pc, u64 tag)
{
	u64 start = tag * PC_PAGE;
	loff_t pos = start;
	size_t want;
	ssize_t n;
	int err = check_backing(pc);

	if (err)
		return err;
	if (start >= pc->need) {
		want = 0;	/* no base file has data here: nobody asks */
		n = -EINVAL;
	} else {
		want = min_t(u64, PC_PAGE, pc->need - start);
		memset(pc->bounce, 0, PC_PAGE);
		n = kernel_read(pc->backing, pc->bounce, PC_PAGE, &pos);
	}
	if (n >= 0 && n >= want)
		return 0;
	pr_err_ratelimited("%s: backing file %s: page %llu: %s: read fails with EIO\n",
			   pc_label(pc), pc->name, tag,
			   n < 0 ? "unreadable" : "shorter than the image needs");
	return -EIO;
}

/*
 * Fill a slot PENDING(tag) (this mount's claim or another's): read, then
 * copy into the slot only if it still waits for that page, then VALID.
 * On failure the claim is dropped (FREE) so that nobody waits for it.
 */
static int fill(struct daxfs_pcache *pc, u32 slot, u64 tag)
{
	u64 pending = PC_WORD(tag, DAXFS_PCACHE_PENDING);
	int err;

	mutex_lock(&pc->fill_lock);
	if (load_word(pc, slot) != pending) {
		mutex_unlock(&pc->fill_lock);
		return 0;	/* filled or given up meanwhile */
	}
	err = read_backing(pc, tag);
	if (err) {
		leave_pending(pc, slot, tag, 0);
		atomic64_inc(&pc->errors);
	} else if (load_word(pc, slot) == pending) {
		memcpy(slot_data(pc, slot), pc->bounce, PC_PAGE);
		daxfs_flush(pc->sbi, slot_data(pc, slot), PC_PAGE);	/* bytes before the word */
		if (leave_pending(pc, slot, tag, PC_WORD(tag, DAXFS_PCACHE_VALID)))
			atomic64_inc(&pc->fills);
	}
	mutex_unlock(&pc->fill_lock);
	return err;
}

/*
 * Spawn side: wait until the word of slot is no longer old (a host filled
 * or someone gave up), at most ms, interruptibly. Returns the new word, or
 * old on timeout; -EINTR through *err on a signal.
 */
static u64 wait_change(struct daxfs_pcache *pc, u32 slot, u64 old, unsigned int ms, int *err)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);
	u64 w;

	atomic64_inc(&pc->waits);
	for (;;) {
		w = load_word(pc, slot);
		if (w != old || time_after(jiffies, deadline))
			return w;
		if (signal_pending(current)) {
			*err = -EINTR;
			return w;
		}
		usleep_range(200, 1000);	/* the filler is another kernel: poll */
	}
}

/*
 * Make backing page tag VALID in its slot and return the word to check
 * after copying, or a negative errno (as an s64).
 */
static s64 pc_get(struct daxfs_pcache *pc, u64 tag)
{
	u32 slot = tag & (pc->slots - 1);
	u64 valid = PC_WORD(tag, DAXFS_PCACHE_VALID);
	u64 pending = PC_WORD(tag, DAXFS_PCACHE_PENDING);
	bool missed = false;
	int round, given_back = 0, err = 0;

	for (round = 0; round < PC_MAX_ROUNDS; round++) {
		u64 w = load_word(pc, slot);

		if (w == valid) {
			atomic64_inc(missed ? &pc->misses : &pc->hits);
			if (!READ_ONCE(*slot_ref(pc, slot)))
				WRITE_ONCE(*slot_ref(pc, slot), cpu_to_le32(1));
			return w;
		}
		missed = true;
		switch (w & PC_STATE_MASK) {
		case DAXFS_PCACHE_VALID:	/* another page: direct-mapped eviction */
			if (cas_word(pc, slot, w, 0))
				atomic64_inc(&pc->evictions);
			continue;
		case DAXFS_PCACHE_FREE:
			if (!claim(pc, slot, tag))
				continue;
			w = pending;
			break;
		case DAXFS_PCACHE_PENDING:
			break;
		default:
			return daxfs_corrupt(pc->sbi, "page cache slot %u: state word %#llx", slot, w);
		}
		/* PENDING: ours or another reader's, for this page or another. */
		if (pc->backing) {
			err = fill(pc, slot, w >> 2);
			if (err && w == pending)
				return err;
			continue;
		}
		if (w != pending) {
			u64 now = wait_change(pc, slot, w, PC_STALE_MS, &err);

			if (err)
				return err;
			if (now == w && leave_pending(pc, slot, w >> 2, 0))
				atomic64_inc(&pc->evictions);	/* its claimer is gone */
			continue;
		}
		w = wait_change(pc, slot, pending, DAXFS_PCACHE_WAIT_MS, &err);
		if (err) {
			leave_pending(pc, slot, tag, 0);
			return err;
		}
		if (w == pending) {
			leave_pending(pc, slot, tag, 0);
			atomic64_inc(&pc->errors);
			pr_err_ratelimited("%s: page cache: no host mount filled backing page %llu within %u ms (mount the image with backing= somewhere): EIO\n",
					   pc_label(pc), tag, DAXFS_PCACHE_WAIT_MS);
			return -EIO;
		}
		/* FREE: a host could not read the page (its log says why), or a stale claim. */
		if (!w && ++given_back >= 3) {
			atomic64_inc(&pc->errors);
			pr_err_ratelimited("%s: page cache: the host gave backing page %llu back unfilled: EIO\n",
					   pc_label(pc), tag);
			return -EIO;
		}
	}
	atomic64_inc(&pc->errors);
	pr_err_ratelimited("%s: page cache: backing page %llu: slot %u kept changing: EIO\n",
			   pc_label(pc), tag, slot);
	return -EIO;
}

/*
 * Copy backing bytes [off, off + len) to the iterator to, or to buf when to
 * is NULL. Each page's copy counts only if its slot word is unchanged after
 * it; otherwise it is undone and done again. Returns bytes copied (short
 * only when the iterator faults) or a negative errno.
 */
ssize_t daxfs_pcache_read(struct daxfs_sb_info *sbi, u64 off, u64 len,
			  struct iov_iter *to, void *buf)
{
	struct daxfs_pcache *pc = sbi->pcache;
	ssize_t done = 0;
	int torn = 0;

	while (len) {
		u64 tag = off / PC_PAGE;
		u32 in = off % PC_PAGE;
		size_t n = min_t(u64, len, PC_PAGE - in), copied;
		s64 w = pc_get(pc, tag);
		const void *src = slot_data(pc, tag & (pc->slots - 1)) + in;

		if (w < 0)
			return done ? done : w;
		if (to) {
			copied = copy_to_iter(src, n, to);
		} else {
			memcpy(buf + done, src, n);
			copied = n;
		}
		smp_rmb();	/* the bytes before the second look at the word */
		if (load_word(pc, tag & (pc->slots - 1)) != (u64)w) {
			if (to)
				iov_iter_revert(to, copied);
			if (++torn < PC_MAX_ROUNDS)
				continue;	/* evicted while copying: again */
			atomic64_inc(&pc->errors);
			pr_err_ratelimited("%s: page cache: backing page %llu evicted during every copy: EIO\n",
					   pc_label(pc), tag);
			return done ? done : -EIO;
		}
		torn = 0;
		done += copied;
		if (copied < n)
			return done ? done : -EFAULT;
		off += n;
		len -= n;
	}
	return done;
}

/* Host fill thread (SPEC 5): fills every PENDING slot while any is pending. */
static int filler(void *arg)
{
	struct daxfs_pcache *pc = arg;
	unsigned int idle_us = 1000;

	while (!kthread_should_stop()) {
		bool found = false;
		u32 slot;

		if (daxfs_pcache_pending(pc) && !READ_ONCE(pc->broken)) {
			for (slot = 0; slot < pc->slots && !kthread_should_stop(); slot++) {
				u64 w = load_word(pc, slot);

				if ((w & PC_STATE_MASK) != DAXFS_PCACHE_PENDING)
					continue;
				found = true;
				fill(pc, slot, w >> 2);
				if (!(slot % 1024))
					cond_resched();
			}
		}
		idle_us = found ? 1000 : min(idle_us * 2, (unsigned int)PC_IDLE_MAX_US);
		usleep_range(idle_us, idle_us + 1000);
	}
	return 0;
}

/* The end of the furthest base file data in the backing file. */
static int backing_need(struct daxfs_sb_info *sbi, u64 *need)
{
	struct daxfs_base_inode bi;
	u64 ino;

	*need = 0;
	for (ino = 1; ino <= sbi->inode_count; ino++) {
		u64 end;

		if (daxfs_read_base_inode(sbi, ino, &bi))
			return -EINVAL;
		if (!bi.ino || !S_ISREG(le32_to_cpu(bi.mode)) || !bi.size)
			continue;
		if (check_add_overflow(le64_to_cpu(bi.data_offset), le64_to_cpu(bi.size), &end) ||
		    end > DAXFS_SRC_BACKING)
			return -EINVAL;
		*need = max(*need, end);
		if (!(ino % 4096))
			cond_resched();
	}
	return 0;
}

/* backing=PATH: opened read-only; checked against the image now and on misses. */
static int open_backing(struct fs_context *fc, struct daxfs_pcache *pc, const char *path)
{
	struct path p;
	int err = kern_path(path, LOOKUP_FOLLOW, &p);

	if (err)
		return invalfc(fc, "backing=%s: cannot look up (%d)", path, err);
	if (!d_is_reg(p.dentry)) {
		path_put(&p);
		return invalfc(fc, "backing=%s: not a regular file", path);
	}
	pc->backing = dentry_open(&p, O_RDONLY | O_LARGEFILE, current_cred());
	pc->parent.mnt = mntget(p.mnt);
	pc->parent.dentry = dget_parent(p.dentry);
	pc->name = kstrndup(p.dentry->d_name.name, p.dentry->d_name.len, GFP_KERNEL);
	path_put(&p);
	if (IS_ERR(pc->backing)) {
		err = PTR_ERR(pc->backing);
		pc->backing = NULL;
		return invalfc(fc, "backing=%s: cannot open (%d)", path, err);
	}
	if (!pc->name)
		return -ENOMEM;
	err = vfs_getattr(&pc->backing->f_path, &pc->at_mount, STATX_BASIC_STATS,
			  AT_STATX_SYNC_AS_STAT);
	if (err)
		return invalfc(fc, "backing=%s: cannot stat (%d)", path, err);
	if (pc->at_mount.size < pc->need)
		pr_warn("%s: backing file %s has %lld bytes, the image needs %llu: reads past its end fail with EIO\n",
			pc_label(pc), path, pc->at_mount.size, pc->need);
	pc->bounce = kmalloc(PC_PAGE, GFP_KERNEL);
	if (!pc->bounce)
		return -ENOMEM;
	pc->filler = kthread_run(filler, pc, "daxfs-pcache");
	if (IS_ERR(pc->filler)) {
		err = PTR_ERR(pc->filler);
		pc->filler = NULL;
		return err;
	}
	return 0;
}

/*
 * Mount: the page-cache header (SPEC 1.7; magic at every mount) and, with
 * backing=, the backing file and the fill thread.
 */
int daxfs_pcache_init(struct fs_context *fc, struct daxfs_sb_info *sbi,
		      const struct daxfs_super *s)
{
	const struct daxfs_pcache_header *h;
	struct daxfs_pcache *pc;
	u64 region = le64_to_cpu(s->pcache_offset), size = le64_to_cpu(s->pcache_size);
	u64 meta, data;
	u32 slots = le32_to_cpu(s->pcache_slot_count), magic, header_slots;

	h = daxfs_mem(sbi, region, sizeof(*h));
	if (!h || !daxfs_mem(sbi, region, size) || size < sizeof(*h))
		return invalfc(fc, "page cache at %#llx + %llu is outside the image", region, size);
	/* Read once: other kernels share the memory. */
	magic = le32_to_cpu(READ_ONCE(h->magic));
	header_slots = le32_to_cpu(READ_ONCE(h->slot_count));
	meta = le64_to_cpu(READ_ONCE(h->slot_meta_offset));
	data = le64_to_cpu(READ_ONCE(h->slot_data_offset));
	if (magic != DAXFS_PCACHE_MAGIC)
		return invalfc(fc, "page cache: bad magic %#x", magic);
	if (!slots || !is_power_of_2(slots) || header_slots != slots)
		return invalfc(fc, "page cache: slot count %u (superblock %u) is not one power of two",
			       header_slots, slots);
	if (meta < sizeof(*h) || meta > size || (u64)slots * 16 > size - meta ||
	    data < sizeof(*h) || !IS_ALIGNED(data, PC_PAGE) || data > size ||
	    (u64)slots * PC_PAGE > size - data ||
	    (meta < data + (u64)slots * PC_PAGE && data < meta + (u64)slots * 16))
		return invalfc(fc, "page cache: slot records or data outside the region or overlapping");
	if (!IS_ALIGNED(region + meta, 8))
		return invalfc(fc, "page cache: slot records not 8-byte aligned");

	pc = kzalloc(sizeof(*pc), GFP_KERNEL);
	if (!pc)
		return -ENOMEM;
	sbi->pcache = pc;
	pc->sbi = sbi;
	pc->slots = slots;
	pc->header = region;
	pc->meta = region + meta;
	pc->data = region + data;
	mutex_init(&pc->fill_lock);
	if (backing_need(sbi, &pc->need))
		return invalfc(fc, "base inode table: bad data offset or size");
	if (!sbi->opts.backing)
		return 0;	/* a spawn mount */
	return open_backing(fc, pc, sbi->opts.backing);
}

void daxfs_pcache_exit(struct daxfs_sb_info *sbi)
{
	struct daxfs_pcache *pc = sbi->pcache;

	if (!pc)
		return;
	if (pc->filler)
		kthread_stop(pc->filler);
	if (pc->backing)
		fput(pc->backing);
	path_put(&pc->parent);
	kfree(pc->name);
	kfree(pc->bounce);
	kfree(pc);
	sbi->pcache = NULL;
}

bool daxfs_pcache_host(struct daxfs_sb_info *sbi)
{
	return sbi->pcache && sbi->pcache->backing;
}

/*
 * /proc/self/mountstats: this mount's counters and the slot states now,
 * named as `daxfs-inspect status` names them.
 */
void daxfs_pcache_show_stats(struct seq_file *m, struct daxfs_sb_info *sbi)
{
	struct daxfs_pcache *pc = sbi->pcache;
	u32 slot, valid = 0, pending = 0;

	if (!pc)
		return;
	for (slot = 0; slot < pc->slots; slot++) {
		u64 w = load_word(pc, slot) & PC_STATE_MASK;

		valid += w == DAXFS_PCACHE_VALID;
		pending += w == DAXFS_PCACHE_PENDING;
	}
	seq_printf(m, "\n\tpcache: role %s slots %u valid %u pending %u free %u pending_count %u",
		   pc->backing ? "host" : "spawn", pc->slots, valid, pending,
		   pc->slots - valid - pending, daxfs_pcache_pending(pc));
	seq_printf(m, "\n\tpcache-ops: hits %lld misses %lld fills %lld waits %lld evictions %lld errors %lld",
		   atomic64_read(&pc->hits), atomic64_read(&pc->misses),
		   atomic64_read(&pc->fills), atomic64_read(&pc->waits),
		   atomic64_read(&pc->evictions), atomic64_read(&pc->errors));
}
