// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * chosfs: the files under /proc/chos. Interface and semantics: kmod/README.md.
 *
 *   link       symlink to the calling task's tree ("/" when it has none)
 *   setchos    write a listed path: becomes the caller's link
 *   resetchos  any write: back to the host view
 *   valid      root only: write a path to list it, "-" to clear; read to list
 *   version    "chos <version>"
 *   stats      live entries, live link objects, forks that found no entry ready
 *   held       root only: how many processes each live link object leads, and its path
 *
 * The module makes the mount point with proc_create_mount_point(); `chos setup` runs
 * `mount -t chosfs chosfs /proc/chos`. While mounted, the superblock pins the module.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "chos.h"
#include "compat.h"

#define CHOS_SUPER_MAGIC 0x63686f73 /* "chos" */

struct chos_stats chos_stats;			/* shown by /proc/chos/stats */
static struct proc_dir_entry *chos_mount_point; /* the empty /proc/chos directory */

/*
 * Copies one control-file write into a NUL-terminated kernel buffer. A write is one whole
 * request: at offset 0, 1..CHOS_WRITE_MAX bytes; anything else is -EINVAL, before any effect.
 */
static char *chos_copy_write(const char __user *ubuf, size_t count, loff_t *ppos)
{
	if (*ppos != 0 || count == 0 || count > CHOS_WRITE_MAX)
		return ERR_PTR(-EINVAL);
	return memdup_user_nul(ubuf, count);
}

/* ---- link ---------------------------------------------------------------------------------- */

static void chos_put_link(void *path)
{
	chos_path_put(path);
}

/*
 * As fs/proc/self.c: the target is computed for the caller on every walk and released by a
 * delayed call; nothing is cached in the dentry or the inode. RCU walk (dentry == NULL) is
 * served the same way, since the lookup takes no lock, allocates nothing and never sleeps.
 * The delayed call runs before the walk drops its reference on this mount (or, in RCU walk,
 * before it leaves the read-side section), so the module is still here when it runs.
 */
static const char *chos_get_link(struct dentry *dentry, struct inode *inode,
				 struct delayed_call *done)
{
	struct chos_path *path = chos_task_link();

	if (!path)
		return "/";
	set_delayed_call(done, chos_put_link, path);
	return path->name;
}

static const struct inode_operations chos_link_iops = {
	.get_link = chos_get_link,
};

/* ---- setchos ------------------------------------------------------------------------------- */

static ssize_t chos_setchos_write(struct file *file, const char __user *ubuf, size_t count,
				  loff_t *ppos)
{
	struct chos_path *path = NULL;
	ssize_t len;
	int err;
	char *buf;

	buf = chos_copy_write(ubuf, count, ppos);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	len = chos_parse_path(buf, count);
	if (len < 0) {
		err = len;
		goto out_free;
	}
	/* "/" is the host view; anything else must be listed, -ENOENT otherwise (as the seed). */
	if (len > 1) {
		path = chos_valid_find(buf, len);
		if (!path) {
			err = -ENOENT;
			goto out_free;
		}
	}
	err = chos_task_set(path);
out_free:
	kfree(buf);
	return err ? err : count;
}

static const struct file_operations chos_setchos_fops = {
	.write = chos_setchos_write,
	.llseek = noop_llseek,
};

/* ---- resetchos ----------------------------------------------------------------------------- */

static ssize_t chos_resetchos_write(struct file *file, const char __user *ubuf, size_t count,
				    loff_t *ppos)
{
	/* The content does not matter, but the size and offset rules are the same as setchos's. */
	if (*ppos != 0 || count == 0 || count > CHOS_WRITE_MAX)
		return -EINVAL;
	return chos_task_set(NULL) ?: count;
}

static const struct file_operations chos_resetchos_fops = {
	.write = chos_resetchos_write,
	.llseek = noop_llseek,
};

/* ---- valid, held --------------------------------------------------------------------------- */

/*
 * The list decides which trees every user may enter, and `held` says who uses which: only the
 * administrator reads them or edits the list. Anyone else gets EPERM (a privileged operation),
 * rather than the mode bits' EACCES.
 */
static int chos_root_permission(CHOS_PERMISSION_ARGS(inode, mask))
{
	if ((mask & (MAY_READ | MAY_WRITE)) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	return chos_generic_permission(inode, mask);
}

static const struct inode_operations chos_root_iops = {
	.permission = chos_root_permission,
};

static int chos_valid_open(struct inode *inode, struct file *file)
{
	return single_open(file, chos_valid_show, NULL);
}

static ssize_t chos_valid_write(struct file *file, const char __user *ubuf, size_t count,
				loff_t *ppos)
{
	ssize_t len;
	int err;
	char *buf;

	/* Both the opener and the writer must be root: a passed descriptor grants nothing. */
	if (!file_ns_capable(file, &init_user_ns, CAP_SYS_ADMIN) || !capable(CAP_SYS_ADMIN))
		return -EPERM;
	buf = chos_copy_write(ubuf, count, ppos);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	/* Compared by length: "-" followed by a NUL and more is malformed, not a clear. */
	if ((count == 1 || (count == 2 && buf[1] == '\n')) && buf[0] == '-') {
		chos_valid_clear();
		err = 0;
		goto out_free;
	}
	if (count > 1 && buf[0] == '-') {
		len = chos_parse_path(buf + 1, count - 1);
		err = len < 0 ? len : chos_valid_withdraw(buf + 1, len);
		goto out_free;
	}
	len = chos_parse_path(buf, count);
	err = len < 0 ? len : chos_valid_add(buf, len);
out_free:
	kfree(buf);
	return err ? err : count;
}

static const struct file_operations chos_valid_fops = {
	.open = chos_valid_open,
	.read = seq_read,
	.write = chos_valid_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static int chos_held_open(struct inode *inode, struct file *file)
{
	return single_open(file, chos_held_show, NULL);
}

static const struct file_operations chos_held_fops = {
	.open = chos_held_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/* ---- version ------------------------------------------------------------------------------- */

static int chos_version_show(struct seq_file *m, void *unused)
{
	seq_puts(m, "chos " CHOS_VERSION "\n");
	return 0;
}

static int chos_version_open(struct inode *inode, struct file *file)
{
	return single_open(file, chos_version_show, NULL);
}

static const struct file_operations chos_version_fops = {
	.open = chos_version_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/* ---- stats --------------------------------------------------------------------------------- */

static int chos_stats_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "entries %ld\nlinks %ld\nalloc_failures %ld\nwithdrawn %ld\n",
		   atomic_long_read(&chos_stats.entries), atomic_long_read(&chos_stats.links),
		   atomic_long_read(&chos_stats.alloc_failures),
		   atomic_long_read(&chos_stats.withdrawn));
	return 0;
}

static int chos_stats_open(struct inode *inode, struct file *file)
{
	return single_open(file, chos_stats_show, NULL);
}

static const struct file_operations chos_stats_fops = {
	.open = chos_stats_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = single_release,
};

/* ---- superblock ---------------------------------------------------------------------------- */

/* The directory's entries; inode numbers follow the table, the root being 1. */
static const struct chos_file {
	const char *name;
	umode_t mode;
	const struct inode_operations *iops;
	const struct file_operations *fops;
} chos_files[] = {
	{ "link", S_IFLNK | 0777, &chos_link_iops, NULL },
	{ "setchos", S_IFREG | 0222, NULL, &chos_setchos_fops },
	{ "resetchos", S_IFREG | 0222, NULL, &chos_resetchos_fops },
	{ "valid", S_IFREG | 0600, &chos_root_iops, &chos_valid_fops },
	{ "version", S_IFREG | 0444, NULL, &chos_version_fops },
	{ "stats", S_IFREG | 0444, NULL, &chos_stats_fops },
	{ "held", S_IFREG | 0400, &chos_root_iops, &chos_held_fops },
};

static const struct super_operations chos_super_ops = {
	.statfs = simple_statfs,
};

static struct inode *chos_new_inode(struct super_block *sb, unsigned long ino, umode_t mode)
{
	struct inode *inode = new_inode(sb);

	if (!inode)
		return NULL;
	inode->i_ino = ino;
	inode->i_mode = mode;
	chos_touch_inode(inode);
	return inode;
}

/*
 * simple_fill_super() makes regular files only; chosfs also needs a symlink and a permission
 * hook, so the same steps are spelled out here. On failure the VFS calls chos_kill_sb
 * (compat.h), which frees whatever was attached to the root.
 */
static int chos_fill_super(struct super_block *sb, struct fs_context *fc)
{
	struct inode *inode;
	struct dentry *dentry;
	size_t i;

	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	sb->s_magic = CHOS_SUPER_MAGIC;
	sb->s_op = &chos_super_ops;
	sb->s_time_gran = 1;

	inode = chos_new_inode(sb, 1, S_IFDIR | 0555);
	if (!inode)
		return -ENOMEM;
	inode->i_op = &simple_dir_inode_operations;
	inode->i_fop = &simple_dir_operations;
	set_nlink(inode, 2);
	sb->s_root = d_make_root(inode);
	if (!sb->s_root)
		return -ENOMEM;

	for (i = 0; i < ARRAY_SIZE(chos_files); i++) {
		const struct chos_file *file = &chos_files[i];

		dentry = d_alloc_name(sb->s_root, file->name);
		if (!dentry)
			return -ENOMEM;
		inode = chos_new_inode(sb, i + 2, file->mode);
		if (!inode) {
			dput(dentry);
			return -ENOMEM;
		}
		/* The link's target is computed for each caller, so its access time means nothing;
		 * without it, every walk through the link skips atime_needs_update's clock read. */
		if (S_ISLNK(file->mode))
			inode->i_flags |= S_NOATIME;
		if (file->iops)
			inode->i_op = file->iops;
		if (file->fops)
			inode->i_fop = file->fops;
		chos_add_file(dentry, inode);
	}
	return 0;
}

static int chos_get_tree(struct fs_context *fc)
{
	/* One superblock for every mount: the state is global, like binfmt_misc's. */
	return get_tree_single(fc, chos_fill_super);
}

static const struct fs_context_operations chos_context_ops = {
	.get_tree = chos_get_tree,
};

static int chos_init_fs_context(struct fs_context *fc)
{
	fc->ops = &chos_context_ops;
	return 0;
}

static struct file_system_type chos_fs_type = {
	.owner = THIS_MODULE,
	.name = "chosfs",
	.init_fs_context = chos_init_fs_context,
	.kill_sb = chos_kill_sb,
};
MODULE_ALIAS_FS("chosfs");

/* ---- init/exit ----------------------------------------------------------------------------- */

static int __init chos_init(void)
{
	int err;

	err = chos_tasks_init();
	if (err)
		return err;
	/* proc_create_mount_point says NULL only: /proc/chos exists already, or memory is short. */
	chos_mount_point = proc_create_mount_point("chos");
	if (!chos_mount_point) {
		pr_err("cannot create /proc/chos (does it exist already?)\n");
		err = -EEXIST;
		goto out_tasks;
	}
	/* Last: once registered, chosfs can be mounted, so everything it shows must be ready. */
	err = register_filesystem(&chos_fs_type);
	if (err) {
		pr_err("cannot register chosfs: error %d\n", err);
		goto out_proc;
	}
	pr_info("version " CHOS_VERSION " loaded\n");
	return 0;

out_proc:
	remove_proc_entry("chos", NULL);
out_tasks:
	chos_tasks_exit();
	return err;
}

/*
 * Only reached when no chosfs is mounted anywhere (a mount holds a module reference), so no walk
 * can start in our files. Walks that were in RCU mode when the last mount went are waited for
 * before the tables go.
 */
static void __exit chos_exit(void)
{
	unregister_filesystem(&chos_fs_type);
	remove_proc_entry("chos", NULL);
	synchronize_rcu();
	chos_tasks_exit();
	chos_valid_clear();
	/* Every link object is gone once the tasks and the list have dropped theirs. */
	if (atomic_long_read(&chos_stats.links) || atomic_long_read(&chos_stats.entries))
		pr_err("leaked %ld links, %ld entries\n", atomic_long_read(&chos_stats.links),
		       atomic_long_read(&chos_stats.entries));
	/* The entries and links just dropped are freed by call_rcu() callbacks in this module. */
	rcu_barrier();
}

module_init(chos_init);
module_exit(chos_exit);

MODULE_LICENSE("Dual BSD/GPL");
MODULE_AUTHOR("The chos authors");
MODULE_DESCRIPTION("chos: a per-process /proc/chos/link choosing the OS tree of a session");
MODULE_VERSION(CHOS_VERSION);
