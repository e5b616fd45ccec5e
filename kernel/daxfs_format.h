/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT */
/*
 * DAXFS v5 shared-memory filesystem image.
 * Generated from format/daxfs.ksy by format/src/cli.ts. Do not edit; run `pnpm gen`.
 *
 * All integers are little-endian. Offsets in the superblock are absolute;
 * offsets inside the base image are relative to its start.
 */
#ifndef _DAXFS_FORMAT_H
#define _DAXFS_FORMAT_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/stddef.h>
#else
#include <stddef.h>
#endif

/*
 * Superblock magic, "dax5"; also the statfs f_type. (Not DAXFS_MAGIC, which
 * <uapi/linux/magic.h> defines as another value.)
 */
#define DAXFS_SUPER_MAGIC 0x64617835
/* Format version of the superblock and the base image. */
#define DAXFS_VERSION 5
/* Base superblock magic, "dda5". */
#define DAXFS_BASE_MAGIC 0x64646135
/* Page-cache header magic, "pcac". */
#define DAXFS_PCACHE_MAGIC 0x70636163
/* Page-cache header version. */
#define DAXFS_PCACHE_VERSION 1
/* Block and page size; every region and data item starts on it. */
#define DAXFS_BLOCK_SIZE 4096
/* Bytes of the superblock struct; the rest of block 0 is zero. */
#define DAXFS_SUPER_SIZE 4040
/* Size of one base inode slot. */
#define DAXFS_BASE_INODE_SIZE 64
/* Longest file name in bytes. */
#define DAXFS_NAME_MAX 255
/* Nominal dirent size; a directory's size is entry_count * 271. */
#define DAXFS_DIRENT_SIZE 271
/* Distance between dirents in an array (the padded struct size). */
#define DAXFS_DIRENT_STRIDE 272
/* Inode number of the root directory. */
#define DAXFS_ROOT_INO 1
/* Branch table slots written by the builder. */
#define DAXFS_MAX_BRANCHES 256
/* Longest branch name in bytes (the field holds a NUL too). */
#define DAXFS_BRANCH_NAME_MAX 31
/* Absolute offset of the branch table in branching images. */
#define DAXFS_BRANCH_TABLE_OFFSET 4096
/* Base image offset with a branch table, ALIGN(4096 + 256 * 128, 4096). */
#define DAXFS_BRANCHING_BASE_OFFSET 36864
/* Base image offset of a static (read-only) image. */
#define DAXFS_STATIC_BASE_OFFSET 4096
/* Default delta region size of the builder (64 MiB). */
#define DAXFS_DEFAULT_DELTA_SIZE 67108864
/* Fixed per-branch log capacity of the public module (1 MiB). */
#define DAXFS_PUBLIC_LOG_CAPACITY 1048576
/* Size of the delta entry header. */
#define DAXFS_DELTA_HDR_SIZE 24
/* ioctl _IO('D', 1) returning a dma-buf fd of a dma-buf-backed mount. */
#define DAXFS_IOC_GET_DMABUF 0x4401

enum daxfs_branch_state {
	DAXFS_BRANCH_FREE = 0,
	DAXFS_BRANCH_ACTIVE = 1,
	DAXFS_BRANCH_COMMITTED = 2,
	DAXFS_BRANCH_ABORTED = 3,
};

enum daxfs_delta_type {
	DAXFS_DELTA_WRITE = 1,
	DAXFS_DELTA_CREATE = 2,
	DAXFS_DELTA_DELETE = 3,
	DAXFS_DELTA_TRUNCATE = 4,
	DAXFS_DELTA_MKDIR = 5,
	DAXFS_DELTA_RENAME = 6,
	DAXFS_DELTA_SETATTR = 7,
	DAXFS_DELTA_SYMLINK = 8,
	DAXFS_DELTA_LINK = 9,
	DAXFS_DELTA_UTIMES = 10,
};

enum daxfs_setattr_valid {
	DAXFS_ATTR_MODE = 1,
	DAXFS_ATTR_UID = 2,
	DAXFS_ATTR_GID = 4,
	DAXFS_ATTR_SIZE = 8,
};

enum daxfs_pcache_state {
	DAXFS_PCACHE_FREE = 0,
	DAXFS_PCACHE_PENDING = 1,
	DAXFS_PCACHE_VALID = 2,
};

enum daxfs_base_flags {
	DAXFS_BASE_EXTERNAL_DATA = 1,
};

enum daxfs_super_feature {
	DAXFS_FEATURE_LINK = 1,
	DAXFS_FEATURE_UTIMES = 2,
	DAXFS_FEATURE_BASE_MTIME = 4,
};

enum daxfs_utimes_valid {
	DAXFS_UTIMES_ATIME = 1,
	DAXFS_UTIMES_MTIME = 2,
};

enum daxfs_file_type {
	DAXFS_FT_REGULAR = 0x8000,
	DAXFS_FT_DIR = 0x4000,
	DAXFS_FT_SYMLINK = 0xa000,
};

/*
 * Coordination area at superblock offset 96 (not 152, as a stale public
 * comment says). Serialises commits across every kernel and process that
 * shares the memory.
 */
struct daxfs_global_coord {
	/* 0 when fresh, 1 after the first branching mount, +1 per commit. */
	__le64 commit_sequence;
	/* Branch id of the most recent successful commit. */
	__le64 last_committed_id;
	/* Spin lock word, 0 free, 1 held; taken by compare-and-swap. */
	__le32 coord_lock;
	/* Zero. */
	__le32 padding;
	/* Zero in the public format (our lock-owner scheme lives here). */
	__u8 reserved[40];
};

/*
 * Superblock at absolute offset 0. The struct is 4040 bytes; bytes 4040..4095
 * of block 0 are zero.
 */
struct daxfs_super {
	/* Must be 0x64617835 ("dax5"). */
	__le32 magic;
	/* Format version, 5. */
	__le32 version;
	/*
	 * Bit mask of super_feature values: the format extensions the image uses (0
	 * in plain v5; the public module neither sets nor reads it).
	 */
	__le32 flags;
	/* 4096 (written, never checked by the public module). */
	__le32 block_size;
	/* Image size computed by the builder. */
	__le64 total_size;
	/* Absolute offset of the base image; 0 means no base image. */
	__le64 base_offset;
	/* Bytes reserved for the base image. */
	__le64 base_size;
	/* Absolute offset of the branch table; 0 in static images. */
	__le64 branch_table_offset;
	/* Number of 128-byte branch slots (256); 0 marks a static image. */
	__le32 branch_table_entries;
	/* Informational count of active branches. */
	__le32 active_branches;
	/* Next branch id to hand out (builder 1; static 0). */
	__le64 next_branch_id;
	/* Global inode high-water mark (builder inode_count + 1). */
	__le64 next_inode_id;
	/* Absolute offset of the delta region; 0 in static images. */
	__le64 delta_region_offset;
	/* Size of the delta region in bytes. */
	__le64 delta_region_size;
	/* Absolute offset of the next free byte of the delta region. */
	__le64 delta_alloc_offset;
	/* Coordination area shared by every mount of the image. */
	struct daxfs_global_coord coord;
	/* Absolute offset of the page-cache region; 0 means none. */
	__le64 pcache_offset;
	/* Size of the page-cache region in bytes. */
	__le64 pcache_size;
	/* Page-cache slot count (a power of two). */
	__le32 pcache_slot_count;
	/* log2 of the slot count (informational). */
	__le32 pcache_hash_shift;
	/* Unused, 0 (the live count is in the page-cache header). */
	__le32 pcache_pending;
	/* Zero. */
	__le32 pcache_reserved;
	/* Zero; the struct ends at byte 4040. */
	__u8 reserved[3848];
};

/* One 128-byte branch record of the branch table. */
struct daxfs_branch {
	/* Unique id; main is always 1. */
	__le64 branch_id;
	/* Parent branch id; 0 only for main. */
	__le64 parent_id;
	/* Absolute offset of this branch's delta log. */
	__le64 delta_log_offset;
	/* Bytes of the log in use; entries are parsed up to here. */
	__le64 delta_log_size;
	/* Bytes reserved for the log. */
	__le64 delta_log_capacity;
	/* FREE, ACTIVE, COMMITTED or ABORTED. */
	__le32 state;
	/* Informational (children + mounts); never read back. */
	__le32 refcount;
	/* Next inode number this branch will allocate. */
	__le64 next_local_ino;
	/* NUL-terminated name of at most 31 bytes; zeroed on commit/abort. */
	char name[32];
	/* Incremented whenever the branch is invalidated or aborted. */
	__le32 generation;
	/* Zero. */
	__u8 reserved[36];
};

/* The 24-byte header of every delta entry. */
struct daxfs_delta_hdr {
	/* Entry type. */
	__le32 type;
	/* Size of the whole entry, header, payload, names, padding, data. */
	__le32 total_size;
	/* The inode the entry is about (per-type meaning). */
	__le64 ino;
	/* Creation time in ns; informational, log order is authoritative. */
	__le64 timestamp;
};

/* WRITE payload; hdr.ino is the file. */
struct daxfs_delta_write {
	/* File offset of the data. */
	__le64 offset;
	/* Number of data bytes. */
	__le32 len;
	__le32 flags;
};

/* CREATE and MKDIR payload; hdr.ino is the new inode. */
struct daxfs_delta_create {
	/* Directory the name is created in. */
	__le64 parent_ino;
	/* Inode number of the new object. */
	__le64 new_ino;
	/* Full st_mode including the type bits. */
	__le32 mode;
	/* Owner uid. */
	__le32 uid;
	/* Owner gid. */
	__le32 gid;
	/* Length of the name that follows. */
	__le16 name_len;
	__le16 flags;
};

/* DELETE (tombstone) payload; hdr.ino is the unlinked inode. */
struct daxfs_delta_delete {
	/* Directory the name is removed from. */
	__le64 parent_ino;
	/* Length of the name that follows. */
	__le16 name_len;
	__le16 flags;
	__le32 reserved;
};

/* TRUNCATE payload; hdr.ino is the file. */
struct daxfs_delta_truncate {
	/* New file size; growing exposes zeros. */
	__le64 new_size;
};

/* RENAME payload; hdr.ino is the renamed inode. */
struct daxfs_delta_rename {
	/* Directory of the old name. */
	__le64 old_parent_ino;
	/* Directory of the new name. */
	__le64 new_parent_ino;
	/* The renamed inode (same as hdr.ino). */
	__le64 ino;
	/* Length of the old name. */
	__le16 old_name_len;
	/* Length of the new name. */
	__le16 new_name_len;
	__le32 reserved;
};

/* SETATTR payload; fields whose valid bit is set apply. */
struct daxfs_delta_setattr {
	/* New mode (valid bit 1); the type bits are kept. */
	__le32 mode;
	/* New uid (valid bit 2). */
	__le32 uid;
	/* New gid (valid bit 4). */
	__le32 gid;
	/* Bit mask of setattr_valid values. */
	__le32 valid;
	/* New size (valid bit 8). */
	__le64 size;
};

/*
 * SYMLINK payload; hdr.ino is the new inode. 28 bytes of fields and 4 of
 * alignment padding: the name starts at payload offset 32.
 */
struct daxfs_delta_symlink {
	/* Directory the link is created in. */
	__le64 parent_ino;
	/* Inode number of the new link. */
	__le64 new_ino;
	/* Owner uid. */
	__le32 uid;
	/* Owner gid. */
	__le32 gid;
	/* Length of the name. */
	__le16 name_len;
	/* Length of the target, without the NUL. */
	__le16 target_len;
	/* Structure padding; content unspecified, readers ignore it. */
	__u8 pad[4];
};

/*
 * LINK payload (extension, superblock feature LINK): hdr.ino, an existing
 * regular file or symlink, gains the name parent_ino/name. Same shape as the
 * DELETE payload; the name follows at payload offset 16.
 */
struct daxfs_delta_link {
	/* Directory the new name is made in. */
	__le64 parent_ino;
	/* Length of the name that follows. */
	__le16 name_len;
	__le16 flags;
	__le32 reserved;
};

/*
 * UTIMES payload (extension, superblock feature UTIMES): utimensat(2) of
 * hdr.ino; the times whose valid bit is set apply, ctime becomes
 * hdr.timestamp.
 */
struct daxfs_delta_utimes {
	/* New access time, ns since the epoch (valid bit 1). */
	__le64 atime;
	/* New modification time, ns since the epoch (valid bit 2). */
	__le64 mtime;
	/* Bit mask of utimes_valid values. */
	__le32 valid;
	__le32 reserved;
};

/* Base superblock, one block at the start of the base image. */
struct daxfs_base_super {
	/* Must be 0x64646135 ("dda5"). */
	__le32 magic;
	__le32 version;
	/* Bit mask of base_flags values. */
	__le32 flags;
	__le32 block_size;
	/* Bytes of the base image in use. */
	__le64 total_size;
	/* Base-relative offset of the inode table (4096). */
	__le64 inode_offset;
	/* Number of 64-byte inode slots. */
	__le32 inode_count;
	/* Root directory inode number (1). */
	__le32 root_inode;
	/* Base-relative start of the data area. */
	__le64 data_offset;
	/* Zero. */
	__u8 reserved[4048];
};

/*
 * One 64-byte inode slot. A slot whose ino and mode are 0 is unused. Regular
 * files, directories and symlinks only.
 */
struct daxfs_base_inode {
	/* Inode number, slot index + 1 (0 for an unused slot). */
	__le32 ino;
	/* Full st_mode, type and permission bits. */
	__le32 mode;
	/* Owner uid. */
	__le32 uid;
	/* Owner gid. */
	__le32 gid;
	/*
	 * File size; symlink target length without the NUL; directory entry_count *
	 * 271.
	 */
	__le64 size;
	/*
	 * Base-relative offset of the data, target or dirent array (split images:
	 * regular-file data is at this offset in the backing file).
	 */
	__le64 data_offset;
	/* Link count. */
	__le32 nlink;
	/* Zero (alignment of mtime). */
	__le32 reserved0;
	/*
	 * Modification time in ns since the epoch (extension, superblock feature
	 * BASE_MTIME; 0 in plain v5, ignored by the public tools).
	 */
	__le64 mtime;
	/* Zero. */
	__u8 reserved[16];
};

/* Directory entry: 271 bytes of fields, padded to a 272-byte stride. */
struct daxfs_dirent {
	/* Child inode number. */
	__le32 ino;
	/* Child st_mode, for the readdir type without reading the inode. */
	__le32 mode;
	/* Name length, 1..255. */
	__le16 name_len;
	/* Zero. */
	__u8 reserved[6];
	/* Name bytes (name_len used, the rest zero); no '/' or NUL. */
	__u8 name[255];
	/* Structure padding to the 272-byte stride, zero. */
	__u8 pad[1];
};

/* Page-cache header, one block at pcache_offset. */
struct daxfs_pcache_header {
	/* Must be 0x70636163 ("pcac"). */
	__le32 magic;
	__le32 version;
	/* Slot count, a power of two. */
	__le32 slot_count;
	/* log2 of the slot count. */
	__le32 hash_shift;
	/* Slot records, relative to pcache_offset (4096). */
	__le64 slot_meta_offset;
	/* Slot data blocks, relative to pcache_offset. */
	__le64 slot_data_offset;
	/* Clock hand of the eviction sweep. */
	__le32 evict_hand;
	/* Slots in the PENDING state. */
	__le32 pending_count;
	/* Zero. */
	__u8 reserved[4056];
};

/* One cache slot record; every transition is a compare-and-swap. */
struct daxfs_pcache_slot {
	/* Bits 1..0 pcache_state; bits 63..2 the backing page index. */
	__le64 state_tag;
	/* Set on access, cleared by the clock sweep. */
	__le32 ref_bit;
	__le32 reserved;
};

/* The layout above, proved by the compiler. */
_Static_assert(sizeof(struct daxfs_global_coord) == 64, "sizeof daxfs_global_coord");
_Static_assert(offsetof(struct daxfs_global_coord, commit_sequence) == 0, "offsetof daxfs_global_coord.commit_sequence");
_Static_assert(offsetof(struct daxfs_global_coord, last_committed_id) == 8, "offsetof daxfs_global_coord.last_committed_id");
_Static_assert(offsetof(struct daxfs_global_coord, coord_lock) == 16, "offsetof daxfs_global_coord.coord_lock");
_Static_assert(offsetof(struct daxfs_global_coord, padding) == 20, "offsetof daxfs_global_coord.padding");
_Static_assert(offsetof(struct daxfs_global_coord, reserved) == 24, "offsetof daxfs_global_coord.reserved");
_Static_assert(sizeof(struct daxfs_super) == 4040, "sizeof daxfs_super");
_Static_assert(offsetof(struct daxfs_super, magic) == 0, "offsetof daxfs_super.magic");
_Static_assert(offsetof(struct daxfs_super, version) == 4, "offsetof daxfs_super.version");
_Static_assert(offsetof(struct daxfs_super, flags) == 8, "offsetof daxfs_super.flags");
_Static_assert(offsetof(struct daxfs_super, block_size) == 12, "offsetof daxfs_super.block_size");
_Static_assert(offsetof(struct daxfs_super, total_size) == 16, "offsetof daxfs_super.total_size");
_Static_assert(offsetof(struct daxfs_super, base_offset) == 24, "offsetof daxfs_super.base_offset");
_Static_assert(offsetof(struct daxfs_super, base_size) == 32, "offsetof daxfs_super.base_size");
_Static_assert(offsetof(struct daxfs_super, branch_table_offset) == 40, "offsetof daxfs_super.branch_table_offset");
_Static_assert(offsetof(struct daxfs_super, branch_table_entries) == 48, "offsetof daxfs_super.branch_table_entries");
_Static_assert(offsetof(struct daxfs_super, active_branches) == 52, "offsetof daxfs_super.active_branches");
_Static_assert(offsetof(struct daxfs_super, next_branch_id) == 56, "offsetof daxfs_super.next_branch_id");
_Static_assert(offsetof(struct daxfs_super, next_inode_id) == 64, "offsetof daxfs_super.next_inode_id");
_Static_assert(offsetof(struct daxfs_super, delta_region_offset) == 72, "offsetof daxfs_super.delta_region_offset");
_Static_assert(offsetof(struct daxfs_super, delta_region_size) == 80, "offsetof daxfs_super.delta_region_size");
_Static_assert(offsetof(struct daxfs_super, delta_alloc_offset) == 88, "offsetof daxfs_super.delta_alloc_offset");
_Static_assert(offsetof(struct daxfs_super, coord) == 96, "offsetof daxfs_super.coord");
_Static_assert(offsetof(struct daxfs_super, pcache_offset) == 160, "offsetof daxfs_super.pcache_offset");
_Static_assert(offsetof(struct daxfs_super, pcache_size) == 168, "offsetof daxfs_super.pcache_size");
_Static_assert(offsetof(struct daxfs_super, pcache_slot_count) == 176, "offsetof daxfs_super.pcache_slot_count");
_Static_assert(offsetof(struct daxfs_super, pcache_hash_shift) == 180, "offsetof daxfs_super.pcache_hash_shift");
_Static_assert(offsetof(struct daxfs_super, pcache_pending) == 184, "offsetof daxfs_super.pcache_pending");
_Static_assert(offsetof(struct daxfs_super, pcache_reserved) == 188, "offsetof daxfs_super.pcache_reserved");
_Static_assert(offsetof(struct daxfs_super, reserved) == 192, "offsetof daxfs_super.reserved");
_Static_assert(sizeof(struct daxfs_branch) == 128, "sizeof daxfs_branch");
_Static_assert(offsetof(struct daxfs_branch, branch_id) == 0, "offsetof daxfs_branch.branch_id");
_Static_assert(offsetof(struct daxfs_branch, parent_id) == 8, "offsetof daxfs_branch.parent_id");
_Static_assert(offsetof(struct daxfs_branch, delta_log_offset) == 16, "offsetof daxfs_branch.delta_log_offset");
_Static_assert(offsetof(struct daxfs_branch, delta_log_size) == 24, "offsetof daxfs_branch.delta_log_size");
_Static_assert(offsetof(struct daxfs_branch, delta_log_capacity) == 32, "offsetof daxfs_branch.delta_log_capacity");
_Static_assert(offsetof(struct daxfs_branch, state) == 40, "offsetof daxfs_branch.state");
_Static_assert(offsetof(struct daxfs_branch, refcount) == 44, "offsetof daxfs_branch.refcount");
_Static_assert(offsetof(struct daxfs_branch, next_local_ino) == 48, "offsetof daxfs_branch.next_local_ino");
_Static_assert(offsetof(struct daxfs_branch, name) == 56, "offsetof daxfs_branch.name");
_Static_assert(offsetof(struct daxfs_branch, generation) == 88, "offsetof daxfs_branch.generation");
_Static_assert(offsetof(struct daxfs_branch, reserved) == 92, "offsetof daxfs_branch.reserved");
_Static_assert(sizeof(struct daxfs_delta_hdr) == 24, "sizeof daxfs_delta_hdr");
_Static_assert(offsetof(struct daxfs_delta_hdr, type) == 0, "offsetof daxfs_delta_hdr.type");
_Static_assert(offsetof(struct daxfs_delta_hdr, total_size) == 4, "offsetof daxfs_delta_hdr.total_size");
_Static_assert(offsetof(struct daxfs_delta_hdr, ino) == 8, "offsetof daxfs_delta_hdr.ino");
_Static_assert(offsetof(struct daxfs_delta_hdr, timestamp) == 16, "offsetof daxfs_delta_hdr.timestamp");
_Static_assert(sizeof(struct daxfs_delta_write) == 16, "sizeof daxfs_delta_write");
_Static_assert(offsetof(struct daxfs_delta_write, offset) == 0, "offsetof daxfs_delta_write.offset");
_Static_assert(offsetof(struct daxfs_delta_write, len) == 8, "offsetof daxfs_delta_write.len");
_Static_assert(offsetof(struct daxfs_delta_write, flags) == 12, "offsetof daxfs_delta_write.flags");
_Static_assert(sizeof(struct daxfs_delta_create) == 32, "sizeof daxfs_delta_create");
_Static_assert(offsetof(struct daxfs_delta_create, parent_ino) == 0, "offsetof daxfs_delta_create.parent_ino");
_Static_assert(offsetof(struct daxfs_delta_create, new_ino) == 8, "offsetof daxfs_delta_create.new_ino");
_Static_assert(offsetof(struct daxfs_delta_create, mode) == 16, "offsetof daxfs_delta_create.mode");
_Static_assert(offsetof(struct daxfs_delta_create, uid) == 20, "offsetof daxfs_delta_create.uid");
_Static_assert(offsetof(struct daxfs_delta_create, gid) == 24, "offsetof daxfs_delta_create.gid");
_Static_assert(offsetof(struct daxfs_delta_create, name_len) == 28, "offsetof daxfs_delta_create.name_len");
_Static_assert(offsetof(struct daxfs_delta_create, flags) == 30, "offsetof daxfs_delta_create.flags");
_Static_assert(sizeof(struct daxfs_delta_delete) == 16, "sizeof daxfs_delta_delete");
_Static_assert(offsetof(struct daxfs_delta_delete, parent_ino) == 0, "offsetof daxfs_delta_delete.parent_ino");
_Static_assert(offsetof(struct daxfs_delta_delete, name_len) == 8, "offsetof daxfs_delta_delete.name_len");
_Static_assert(offsetof(struct daxfs_delta_delete, flags) == 10, "offsetof daxfs_delta_delete.flags");
_Static_assert(offsetof(struct daxfs_delta_delete, reserved) == 12, "offsetof daxfs_delta_delete.reserved");
_Static_assert(sizeof(struct daxfs_delta_truncate) == 8, "sizeof daxfs_delta_truncate");
_Static_assert(offsetof(struct daxfs_delta_truncate, new_size) == 0, "offsetof daxfs_delta_truncate.new_size");
_Static_assert(sizeof(struct daxfs_delta_rename) == 32, "sizeof daxfs_delta_rename");
_Static_assert(offsetof(struct daxfs_delta_rename, old_parent_ino) == 0, "offsetof daxfs_delta_rename.old_parent_ino");
_Static_assert(offsetof(struct daxfs_delta_rename, new_parent_ino) == 8, "offsetof daxfs_delta_rename.new_parent_ino");
_Static_assert(offsetof(struct daxfs_delta_rename, ino) == 16, "offsetof daxfs_delta_rename.ino");
_Static_assert(offsetof(struct daxfs_delta_rename, old_name_len) == 24, "offsetof daxfs_delta_rename.old_name_len");
_Static_assert(offsetof(struct daxfs_delta_rename, new_name_len) == 26, "offsetof daxfs_delta_rename.new_name_len");
_Static_assert(offsetof(struct daxfs_delta_rename, reserved) == 28, "offsetof daxfs_delta_rename.reserved");
_Static_assert(sizeof(struct daxfs_delta_setattr) == 24, "sizeof daxfs_delta_setattr");
_Static_assert(offsetof(struct daxfs_delta_setattr, mode) == 0, "offsetof daxfs_delta_setattr.mode");
_Static_assert(offsetof(struct daxfs_delta_setattr, uid) == 4, "offsetof daxfs_delta_setattr.uid");
_Static_assert(offsetof(struct daxfs_delta_setattr, gid) == 8, "offsetof daxfs_delta_setattr.gid");
_Static_assert(offsetof(struct daxfs_delta_setattr, valid) == 12, "offsetof daxfs_delta_setattr.valid");
_Static_assert(offsetof(struct daxfs_delta_setattr, size) == 16, "offsetof daxfs_delta_setattr.size");
_Static_assert(sizeof(struct daxfs_delta_symlink) == 32, "sizeof daxfs_delta_symlink");
_Static_assert(offsetof(struct daxfs_delta_symlink, parent_ino) == 0, "offsetof daxfs_delta_symlink.parent_ino");
_Static_assert(offsetof(struct daxfs_delta_symlink, new_ino) == 8, "offsetof daxfs_delta_symlink.new_ino");
_Static_assert(offsetof(struct daxfs_delta_symlink, uid) == 16, "offsetof daxfs_delta_symlink.uid");
_Static_assert(offsetof(struct daxfs_delta_symlink, gid) == 20, "offsetof daxfs_delta_symlink.gid");
_Static_assert(offsetof(struct daxfs_delta_symlink, name_len) == 24, "offsetof daxfs_delta_symlink.name_len");
_Static_assert(offsetof(struct daxfs_delta_symlink, target_len) == 26, "offsetof daxfs_delta_symlink.target_len");
_Static_assert(offsetof(struct daxfs_delta_symlink, pad) == 28, "offsetof daxfs_delta_symlink.pad");
_Static_assert(sizeof(struct daxfs_delta_link) == 16, "sizeof daxfs_delta_link");
_Static_assert(offsetof(struct daxfs_delta_link, parent_ino) == 0, "offsetof daxfs_delta_link.parent_ino");
_Static_assert(offsetof(struct daxfs_delta_link, name_len) == 8, "offsetof daxfs_delta_link.name_len");
_Static_assert(offsetof(struct daxfs_delta_link, flags) == 10, "offsetof daxfs_delta_link.flags");
_Static_assert(offsetof(struct daxfs_delta_link, reserved) == 12, "offsetof daxfs_delta_link.reserved");
_Static_assert(sizeof(struct daxfs_delta_utimes) == 24, "sizeof daxfs_delta_utimes");
_Static_assert(offsetof(struct daxfs_delta_utimes, atime) == 0, "offsetof daxfs_delta_utimes.atime");
_Static_assert(offsetof(struct daxfs_delta_utimes, mtime) == 8, "offsetof daxfs_delta_utimes.mtime");
_Static_assert(offsetof(struct daxfs_delta_utimes, valid) == 16, "offsetof daxfs_delta_utimes.valid");
_Static_assert(offsetof(struct daxfs_delta_utimes, reserved) == 20, "offsetof daxfs_delta_utimes.reserved");
_Static_assert(sizeof(struct daxfs_base_super) == 4096, "sizeof daxfs_base_super");
_Static_assert(offsetof(struct daxfs_base_super, magic) == 0, "offsetof daxfs_base_super.magic");
_Static_assert(offsetof(struct daxfs_base_super, version) == 4, "offsetof daxfs_base_super.version");
_Static_assert(offsetof(struct daxfs_base_super, flags) == 8, "offsetof daxfs_base_super.flags");
_Static_assert(offsetof(struct daxfs_base_super, block_size) == 12, "offsetof daxfs_base_super.block_size");
_Static_assert(offsetof(struct daxfs_base_super, total_size) == 16, "offsetof daxfs_base_super.total_size");
_Static_assert(offsetof(struct daxfs_base_super, inode_offset) == 24, "offsetof daxfs_base_super.inode_offset");
_Static_assert(offsetof(struct daxfs_base_super, inode_count) == 32, "offsetof daxfs_base_super.inode_count");
_Static_assert(offsetof(struct daxfs_base_super, root_inode) == 36, "offsetof daxfs_base_super.root_inode");
_Static_assert(offsetof(struct daxfs_base_super, data_offset) == 40, "offsetof daxfs_base_super.data_offset");
_Static_assert(offsetof(struct daxfs_base_super, reserved) == 48, "offsetof daxfs_base_super.reserved");
_Static_assert(sizeof(struct daxfs_base_inode) == 64, "sizeof daxfs_base_inode");
_Static_assert(offsetof(struct daxfs_base_inode, ino) == 0, "offsetof daxfs_base_inode.ino");
_Static_assert(offsetof(struct daxfs_base_inode, mode) == 4, "offsetof daxfs_base_inode.mode");
_Static_assert(offsetof(struct daxfs_base_inode, uid) == 8, "offsetof daxfs_base_inode.uid");
_Static_assert(offsetof(struct daxfs_base_inode, gid) == 12, "offsetof daxfs_base_inode.gid");
_Static_assert(offsetof(struct daxfs_base_inode, size) == 16, "offsetof daxfs_base_inode.size");
_Static_assert(offsetof(struct daxfs_base_inode, data_offset) == 24, "offsetof daxfs_base_inode.data_offset");
_Static_assert(offsetof(struct daxfs_base_inode, nlink) == 32, "offsetof daxfs_base_inode.nlink");
_Static_assert(offsetof(struct daxfs_base_inode, reserved0) == 36, "offsetof daxfs_base_inode.reserved0");
_Static_assert(offsetof(struct daxfs_base_inode, mtime) == 40, "offsetof daxfs_base_inode.mtime");
_Static_assert(offsetof(struct daxfs_base_inode, reserved) == 48, "offsetof daxfs_base_inode.reserved");
_Static_assert(sizeof(struct daxfs_dirent) == 272, "sizeof daxfs_dirent");
_Static_assert(offsetof(struct daxfs_dirent, ino) == 0, "offsetof daxfs_dirent.ino");
_Static_assert(offsetof(struct daxfs_dirent, mode) == 4, "offsetof daxfs_dirent.mode");
_Static_assert(offsetof(struct daxfs_dirent, name_len) == 8, "offsetof daxfs_dirent.name_len");
_Static_assert(offsetof(struct daxfs_dirent, reserved) == 10, "offsetof daxfs_dirent.reserved");
_Static_assert(offsetof(struct daxfs_dirent, name) == 16, "offsetof daxfs_dirent.name");
_Static_assert(offsetof(struct daxfs_dirent, pad) == 271, "offsetof daxfs_dirent.pad");
_Static_assert(sizeof(struct daxfs_pcache_header) == 4096, "sizeof daxfs_pcache_header");
_Static_assert(offsetof(struct daxfs_pcache_header, magic) == 0, "offsetof daxfs_pcache_header.magic");
_Static_assert(offsetof(struct daxfs_pcache_header, version) == 4, "offsetof daxfs_pcache_header.version");
_Static_assert(offsetof(struct daxfs_pcache_header, slot_count) == 8, "offsetof daxfs_pcache_header.slot_count");
_Static_assert(offsetof(struct daxfs_pcache_header, hash_shift) == 12, "offsetof daxfs_pcache_header.hash_shift");
_Static_assert(offsetof(struct daxfs_pcache_header, slot_meta_offset) == 16, "offsetof daxfs_pcache_header.slot_meta_offset");
_Static_assert(offsetof(struct daxfs_pcache_header, slot_data_offset) == 24, "offsetof daxfs_pcache_header.slot_data_offset");
_Static_assert(offsetof(struct daxfs_pcache_header, evict_hand) == 32, "offsetof daxfs_pcache_header.evict_hand");
_Static_assert(offsetof(struct daxfs_pcache_header, pending_count) == 36, "offsetof daxfs_pcache_header.pending_count");
_Static_assert(offsetof(struct daxfs_pcache_header, reserved) == 40, "offsetof daxfs_pcache_header.reserved");
_Static_assert(sizeof(struct daxfs_pcache_slot) == 16, "sizeof daxfs_pcache_slot");
_Static_assert(offsetof(struct daxfs_pcache_slot, state_tag) == 0, "offsetof daxfs_pcache_slot.state_tag");
_Static_assert(offsetof(struct daxfs_pcache_slot, ref_bit) == 8, "offsetof daxfs_pcache_slot.ref_bit");
_Static_assert(offsetof(struct daxfs_pcache_slot, reserved) == 12, "offsetof daxfs_pcache_slot.reserved");

#endif /* _DAXFS_FORMAT_H */
