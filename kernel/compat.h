/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DAXFS: the differences between the kernels the module builds for (6.1 and
 * 6.12), in one place. Everything else in the module is version-free.
 */
#ifndef _DAXFS_COMPAT_H
#define _DAXFS_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/version.h>

/* 6.3 replaced the user namespace argument of inode operations by an idmap. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
typedef struct mnt_idmap daxfs_idmap_t;
#define daxfs_nop_idmap (&nop_mnt_idmap)
#else
typedef struct user_namespace daxfs_idmap_t;
#define daxfs_nop_idmap (&init_user_ns)
#endif

/* 6.6 added the request mask to generic_fillattr. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define daxfs_fillattr(idmap, mask, inode, stat) generic_fillattr(idmap, mask, inode, stat)
#else
#define daxfs_fillattr(idmap, mask, inode, stat) generic_fillattr(idmap, inode, stat)
#endif

/* 6.7 hid the inode times behind accessors. Times are ns since the epoch. */
static inline void daxfs_set_times(struct inode *inode, u64 atime, u64 mtime, u64 ctime)
{
	/* Past 2262 (S64_MAX ns) the kernel cannot say it: the latest time it can. */
	struct timespec64 a = ns_to_timespec64(min_t(u64, atime, S64_MAX)),
			  m = ns_to_timespec64(min_t(u64, mtime, S64_MAX)),
			  c = ns_to_timespec64(min_t(u64, ctime, S64_MAX));

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
	inode_set_atime_to_ts(inode, a);
	inode_set_mtime_to_ts(inode, m);
	inode_set_ctime_to_ts(inode, c);
#else
	inode->i_atime = a;
	inode->i_mtime = m;
	inode->i_ctime = c;
#endif
}

/* 6.3 made vm_flags read-only outside the helpers. */
static inline void daxfs_vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

#endif /* _DAXFS_COMPAT_H */
