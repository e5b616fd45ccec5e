# SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
#
# The single source of the DAXFS v5 on-media format. The C header
# (kernel/daxfs_format.h) and the TypeScript codecs (packages/format) are
# generated from this file by format/src/cli.ts; edit here, then `pnpm gen`.
#
# Extension keys (ignored by kaitai-struct-compiler, read by our generator):
#   -c-struct: NAME   the type is a fixed-size C struct `struct NAME`
#   -orig-id: NAME    the C field name where it differs from the id
#   -constants:       named numbers emitted as #define / export const
#   -c-enum-prefixes: the C name prefix of each enum's members
meta:
  id: daxfs
  title: DAXFS v5 shared-memory filesystem image
  file-extension: daxfs
  license: GPL-2.0 WITH Linux-syscall-note OR MIT
  ks-version: '0.10'
  endian: le
doc: |
  A DAXFS image is one contiguous byte range (a file, a physical memory range
  or a dma-buf): a superblock at offset 0, an optional branch table, a
  read-only base image, an optional page cache (split mode) and an optional
  delta region that holds one append-only log per branch. All integers are
  little-endian; a block is 4096 bytes. Offsets in the superblock are
  absolute; offsets inside the base image are relative to its start.
doc-ref: docs/format.md (generated from this file); docs/semantics.md
-constants:
  super_magic:
    value: 0x64617835
    doc: |
      Superblock magic, "dax5"; also the statfs f_type. (Not DAXFS_MAGIC,
      which <uapi/linux/magic.h> defines as another value.)
  version:
    value: 5
    doc: Format version of the superblock and the base image.
  base_magic:
    value: 0x64646135
    doc: Base superblock magic, "dda5".
  pcache_magic:
    value: 0x70636163
    doc: Page-cache header magic, "pcac".
  pcache_version:
    value: 1
    doc: Page-cache header version.
  block_size:
    value: 4096
    doc: Block and page size; every region and data item starts on it.
  super_size:
    value: 4040
    doc: Bytes of the superblock struct; the rest of block 0 is zero.
  base_inode_size:
    value: 64
    doc: Size of one base inode slot.
  name_max:
    value: 255
    doc: Longest file name in bytes.
  dirent_size:
    value: 271
    doc: Nominal dirent size; a directory's size is entry_count * 271.
  dirent_stride:
    value: 272
    doc: Distance between dirents in an array (the padded struct size).
  root_ino:
    value: 1
    doc: Inode number of the root directory.
  max_branches:
    value: 256
    doc: Branch table slots written by the builder.
  branch_name_max:
    value: 31
    doc: Longest branch name in bytes (the field holds a NUL too).
  branch_table_offset:
    value: 4096
    doc: Absolute offset of the branch table in branching images.
  branching_base_offset:
    value: 36864
    doc: Base image offset with a branch table, ALIGN(4096 + 256 * 128, 4096).
  static_base_offset:
    value: 4096
    doc: Base image offset of a static (read-only) image.
  default_delta_size:
    value: 67108864
    doc: Default delta region size of the builder (64 MiB).
  public_log_capacity:
    value: 1048576
    doc: Fixed per-branch log capacity of the public module (1 MiB).
  delta_hdr_size:
    value: 24
    doc: Size of the delta entry header.
  ioc_get_dmabuf:
    value: 0x4401
    doc: ioctl _IO('D', 1) returning a dma-buf fd of a dma-buf-backed mount.
-c-enum-prefixes:
  branch_state: DAXFS_BRANCH_
  delta_type: DAXFS_DELTA_
  setattr_valid: DAXFS_ATTR_
  pcache_state: DAXFS_PCACHE_
  base_flags: DAXFS_BASE_
  super_feature: DAXFS_FEATURE_
  utimes_valid: DAXFS_UTIMES_
  file_type: DAXFS_FT_
seq:
  - id: superblock
    type: superblock
    doc: The superblock, at offset 0.
instances:
  branches:
    pos: superblock.ofs_branch_table
    type: branch
    repeat: expr
    repeat-expr: superblock.num_branch_table_entries
    if: superblock.num_branch_table_entries != 0
    doc: The branch table; a zeroed record is a FREE slot.
  base:
    pos: superblock.ofs_base
    size: superblock.len_base
    type: base_image
    if: superblock.ofs_base != 0
    doc: The read-only base tree.
  pcache:
    pos: superblock.ofs_pcache
    size: superblock.len_pcache
    type: pcache_region
    if: superblock.ofs_pcache != 0
    doc: The shared page cache of split-mode images.
types:
  superblock:
    -c-struct: daxfs_super
    doc: |
      Superblock at absolute offset 0. The struct is 4040 bytes; bytes
      4040..4095 of block 0 are zero.
    seq:
      - id: magic
        type: u4
        valid: 0x64617835
        doc: Must be 0x64617835 ("dax5").
      - id: version
        type: u4
        valid: 5
        doc: Format version, 5.
      - id: flags
        type: u4
        doc: |
          Bit mask of super_feature values: the format extensions the image
          uses (0 in plain v5; the public module neither sets nor reads it).
      - id: block_size
        type: u4
        doc: 4096 (written, never checked by the public module).
      - id: total_size
        type: u8
        doc: Image size computed by the builder.
      - id: ofs_base
        -orig-id: base_offset
        type: u8
        doc: Absolute offset of the base image; 0 means no base image.
      - id: len_base
        -orig-id: base_size
        type: u8
        doc: Bytes reserved for the base image.
      - id: ofs_branch_table
        -orig-id: branch_table_offset
        type: u8
        doc: Absolute offset of the branch table; 0 in static images.
      - id: num_branch_table_entries
        -orig-id: branch_table_entries
        type: u4
        doc: Number of 128-byte branch slots (256); 0 marks a static image.
      - id: num_active_branches
        -orig-id: active_branches
        type: u4
        doc: Informational count of active branches.
      - id: next_branch_id
        type: u8
        doc: Next branch id to hand out (builder 1; static 0).
      - id: next_inode_id
        type: u8
        doc: Global inode high-water mark (builder inode_count + 1).
      - id: ofs_delta_region
        -orig-id: delta_region_offset
        type: u8
        doc: Absolute offset of the delta region; 0 in static images.
      - id: len_delta_region
        -orig-id: delta_region_size
        type: u8
        doc: Size of the delta region in bytes.
      - id: ofs_delta_alloc
        -orig-id: delta_alloc_offset
        type: u8
        doc: Absolute offset of the next free byte of the delta region.
      - id: coord
        type: global_coord
        doc: Coordination area shared by every mount of the image.
      - id: ofs_pcache
        -orig-id: pcache_offset
        type: u8
        doc: Absolute offset of the page-cache region; 0 means none.
      - id: len_pcache
        -orig-id: pcache_size
        type: u8
        doc: Size of the page-cache region in bytes.
      - id: num_pcache_slots
        -orig-id: pcache_slot_count
        type: u4
        doc: Page-cache slot count (a power of two).
      - id: pcache_hash_shift
        type: u4
        doc: log2 of the slot count (informational).
      - id: pcache_pending
        type: u4
        doc: Unused, 0 (the live count is in the page-cache header).
      - id: pcache_reserved
        type: u4
        doc: Zero.
      - id: reserved
        size: 3848
        doc: Zero; the struct ends at byte 4040.
  global_coord:
    -c-struct: daxfs_global_coord
    doc: |
      Coordination area at superblock offset 96 (not 152, as a stale public
      comment says). Serialises commits across every kernel and process that
      shares the memory.
    seq:
      - id: commit_sequence
        type: u8
        doc: 0 when fresh, 1 after the first branching mount, +1 per commit.
      - id: last_committed_id
        type: u8
        doc: Branch id of the most recent successful commit.
      - id: coord_lock
        type: u4
        doc: Spin lock word, 0 free, 1 held; taken by compare-and-swap.
      - id: padding
        type: u4
        doc: Zero.
      - id: reserved
        size: 40
        doc: Zero in the public format (our lock-owner scheme lives here).
  branch:
    -c-struct: daxfs_branch
    doc: One 128-byte branch record of the branch table.
    seq:
      - id: branch_id
        type: u8
        doc: Unique id; main is always 1.
      - id: parent_id
        type: u8
        doc: Parent branch id; 0 only for main.
      - id: ofs_delta_log
        -orig-id: delta_log_offset
        type: u8
        doc: Absolute offset of this branch's delta log.
      - id: len_delta_log
        -orig-id: delta_log_size
        type: u8
        doc: Bytes of the log in use; entries are parsed up to here.
      - id: delta_log_capacity
        type: u8
        doc: Bytes reserved for the log.
      - id: state
        type: u4
        enum: branch_state
        doc: FREE, ACTIVE, COMMITTED or ABORTED.
      - id: refcount
        type: u4
        doc: Informational (children + mounts); never read back.
      - id: next_local_ino
        type: u8
        doc: Next inode number this branch will allocate.
      - id: name
        type: strz
        encoding: ASCII
        size: 32
        doc: NUL-terminated name of at most 31 bytes; zeroed on commit/abort.
      - id: generation
        type: u4
        doc: Incremented whenever the branch is invalidated or aborted.
      - id: reserved
        size: 36
        doc: Zero.
    instances:
      log:
        io: _root._io
        pos: ofs_delta_log
        size: len_delta_log
        type: delta_log
        if: state != branch_state::free and len_delta_log != 0
        doc: The branch's delta log entries.
  delta_log:
    doc: |
      A branch log: entries back to back, unaligned, until the end of the
      used size or an entry whose total_size is 0.
    seq:
      - id: entries
        type: delta_entry
        repeat: until
        repeat-until: _.hdr.total_size == 0 or _io.eof
  delta_entry:
    doc: One delta log entry, header plus a type-specific body.
    seq:
      - id: hdr
        type: delta_hdr
      - id: body
        size: hdr.total_size - 24
        if: hdr.total_size >= 24
        type:
          switch-on: hdr.type
          cases:
            delta_type::write: write_entry
            delta_type::create: create_entry
            delta_type::delete: delete_entry
            delta_type::truncate: delta_truncate
            delta_type::mkdir: create_entry
            delta_type::rename: rename_entry
            delta_type::setattr: delta_setattr
            delta_type::symlink: symlink_entry
            delta_type::link: link_entry
            delta_type::utimes: delta_utimes
  delta_hdr:
    -c-struct: daxfs_delta_hdr
    doc: The 24-byte header of every delta entry.
    seq:
      - id: type
        type: u4
        enum: delta_type
        doc: Entry type.
      - id: total_size
        type: u4
        doc: Size of the whole entry, header, payload, names, padding, data.
      - id: ino
        type: u8
        doc: The inode the entry is about (per-type meaning).
      - id: timestamp
        type: u8
        doc: Creation time in ns; informational, log order is authoritative.
  delta_write:
    -c-struct: daxfs_delta_write
    doc: WRITE payload; hdr.ino is the file.
    seq:
      - id: offset
        type: u8
        doc: File offset of the data.
      - id: len
        type: u4
        doc: Number of data bytes.
      - id: flags
        type: u4
        doc: 0.
  write_entry:
    doc: |
      WRITE body. The data is the LAST len bytes of the entry: writers may
      pad after the payload so the data starts page-aligned.
    seq:
      - id: args
        type: delta_write
    instances:
      data:
        pos: _io.size - args.len
        size: args.len
        doc: The bytes written at args.offset.
  delta_create:
    -c-struct: daxfs_delta_create
    doc: CREATE and MKDIR payload; hdr.ino is the new inode.
    seq:
      - id: parent_ino
        type: u8
        doc: Directory the name is created in.
      - id: new_ino
        type: u8
        doc: Inode number of the new object.
      - id: mode
        type: u4
        doc: Full st_mode including the type bits.
      - id: uid
        type: u4
        doc: Owner uid.
      - id: gid
        type: u4
        doc: Owner gid.
      - id: name_len
        type: u2
        doc: Length of the name that follows.
      - id: flags
        type: u2
        doc: 0.
  create_entry:
    doc: CREATE/MKDIR body, the payload then the name.
    seq:
      - id: args
        type: delta_create
      - id: name
        size: args.name_len
        type: str
        encoding: UTF-8
  delta_delete:
    -c-struct: daxfs_delta_delete
    doc: DELETE (tombstone) payload; hdr.ino is the unlinked inode.
    seq:
      - id: parent_ino
        type: u8
        doc: Directory the name is removed from.
      - id: name_len
        type: u2
        doc: Length of the name that follows.
      - id: flags
        type: u2
        doc: 0.
      - id: reserved
        type: u4
        doc: 0.
  delete_entry:
    doc: DELETE body, the payload then the name.
    seq:
      - id: args
        type: delta_delete
      - id: name
        size: args.name_len
        type: str
        encoding: UTF-8
  delta_truncate:
    -c-struct: daxfs_delta_truncate
    doc: TRUNCATE payload; hdr.ino is the file.
    seq:
      - id: new_size
        type: u8
        doc: New file size; growing exposes zeros.
  delta_rename:
    -c-struct: daxfs_delta_rename
    doc: RENAME payload; hdr.ino is the renamed inode.
    seq:
      - id: old_parent_ino
        type: u8
        doc: Directory of the old name.
      - id: new_parent_ino
        type: u8
        doc: Directory of the new name.
      - id: ino
        type: u8
        doc: The renamed inode (same as hdr.ino).
      - id: old_name_len
        type: u2
        doc: Length of the old name.
      - id: new_name_len
        type: u2
        doc: Length of the new name.
      - id: reserved
        type: u4
        doc: 0.
  rename_entry:
    doc: RENAME body, the payload, the old name, then the new name.
    seq:
      - id: args
        type: delta_rename
      - id: old_name
        size: args.old_name_len
        type: str
        encoding: UTF-8
      - id: new_name
        size: args.new_name_len
        type: str
        encoding: UTF-8
  delta_setattr:
    -c-struct: daxfs_delta_setattr
    doc: SETATTR payload; fields whose valid bit is set apply.
    seq:
      - id: mode
        type: u4
        doc: New mode (valid bit 1); the type bits are kept.
      - id: uid
        type: u4
        doc: New uid (valid bit 2).
      - id: gid
        type: u4
        doc: New gid (valid bit 4).
      - id: valid
        type: u4
        doc: Bit mask of setattr_valid values.
      - id: size
        type: u8
        doc: New size (valid bit 8).
  delta_symlink:
    -c-struct: daxfs_delta_symlink
    doc: |
      SYMLINK payload; hdr.ino is the new inode. 28 bytes of fields and 4 of
      alignment padding: the name starts at payload offset 32.
    seq:
      - id: parent_ino
        type: u8
        doc: Directory the link is created in.
      - id: new_ino
        type: u8
        doc: Inode number of the new link.
      - id: uid
        type: u4
        doc: Owner uid.
      - id: gid
        type: u4
        doc: Owner gid.
      - id: name_len
        type: u2
        doc: Length of the name.
      - id: target_len
        type: u2
        doc: Length of the target, without the NUL.
      - id: pad
        size: 4
        doc: Structure padding; content unspecified, readers ignore it.
  symlink_entry:
    doc: SYMLINK body, the payload, the name, the target, then a NUL.
    seq:
      - id: args
        type: delta_symlink
      - id: name
        size: args.name_len
        type: str
        encoding: UTF-8
      - id: target
        size: args.target_len
        type: str
        encoding: UTF-8
      - id: terminator
        contents: [0]
  base_image:
    doc: The base image region; offsets inside are relative to its start.
    seq:
      - id: base_super
        type: base_super
    instances:
      inodes:
        pos: base_super.ofs_inodes
        type: base_inode
        repeat: expr
        repeat-expr: base_super.num_inodes
        doc: The inode table; slot N-1 holds inode N.
  delta_link:
    -c-struct: daxfs_delta_link
    doc: |
      LINK payload (extension, superblock feature LINK): hdr.ino, an
      existing regular file or symlink, gains the name parent_ino/name.
      Same shape as the DELETE payload; the name follows at payload
      offset 16.
    seq:
      - id: parent_ino
        type: u8
        doc: Directory the new name is made in.
      - id: name_len
        type: u2
        doc: Length of the name that follows.
      - id: flags
        type: u2
        doc: 0.
      - id: reserved
        type: u4
        doc: 0.
  link_entry:
    doc: LINK body, the payload then the name.
    seq:
      - id: args
        type: delta_link
      - id: name
        size: args.name_len
        type: str
        encoding: UTF-8
  delta_utimes:
    -c-struct: daxfs_delta_utimes
    doc: |
      UTIMES payload (extension, superblock feature UTIMES): utimensat(2) of
      hdr.ino; the times whose valid bit is set apply, ctime becomes
      hdr.timestamp.
    seq:
      - id: atime
        type: u8
        doc: New access time, ns since the epoch (valid bit 1).
      - id: mtime
        type: u8
        doc: New modification time, ns since the epoch (valid bit 2).
      - id: valid
        type: u4
        doc: Bit mask of utimes_valid values.
      - id: reserved
        type: u4
        doc: 0.
  base_super:
    -c-struct: daxfs_base_super
    doc: Base superblock, one block at the start of the base image.
    seq:
      - id: magic
        type: u4
        valid: 0x64646135
        doc: Must be 0x64646135 ("dda5").
      - id: version
        type: u4
        valid: 5
        doc: 5.
      - id: flags
        type: u4
        doc: Bit mask of base_flags values.
      - id: block_size
        type: u4
        doc: 4096.
      - id: total_size
        type: u8
        doc: Bytes of the base image in use.
      - id: ofs_inodes
        -orig-id: inode_offset
        type: u8
        doc: Base-relative offset of the inode table (4096).
      - id: num_inodes
        -orig-id: inode_count
        type: u4
        doc: Number of 64-byte inode slots.
      - id: root_inode
        type: u4
        doc: Root directory inode number (1).
      - id: ofs_data
        -orig-id: data_offset
        type: u8
        doc: Base-relative start of the data area.
      - id: reserved
        size: 4048
        doc: Zero.
  base_inode:
    -c-struct: daxfs_base_inode
    doc: |
      One 64-byte inode slot. A slot whose ino and mode are 0 is unused.
      Regular files, directories and symlinks only.
    seq:
      - id: ino
        type: u4
        doc: Inode number, slot index + 1 (0 for an unused slot).
      - id: mode
        type: u4
        doc: Full st_mode, type and permission bits.
      - id: uid
        type: u4
        doc: Owner uid.
      - id: gid
        type: u4
        doc: Owner gid.
      - id: size
        type: u8
        doc: |
          File size; symlink target length without the NUL; directory
          entry_count * 271.
      - id: ofs_data
        -orig-id: data_offset
        type: u8
        doc: |
          Base-relative offset of the data, target or dirent array (split
          images: regular-file data is at this offset in the backing file).
      - id: nlink
        type: u4
        doc: Link count.
      - id: reserved0
        type: u4
        doc: Zero (alignment of mtime).
      - id: mtime
        type: u8
        doc: |
          Modification time in ns since the epoch (extension, superblock
          feature BASE_MTIME; 0 in plain v5, ignored by the public tools).
      - id: reserved
        size: 16
        doc: Zero.
    instances:
      file_type:
        value: mode & 0xf000
        enum: file_type
        doc: The type bits of mode.
      dirents:
        io: _parent._io
        pos: ofs_data
        size: 272
        type: dirent
        repeat: expr
        repeat-expr: size / 271
        if: file_type == file_type::dir
        doc: Directory entries, 272 bytes apart.
      target:
        io: _parent._io
        pos: ofs_data
        size: size
        type: str
        encoding: UTF-8
        if: file_type == file_type::symlink
        doc: Symlink target (a NUL follows it).
      data:
        io: _parent._io
        pos: ofs_data
        size: size
        if: >-
          file_type == file_type::regular and
          (_root.base.base_super.flags & 1) == 0
        doc: File contents (not in split images).
  dirent:
    -c-struct: daxfs_dirent
    doc: |
      Directory entry: 271 bytes of fields, padded to a 272-byte stride.
    seq:
      - id: ino
        type: u4
        doc: Child inode number.
      - id: mode
        type: u4
        doc: Child st_mode, for the readdir type without reading the inode.
      - id: name_len
        type: u2
        doc: Name length, 1..255.
      - id: reserved
        size: 6
        doc: Zero.
      - id: name_bytes
        -orig-id: name
        size: 255
        doc: Name bytes (name_len used, the rest zero); no '/' or NUL.
      - id: pad
        size: 1
        doc: Structure padding to the 272-byte stride, zero.
    instances:
      name:
        pos: 16
        size: name_len
        type: str
        encoding: UTF-8
        doc: The entry's name.
  pcache_region:
    doc: Page-cache region, header, slot records, slot data blocks.
    seq:
      - id: header
        type: pcache_header
    instances:
      slots:
        pos: header.ofs_slot_meta
        type: pcache_slot
        repeat: expr
        repeat-expr: header.num_slots
        doc: Slot records.
  pcache_header:
    -c-struct: daxfs_pcache_header
    doc: Page-cache header, one block at pcache_offset.
    seq:
      - id: magic
        type: u4
        valid: 0x70636163
        doc: Must be 0x70636163 ("pcac").
      - id: version
        type: u4
        doc: 1.
      - id: num_slots
        -orig-id: slot_count
        type: u4
        doc: Slot count, a power of two.
      - id: hash_shift
        type: u4
        doc: log2 of the slot count.
      - id: ofs_slot_meta
        -orig-id: slot_meta_offset
        type: u8
        doc: Slot records, relative to pcache_offset (4096).
      - id: ofs_slot_data
        -orig-id: slot_data_offset
        type: u8
        doc: Slot data blocks, relative to pcache_offset.
      - id: evict_hand
        type: u4
        doc: Clock hand of the eviction sweep.
      - id: pending_count
        type: u4
        doc: Slots in the PENDING state.
      - id: reserved
        size: 4056
        doc: Zero.
  pcache_slot:
    -c-struct: daxfs_pcache_slot
    doc: One cache slot record; every transition is a compare-and-swap.
    seq:
      - id: state_tag
        type: u8
        doc: Bits 1..0 pcache_state; bits 63..2 the backing page index.
      - id: ref_bit
        type: u4
        doc: Set on access, cleared by the clock sweep.
      - id: reserved
        type: u4
        doc: 0.
    instances:
      state:
        value: state_tag & 3
        enum: pcache_state
        doc: Slot state.
enums:
  branch_state:
    0: free
    1: active
    2: committed
    3: aborted
  delta_type:
    1: write
    2: create
    3: delete
    4: truncate
    5: mkdir
    6: rename
    7: setattr
    8: symlink
    9: link
    10: utimes
  setattr_valid:
    1: mode
    2: uid
    4: gid
    8: size
  pcache_state:
    0: free
    1: pending
    2: valid
  base_flags:
    1: external_data
  super_feature:
    1: link
    2: utimes
    4: base_mtime
  utimes_valid:
    1: atime
    2: mtime
  file_type:
    0x8000: regular
    0x4000: dir
    0xa000: symlink
