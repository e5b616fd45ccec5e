// SPDX-License-Identifier: GPL-2.0
/*
 * DAXFS: registration, mount options (fs_context, SPEC 3.1), the mount
 * sequence (SPEC 3.2), remount commit/abort (SPEC 3.9), statfs and option
 * display (SPEC 3.12). Main and static images mount read-only; a child
 * branch (branch=NAME[,parent=PARENT]) mounts writable. A split image
 * (SPEC 5) mounts with backing=PATH as a host of its page cache, without as
 * a spawn mount (pcache.c).
 */
#include <linux/dma-buf.h>
#include <linux/fs_parser.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/statfs.h>

#include "internal.h"

enum { Opt_phys, Opt_size, Opt_dmabuf, Opt_name, Opt_branch, Opt_parent,
	Opt_commit, Opt_abort, Opt_validate, Opt_backing, Opt_static };

static const struct fs_parameter_spec daxfs_param_spec[] = {
	fsparam_u64("phys", Opt_phys),
	fsparam_u64("size", Opt_size),
	fsparam_fd("dmabuf", Opt_dmabuf),
	fsparam_string("name", Opt_name),
	fsparam_string("branch", Opt_branch),
	fsparam_string("parent", Opt_parent),
	fsparam_flag("commit", Opt_commit),
	fsparam_flag("abort", Opt_abort),
	fsparam_flag("validate", Opt_validate),
	fsparam_string("backing", Opt_backing),
	fsparam_flag("static", Opt_static),	/* shown in /proc/mounts */
	{}
};

static int daxfs_parse_param(struct fs_context *fc, struct fs_parameter *param)
{
	struct daxfs_mount_opts *opts = fc->fs_private;
	struct fs_parse_result result;
	int opt = fs_parse(fc, daxfs_param_spec, param, &result);

	if (opt < 0)
		return opt;
	/*
	 * A remount repeats what /proc/mounts shows (mount(8) does); the
	 * source and branch of a mount cannot change, so those are ignored.
	 */
	if (fc->purpose == FS_CONTEXT_FOR_RECONFIGURE && opt != Opt_commit &&
	    opt != Opt_abort)
		return 0;
	switch (opt) {
	case Opt_phys:
		opts->phys = result.uint_64;
		break;
	case Opt_size:
		opts->size = result.uint_64;
		break;
	case Opt_dmabuf:
		opts->dmabuf_fd = result.uint_32;
		break;
	case Opt_validate:
		opts->validate = true;
		break;
	case Opt_commit:
		opts->commit = true;
		break;
	case Opt_abort:
		opts->abort = true;
		break;
	case Opt_name:
		kfree(opts->name);
		opts->name = param->string;
		param->string = NULL;
		break;
	case Opt_branch:
		kfree(opts->branch);
		opts->branch = param->string;
		param->string = NULL;
		break;
	case Opt_parent:
		kfree(opts->parent);
		opts->parent = param->string;
		param->string = NULL;
		break;
	case Opt_backing:
		kfree(opts->backing);
		opts->backing = param->string;
		param->string = NULL;
		break;
	}
	return 0;
}

static int daxfs_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(dentry->d_sb);
	const struct daxfs_super *s = daxfs_mem(sbi, 0, sizeof(*s));

	buf->f_type = DAXFS_SUPER_MAGIC;
	buf->f_bsize = DAXFS_BLOCK_SIZE;
	buf->f_blocks = sbi->size / DAXFS_BLOCK_SIZE;
	buf->f_namelen = DAXFS_NAME_MAX;
	buf->f_files = sbi->inode_count;
	if (!sbi->static_image && s) {
		u64 region = le64_to_cpu(s->delta_region_offset);
		u64 region_size = le64_to_cpu(s->delta_region_size);
		u64 used = le64_to_cpu(s->delta_alloc_offset) - region;

		/* Read live: other kernels allocate from the same region. */
		if (used <= region_size)
			buf->f_bfree = buf->f_bavail = (region_size - used) / DAXFS_BLOCK_SIZE;
		buf->f_files = le64_to_cpu(s->next_inode_id);
		buf->f_ffree = U32_MAX;
	}
	return 0;
}

static int daxfs_show_options(struct seq_file *m, struct dentry *root)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(root->d_sb);

	if (sbi->opts.name)
		seq_show_option(m, "name", sbi->opts.name);
	if (sbi->dmabuf)
		seq_puts(m, ",source=dmabuf");
	else
		seq_printf(m, ",phys=%#llx", sbi->phys);
	seq_printf(m, ",size=%llu", sbi->size);
	if (sbi->opts.validate)
		seq_puts(m, ",validate");
	if (daxfs_pcache_host(sbi))
		seq_show_option(m, "backing", sbi->opts.backing);
	/*
	 * The branch options as the user gave them (docs/kernel.md "Mount
	 * options"), so a line of /proc/mounts mounts the same branch again:
	 * none for main, parent= only for a mount that created its branch.
	 */
	if (sbi->static_image) {
		seq_puts(m, ",static");
	} else if (sbi->opts.branch) {
		seq_show_option(m, "branch", sbi->opts.branch);
		if (sbi->opts.parent)
			seq_show_option(m, "parent", sbi->opts.parent);
	}
	return 0;
}

/* /proc/self/mountstats: page-cache counters of split images. */
static int daxfs_show_stats(struct seq_file *m, struct dentry *root)
{
	daxfs_pcache_show_stats(m, DAXFS_SB(root->d_sb));
	return 0;
}

static const struct super_operations daxfs_sops = {
	.alloc_inode = daxfs_alloc_inode,
	.free_inode = daxfs_free_inode,
	.evict_inode = daxfs_evict_inode,
	.statfs = daxfs_statfs,
	.show_options = daxfs_show_options,
	.show_stats = daxfs_show_stats,
};

/* SPEC 3.2 steps 2-4: superblock, base geometry, validation. */
static int daxfs_load_super(struct fs_context *fc, struct daxfs_sb_info *sbi,
			    const struct daxfs_super *s)
{
	struct daxfs_base_super *bs;
	bool external;
	int err;

	if (le32_to_cpu(s->magic) != DAXFS_SUPER_MAGIC || le32_to_cpu(s->version) != DAXFS_VERSION)
		return invalfc(fc, "bad superblock magic %#x or version %u",
			       le32_to_cpu(s->magic), le32_to_cpu(s->version));
	/* A feature this module does not know may change what any byte means. */
	if (le32_to_cpu(s->flags) & ~DAXFS_KNOWN_FEATURES)
		return invalfc(fc, "unknown superblock feature bits %#x",
			       le32_to_cpu(s->flags) & ~DAXFS_KNOWN_FEATURES);
	if (sbi->opts.validate) {
		err = daxfs_validate_super(sbi, s);
		if (err)
			return err;
	}
	sbi->static_image = !le32_to_cpu(s->branch_table_entries);
	if (!sbi->static_image) {
		sbi->table = le64_to_cpu(s->branch_table_offset);
		sbi->table_entries = le32_to_cpu(s->branch_table_entries);
		sbi->region = le64_to_cpu(s->delta_region_offset);
		sbi->region_size = le64_to_cpu(s->delta_region_size);
		if (sbi->table_entries > DAXFS_MAX_BRANCHES ||
		    !daxfs_mem(sbi, sbi->table, (u64)sbi->table_entries * sizeof(struct daxfs_branch)))
			return invalfc(fc, "branch table outside the image");
		if (!sbi->region || !daxfs_mem(sbi, sbi->region, sbi->region_size))
			return invalfc(fc, "delta region outside the image");
	}
	sbi->base_offset = le64_to_cpu(s->base_offset);
	sbi->base_size = le64_to_cpu(s->base_size);
	if (!sbi->base_offset)
		return 0;
	/* A copy of the fields before the reserved tail, checked and used once. */
	bs = kmalloc(sizeof(*bs), GFP_KERNEL);
	if (!bs)
		return -ENOMEM;
	err = daxfs_read(sbi, sbi->base_offset, bs, offsetof(typeof(*bs), reserved));
	if (err)
		errorfc(fc, "base superblock at %#llx is outside the image", sbi->base_offset);
	else if (le32_to_cpu(bs->magic) != DAXFS_BASE_MAGIC ||
		 le32_to_cpu(bs->version) != DAXFS_VERSION)
		errorfc(fc, "bad base magic %#x or version %u", le32_to_cpu(bs->magic),
			le32_to_cpu(bs->version));
	sbi->inode_table = sbi->base_offset + le64_to_cpu(bs->inode_offset);
	sbi->inode_count = le32_to_cpu(bs->inode_count);
	sbi->external_data = !!s->pcache_offset;
	if (err || le32_to_cpu(bs->magic) != DAXFS_BASE_MAGIC ||
	    le32_to_cpu(bs->version) != DAXFS_VERSION) {
		kfree(bs);
		return -EINVAL;
	}
	external = le32_to_cpu(bs->flags) & DAXFS_BASE_EXTERNAL_DATA;
	kfree(bs);
	if (sbi->opts.validate) {
		err = daxfs_validate_base(sbi);
		if (!err)
			err = daxfs_validate_branching(sbi, s);
		if (err)
			return err;
	}
	/*
	 * SPEC 5 reads file data through the page cache whenever there is one;
	 * @daxfs/core goes by the base flag. Both agree only when the two do.
	 */
	if (!external != !s->pcache_offset)
		return invalfc(fc, "base flag EXTERNAL_DATA %s, but the image %s a page cache",
			       external ? "set" : "unset", external ? "has no" : "has");
	if (s->pcache_offset)
		return daxfs_pcache_init(fc, sbi, s);
	if (sbi->opts.backing)
		return invalfc(fc, "backing=%s: the image is not a split image", sbi->opts.backing);
	return 0;
}

static int daxfs_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct daxfs_sb_info *sbi;
	struct daxfs_super *s;
	struct inode *root;
	int err;

	sbi = kzalloc(sizeof(*sbi), GFP_KERNEL);
	if (!sbi)
		return -ENOMEM;
	sbi->opts = *(struct daxfs_mount_opts *)fc->fs_private;
	/* The options now belong to the superblock. */
	memset(fc->fs_private, 0, sizeof(sbi->opts));
	mutex_init(&sbi->lock);
	sbi->sb = sb;
	sb->s_fs_info = sbi;

	sb->s_magic = DAXFS_SUPER_MAGIC;
	sb->s_op = &daxfs_sops;
	sb->s_flags |= SB_RDONLY | SB_NOATIME;
	sb->s_blocksize = DAXFS_BLOCK_SIZE;
	sb->s_blocksize_bits = ilog2(DAXFS_BLOCK_SIZE);
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_time_gran = 1;

	err = daxfs_map(fc, sbi);
	if (err)
		return err;
	/* One copy, checked and used: other kernels may write the image meanwhile. */
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (daxfs_read(sbi, 0, s, sizeof(*s))) {
		kfree(s);
		return invalfc(fc, "image of %llu bytes is smaller than a superblock", sbi->size);
	}
	err = daxfs_load_super(fc, sbi, s);
	/* A damaged main record refuses the mount: the base alone would lose its commits. */
	if (!err && !sbi->static_image) {
		err = daxfs_check_main_record(sbi, s);
		err = err == -ENOENT || err >= 0 ? 0 : err;
	}
	kfree(s);
	if (err)
		return err;
	if (!sbi->static_image) {
		err = daxfs_select_branch(fc, sbi);
		if (err)
			return err;
		/* From here a failed mount drops the branch it made (SPEC 3.2 step 8). */
		sbi->drop_on_umount = sbi->writable && !(fc->sb_flags & SB_RDONLY);
		mutex_lock(&sbi->lock);
		err = daxfs_build_index(sbi);
		mutex_unlock(&sbi->lock);
		if (err)
			return err == -ENOMEM || err == -ESTALE ? err : -EINVAL;
		sb->s_d_op = &daxfs_dops;
		/* A child branch is writable unless the caller asked for ro (SPEC 3.2). */
		if (sbi->drop_on_umount)
			sb->s_flags &= ~SB_RDONLY;
	}

	root = daxfs_iget(sb, DAXFS_ROOT_INO);
	if (IS_ERR(root))
		return PTR_ERR(root);
	if (!S_ISDIR(root->i_mode)) {
		iput(root);
		return invalfc(fc, "root inode is not a directory");
	}
	sb->s_root = d_make_root(root);
	return sb->s_root ? 0 : -ENOMEM;
}

static int daxfs_get_tree(struct fs_context *fc)
{
	return get_tree_nodev(fc, daxfs_fill_super);
}

static int daxfs_reconfigure(struct fs_context *fc)
{
	struct daxfs_mount_opts *opts = fc->fs_private;
	struct super_block *sb = fc->root->d_sb;
	struct daxfs_sb_info *sbi = DAXFS_SB(sb);
	int err;

	if ((opts->commit || opts->abort) && !sbi->writable) {
		errorfc(fc, "%s: main cannot be committed or aborted",
			opts->commit ? "commit" : "abort");
		return -EOPNOTSUPP;
	}
	if (!sbi->writable && !(fc->sb_flags & SB_RDONLY))
		return -EROFS;	/* main stays read-only (SPEC 3.9.4) */
	sync_filesystem(sb);
	if (!opts->commit && !opts->abort)
		return 0;
	/* commit takes precedence over abort (SPEC 3.9.4). */
	mutex_lock(&sbi->lock);
	err = sbi->stale ? -ESTALE : opts->commit ? daxfs_commit(sbi) : daxfs_abort(sbi);
	mutex_unlock(&sbi->lock);
	if (err == -EBUSY)
		errorfc(fc, "%s: the branch has active children", opts->commit ? "commit" : "abort");
	else if (err)
		errorfc(fc, "%s failed (%d)", opts->commit ? "commit" : "abort", err);
	if (!err) {
		shrink_dcache_sb(sb);	/* every later lookup answers ESTALE */
		daxfs_zap_mappings(sb);	/* and every mapping SIGBUS */
	}
	return err;
}

static void daxfs_free_opts(struct daxfs_mount_opts *opts)
{
	kfree(opts->name);
	kfree(opts->branch);
	kfree(opts->parent);
	kfree(opts->backing);
}

static void daxfs_free_fc(struct fs_context *fc)
{
	struct daxfs_mount_opts *opts = fc->fs_private;

	if (opts) {
		daxfs_free_opts(opts);
		kfree(opts);
	}
}

static const struct fs_context_operations daxfs_context_ops = {
	.parse_param = daxfs_parse_param,
	.get_tree = daxfs_get_tree,
	.reconfigure = daxfs_reconfigure,
	.free = daxfs_free_fc,
};

static int daxfs_init_fs_context(struct fs_context *fc)
{
	struct daxfs_mount_opts *opts = kzalloc(sizeof(*opts), GFP_KERNEL);

	if (!opts)
		return -ENOMEM;
	opts->dmabuf_fd = -1;
	fc->fs_private = opts;
	fc->ops = &daxfs_context_ops;
	return 0;
}

static void daxfs_kill_sb(struct super_block *sb)
{
	struct daxfs_sb_info *sbi = DAXFS_SB(sb);

	kill_anon_super(sb);
	if (!sbi)
		return;
	daxfs_drop(sbi);
	daxfs_pcache_exit(sbi);
	daxfs_free_overlay(sbi);
	kfree(sbi->levels);
	daxfs_unmap(sbi);
	daxfs_free_opts(&sbi->opts);
	kfree(sbi);
}

static struct file_system_type daxfs_fs_type = {
	.owner = THIS_MODULE,
	.name = "daxfs",
	.init_fs_context = daxfs_init_fs_context,
	.parameters = daxfs_param_spec,
	.kill_sb = daxfs_kill_sb,
};
MODULE_ALIAS_FS("daxfs");

static int __init daxfs_init(void)
{
	int err;

	daxfs_inode_cachep = kmem_cache_create("daxfs_inode",
					       sizeof(struct daxfs_inode_info), 0,
					       SLAB_RECLAIM_ACCOUNT | SLAB_ACCOUNT,
					       daxfs_inode_init_once);
	if (!daxfs_inode_cachep)
		return -ENOMEM;
	err = register_filesystem(&daxfs_fs_type);
	if (err)
		kmem_cache_destroy(daxfs_inode_cachep);
	return err;
}

static void __exit daxfs_exit(void)
{
	unregister_filesystem(&daxfs_fs_type);
	rcu_barrier();	/* inodes are freed after an RCU grace period */
	kmem_cache_destroy(daxfs_inode_cachep);
}

module_init(daxfs_init);
module_exit(daxfs_exit);
MODULE_DESCRIPTION("DAXFS: shared-memory filesystem with copy-on-write branches");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(DMA_BUF);
