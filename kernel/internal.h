/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DAXFS: in-memory structures shared by the files of the module.
 *
 * The image lives in memory that other kernels may share and that nobody
 * vouches for, so every read of it goes through daxfs_mem()/daxfs_read()
 * (memory.c), which bounds-check against the mapped size. Format structures
 * come from the generated daxfs_format.h only.
 */
#ifndef _DAXFS_INTERNAL_H
#define _DAXFS_INTERNAL_H

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/hashtable.h>
#include <linux/iosys-map.h>
#include <linux/version.h>
#include <linux/mutex.h>
#include <linux/xarray.h>

#include "compat.h"
#include "daxfs_format.h"

#undef pr_fmt
#define pr_fmt(fmt) "daxfs: " fmt

/* Superblock feature bits this module implements (docs/semantics.md "Extensions"). */
#define DAXFS_KNOWN_FEATURES \
	(DAXFS_FEATURE_LINK | DAXFS_FEATURE_UTIMES | DAXFS_FEATURE_BASE_MTIME)

struct dma_buf;
struct daxfs_pcache;
struct seq_file;

/* Mount options (SPEC 3.1), filled by the fs_context parser. */
struct daxfs_mount_opts {
	u64 phys;
	u64 size;
	int dmabuf_fd;		/* -1 when not given */
	char *name;
	char *branch;
	char *parent;
	char *backing;
	bool validate;
	bool commit;
	bool abort;
};

/* One WRITE entry of a replayed log: file bytes [file_off, +len) at data. */
struct daxfs_extent {
	u64 file_off;
	u64 len;		/* clipped by later truncations */
	u64 data;		/* absolute image offset of the bytes */
};

/* One live name of a directory rebuilt from a delta log. */
struct daxfs_dname {
	struct hlist_node hash;	/* in its directory's name_hash bucket */
	u64 ino;
	u32 hval;		/* full_name_hash of the name */
	umode_t mode;		/* the child's type bits, for d_type */
	u16 len;
	char name[];
};

/*
 * An inode as the replayed delta log leaves it. Only inodes that some entry
 * touched have one; the others are read from the base image directly.
 */
struct daxfs_dnode {
	struct hlist_node hash;
	u64 ino;
	umode_t mode;
	u32 uid, gid;
	u64 size;
	u32 nlink;
	u64 atime, mtime, ctime;	/* ns since the epoch (docs/semantics.md "Times") */
	bool in_base;		/* base data below base_limit is still visible */
	u64 base_data;		/* absolute offset of the base data */
	u64 base_limit;		/* base bytes not cut off by a truncation */
	struct daxfs_extent *extents;	/* log order, newest last */
	u32 nr_extents, cap_extents;
	char *target;		/* symlink target, NUL-terminated */
	/*
	 * Directories: the live names in creation order (readdir), and the
	 * same names hashed (lookup and replay), cap_names buckets.
	 */
	struct daxfs_dname **names;
	struct hlist_head *name_hash;
	u32 nr_names, cap_names;
	bool dir_loaded;	/* names hold the base entries too */
};


/*
 * One level of the mounted chain as the index was built from it: levels[0]
 * is main, the last one the mounted branch (SPEC 3.5 with NOTES.md: the
 * view is re-checked against the records on every operation).
 */
struct daxfs_level {
	u32 slot;
	u32 generation;
	u64 id;
	u64 log;		/* delta_log_offset */
	u64 size;		/* delta_log_size replayed */
};

/* Branch records are at most this deep (the table has 256 slots). */
#define DAXFS_MAX_DEPTH DAXFS_MAX_BRANCHES

struct daxfs_sb_info {
	/* The mapped image (memory.c). */
	void *mem;
	u64 size;
	phys_addr_t phys;
	struct dma_buf *dmabuf;
	struct iosys_map map;

	struct daxfs_mount_opts opts;
	struct super_block *sb;

	/* Base image geometry, absolute offsets (SPEC 1.6). */
	u64 base_offset;
	u64 base_size;
	u64 inode_table;
	u32 inode_count;
	bool static_image;
	bool external_data;
	/* Split images: the shared page cache (pcache.c), else NULL. */
	struct daxfs_pcache *pcache;

	/* Branching geometry (SPEC 1.3), checked at mount. */
	u64 table;
	u32 table_entries;
	u64 region, region_size;

	/*
	 * The index of the mounted chain (delta.c) and the levels it was
	 * built from. lock serialises every operation of this mount on them.
	 */
	struct mutex lock;
	struct daxfs_overlay *overlay;
	struct daxfs_level *levels;
	u32 nr_levels;
	u64 next_inode_id;	/* bounds new inode numbers in replay */
	u64 index_gen;		/* +1 per rebuild: dentries revalidate */
	u64 index_seq;		/* +1 per change of the index: inodes resync */
	bool need_rebuild;	/* the last replay failed half-way */
	u64 own_from, own_to;	/* this mount's last append, in its own log */
	u64 last_stamp;		/* entry timestamps, strictly increasing */
	bool writable;		/* a child branch */
	bool drop_on_umount;	/* mounted read-write: unmount ends the branch */
	bool stale;		/* committed, aborted or invalidated: ESTALE */
	bool finished;		/* committed or aborted by this mount */
	bool zapped;		/* mappings torn down after invalidation */
	/* This mount's lease (docs/space.md "Reuse"): entry + 1 (0 = none). */
	u32 lease_index, lease_serial;
	u64 lease_cookie;
};

struct daxfs_inode_info {
	u64 data;		/* absolute offset of base data, dirents, target */
	u64 base_size;		/* base bytes (dirs: entry count * 272) */
	u32 dir_count;		/* base directory entries */
	struct xarray pages;	/* assembled pages for mmap (file.c) */
	struct daxfs_name_key *name_index;	/* base directories (namei.c) */
	struct mutex flush_lock;	/* pages logged or reassembled (mmap.c) */
	u64 seq;		/* the index_seq the attributes were synced at */
	struct inode vfs_inode;
};

/* A name's hash and its entry index: sorted, a directory's lookup index. */
struct daxfs_name_key {
	u32 hash;
	u32 index;
};

static inline struct daxfs_sb_info *DAXFS_SB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline struct daxfs_inode_info *DAXFS_I(struct inode *inode)
{
	return container_of(inode, struct daxfs_inode_info, vfs_inode);
}

/* memory.c */
const void *daxfs_mem(struct daxfs_sb_info *sbi, u64 off, u64 len);
int daxfs_read(struct daxfs_sb_info *sbi, u64 off, void *dst, size_t len);
unsigned long daxfs_pfn(struct daxfs_sb_info *sbi, u64 off);
int daxfs_map(struct fs_context *fc, struct daxfs_sb_info *sbi);
void daxfs_unmap(struct daxfs_sb_info *sbi);
long daxfs_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/*
 * pcache.c: split images (SPEC 5). A data source (daxfs_resolve()'s *src,
 * an inode's data) with this bit set is a backing-file offset, read through
 * the page cache, not an image offset.
 */
#define DAXFS_SRC_BACKING (1ULL << 62)
int daxfs_pcache_init(struct fs_context *fc, struct daxfs_sb_info *sbi,
		      const struct daxfs_super *s);
void daxfs_pcache_exit(struct daxfs_sb_info *sbi);
bool daxfs_pcache_host(struct daxfs_sb_info *sbi);
u32 daxfs_pcache_pending(struct daxfs_pcache *pc);
ssize_t daxfs_pcache_read(struct daxfs_sb_info *sbi, u64 off, u64 len,
			  struct iov_iter *to, void *buf);
void daxfs_pcache_show_stats(struct seq_file *m, struct daxfs_sb_info *sbi);

/* Where a base inode's data is: regular files of split images are in the backing file. */
static inline u64 daxfs_base_data(struct daxfs_sb_info *sbi, umode_t mode, u64 data_offset)
{
	if (sbi->pcache && S_ISREG(mode))
		return DAXFS_SRC_BACKING | data_offset;
	return sbi->base_offset + data_offset;
}

/* validate.c */
bool daxfs_name_ok(const char *name, u32 len);
int daxfs_validate_super(struct daxfs_sb_info *sbi, const struct daxfs_super *s);
int daxfs_validate_base(struct daxfs_sb_info *sbi);
int daxfs_validate_branching(struct daxfs_sb_info *sbi, const struct daxfs_super *s);
int daxfs_check_main_record(struct daxfs_sb_info *sbi, const struct daxfs_super *s);
int daxfs_read_base_inode(struct daxfs_sb_info *sbi, u64 ino,
			  struct daxfs_base_inode *bi);
int daxfs_read_dirent(struct daxfs_sb_info *sbi, u64 array, u32 index,
		      struct daxfs_dirent *de);

/* log.c: entries of a delta log, decoded and appended (SPEC 1.5) */

/* Largest exact integer of the TypeScript tools: log numbers stay below it. */
#define DAXFS_SAFE_MAX ((1ULL << 53) - 1)
/* Longest symlink target an entry may carry (as @daxfs/core's decoder). */
#define DAXFS_SYMLINK_MAX 4095

/*
 * One delta-log entry as daxfs_log_entry() decodes it: fields in host order,
 * names and targets copied out of the image into tail (the memory is shared:
 * nothing is read twice). WRITE data stays in the image, at write.data.
 */
struct daxfs_entry {
	u64 at;			/* absolute offset of the entry */
	u32 type, size;		/* DAXFS_DELTA_*, total_size */
	u64 ino;		/* the header's inode: new or renamed one for those types */
	u64 stamp;		/* hdr.timestamp: the time of what the entry changes */
	/* CREATE, MKDIR, SYMLINK, DELETE, LINK: the name; RENAME: the old name. */
	const char *name;
	u32 name_len;
	union {
		struct {	/* file bytes [offset, +len) are at data */
			u64 offset, data;
			u32 len;
		} write;
		struct {	/* CREATE, MKDIR, SYMLINK */
			u64 parent;
			u32 mode;	/* SYMLINK: 0 (the entry has none) */
			u32 uid, gid;
			const char *target;	/* SYMLINK, NUL-terminated */
			u32 target_len;
		} create;
		struct {	/* DELETE, and LINK (the parent of the new name) */
			u64 parent;
		} del;
		struct {	/* UTIMES: ns since the epoch, bits of DAXFS_UTIMES_* */
			u64 atime, mtime;
			u32 valid;
		} utimes;
		struct {
			u64 new_size;
		} trunc;
		struct {
			u64 old_parent, new_parent;
			const char *new_name;
			u32 new_name_len;
		} rename;
		struct {
			u32 valid, mode, uid, gid;
			u64 size;
		} setattr;
	};
	char why[96];		/* what is wrong, when decoding fails */
	char tail[DAXFS_NAME_MAX + DAXFS_SYMLINK_MAX + 1];
};
int daxfs_log_entry(struct daxfs_sb_info *sbi, u64 log, u64 size, u64 pos,
		    struct daxfs_entry *e);
const char *daxfs_entry_type_name(u32 type);
u32 daxfs_feature_of(u32 type);
u32 daxfs_payload_size(u32 type);
int daxfs_append(struct daxfs_sb_info *sbi, void *entry, u32 size);
int daxfs_append_write(struct daxfs_sb_info *sbi, u64 ino, u64 pos, struct iov_iter *from,
		       u32 len, u32 *copied);
void daxfs_fill_hdr(struct daxfs_sb_info *sbi, void *entry, u32 type, u32 size, u64 ino);

#define DAXFS_OVERLAY_BITS 10

/* The replayed chain: every inode its logs touch (SPEC 3.7, NOTES). */
struct daxfs_overlay {
	DECLARE_HASHTABLE(nodes, DAXFS_OVERLAY_BITS);
	/* Replay's decoding buffer (sbi->lock held), kept: one append replays one entry. */
	struct daxfs_entry entry;
};

/* delta.c: the in-memory index of the mounted chain (SPEC 3.7) */
int daxfs_build_index(struct daxfs_sb_info *sbi);
int daxfs_refresh(struct daxfs_sb_info *sbi);
int daxfs_begin(struct daxfs_sb_info *sbi);
int daxfs_begin_op(struct daxfs_sb_info *sbi);
bool daxfs_index_current(struct daxfs_sb_info *sbi);
void daxfs_zap_mappings(struct super_block *sb);
void daxfs_free_overlay(struct daxfs_sb_info *sbi);
struct daxfs_dnode *daxfs_dnode(struct daxfs_sb_info *sbi, u64 ino);
struct daxfs_dnode *daxfs_live_dir(struct daxfs_sb_info *sbi, u64 ino);
struct daxfs_dname *daxfs_dir_name(struct daxfs_dnode *dir, const char *name, u32 len);
ssize_t daxfs_resolve(struct inode *inode, u64 pos, u64 len, u64 *src);

/* coord.c: the coordination lock (docs/coordination.md) */
int daxfs_coord_lock(struct daxfs_sb_info *sbi);
void daxfs_coord_unlock(struct daxfs_sb_info *sbi);
void daxfs_flush(struct daxfs_sb_info *sbi, const void *p, size_t len);
void daxfs_put32(struct daxfs_sb_info *sbi, u64 off, u32 v);
void daxfs_put64(struct daxfs_sb_info *sbi, u64 off, u64 v);
u32 daxfs_get32(struct daxfs_sb_info *sbi, u64 off);
u64 daxfs_get64(struct daxfs_sb_info *sbi, u64 off);

/* space.c: delta-region extents (docs/space.md) */
int daxfs_alloc_extent(struct daxfs_sb_info *sbi, u64 capacity, u64 *start);
int daxfs_ensure_capacity(struct daxfs_sb_info *sbi, u32 slot, u64 needed);
int daxfs_ensure_merge_capacity(struct daxfs_sb_info *sbi, u32 slot, u64 needed);
int daxfs_reclaim(struct daxfs_sb_info *sbi, u32 *oldest);
int daxfs_lease_take(struct daxfs_sb_info *sbi, u64 branch_id);
void daxfs_lease_release(struct daxfs_sb_info *sbi);
void daxfs_space_warn(struct daxfs_sb_info *sbi);

/* branch.c: records and lifecycle (SPEC 3.4, 3.9; docs/coordination.md) */
u64 daxfs_record(struct daxfs_sb_info *sbi, u32 slot);
int daxfs_read_record(struct daxfs_sb_info *sbi, u32 slot, struct daxfs_branch *br);
int daxfs_find_branch(struct daxfs_sb_info *sbi, u64 id, struct daxfs_branch *br);
int daxfs_select_branch(struct fs_context *fc, struct daxfs_sb_info *sbi);
int daxfs_own_record(struct daxfs_sb_info *sbi, struct daxfs_branch *br);
int daxfs_alloc_ino(struct daxfs_sb_info *sbi, u64 *ino);
int daxfs_commit(struct daxfs_sb_info *sbi);
int daxfs_abort(struct daxfs_sb_info *sbi);
void daxfs_drop(struct daxfs_sb_info *sbi);
void daxfs_recover_merge(struct daxfs_sb_info *sbi);

/* inode.c */
extern struct kmem_cache *daxfs_inode_cachep;
struct inode *daxfs_iget(struct super_block *sb, u64 ino);
struct inode *daxfs_alloc_inode(struct super_block *sb);
void daxfs_free_inode(struct inode *inode);
void daxfs_evict_inode(struct inode *inode);
void daxfs_inode_init_once(void *ptr);
void daxfs_sync_inode(struct inode *inode);
int daxfs_setattr(daxfs_idmap_t *idmap, struct dentry *dentry, struct iattr *attr);
int daxfs_getattr(daxfs_idmap_t *idmap, const struct path *path, struct kstat *stat,
		  u32 mask, unsigned int flags);
extern const struct dentry_operations daxfs_dops;

/* namei.c, dir.c, file.c */
int daxfs_open(struct inode *inode, struct file *file);
int daxfs_copy_out(struct inode *inode, u64 pos, void *buf, u64 len);
int daxfs_write_entry(struct inode *inode, struct iov_iter *from, u64 pos, u32 len, u32 *copied);
int daxfs_mmap(struct file *file, struct vm_area_struct *vma);
int daxfs_flush_pages(struct inode *inode);
void daxfs_update_pages(struct inode *inode);
int daxfs_cmp_name_key(const void *a, const void *b);
extern const struct inode_operations daxfs_dir_iops;
extern const struct file_operations daxfs_dir_fops;
extern const struct inode_operations daxfs_file_iops;
extern const struct file_operations daxfs_file_fops;
extern const struct inode_operations daxfs_symlink_iops;
extern const struct inode_operations daxfs_dir_ro_iops;
extern const struct inode_operations daxfs_file_ro_iops;

/* Corruption found while serving a request (not at mount): -EUCLEAN. */
#define daxfs_corrupt(sbi, fmt, ...)					\
	({ pr_err_ratelimited("corrupt image: " fmt "\n", ##__VA_ARGS__);	\
	   -EUCLEAN; })

#endif /* _DAXFS_INTERNAL_H */
