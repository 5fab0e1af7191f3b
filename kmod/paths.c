// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Link objects and the list of trees an unprivileged task may pick (/proc/chos/valid).
 *
 * The list changes only through root's writes (chos_valid_lock); setchos searches it without a
 * lock under RCU. Each listed path holds one reference; each process whose link it is holds
 * another. A path is listed only when it names a trusted tree (chos_tree_check), and is stored
 * as the kernel resolved it, so a link never depends on a later walk of a name someone else
 * could change.
 *
 * Every live object, listed or not, is also on the live list, which /proc/chos/held reads: a
 * path no longer listed still leads the processes holding it into its tree, so `chos setup`
 * asks there before it takes that tree's mount away (a replaced image's old one).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fs_struct.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "chos.h"

static LIST_HEAD(chos_valid);	      /* struct chos_path.valid_node, in insertion order */
static DEFINE_MUTEX(chos_valid_lock); /* serializes writers of chos_valid */
static unsigned int chos_valid_count; /* entries on chos_valid (chos_valid_lock) */
/*
 * struct chos_path.live_node. Added to in process context (chos_path_new), removed from by the
 * RCU callback that frees the object, which runs in softirq context: hence the _bh variants.
 * The probes never take it: chos_path_put only queues that callback.
 */
static LIST_HEAD(chos_live);
static DEFINE_SPINLOCK(chos_live_lock);

/*
 * Checks one control-file write: an absolute path of at most CHOS_PATH_MAX bytes with no NUL or
 * newline inside, optionally followed by the single newline `echo` adds. Returns the path's
 * length (without that newline) or -EINVAL.
 */
ssize_t chos_parse_path(const char *buf, size_t count)
{
	size_t len = count;

	if (len && buf[len - 1] == '\n')
		len--;
	if (len == 0 || len > CHOS_PATH_MAX || buf[0] != '/')
		return -EINVAL;
	if (memchr(buf, '\0', len) || memchr(buf, '\n', len))
		return -EINVAL;
	return len;
}

static struct chos_path *chos_path_new(const char *name, size_t len)
{
	struct chos_path *path = kmalloc(struct_size(path, name, len + 1), GFP_KERNEL);

	if (!path)
		return NULL;
	/* Every field set here: the allocator may hand back a freed object's bytes. */
	refcount_set(&path->ref, 1);
	INIT_LIST_HEAD(&path->valid_node);
	path->listed = false;
	path->withdrawn = false;
	path->len = len;
	memcpy(path->name, name, len);
	path->name[len] = '\0';
	spin_lock_bh(&chos_live_lock);
	list_add_tail(&path->live_node, &chos_live);
	spin_unlock_bh(&chos_live_lock);
	atomic_long_inc(&chos_stats.links);
	return path;
}

/* Takes a reference on a path found under rcu_read_lock(); NULL if it is being freed. */
struct chos_path *chos_path_tryget(struct chos_path *path)
{
	return path && refcount_inc_not_zero(&path->ref) ? path : NULL;
}

static void chos_path_free_rcu(struct rcu_head *rcu)
{
	struct chos_path *path = container_of(rcu, struct chos_path, rcu);

	spin_lock_bh(&chos_live_lock);
	list_del(&path->live_node);
	spin_unlock_bh(&chos_live_lock);
	kfree(path);
}

/*
 * Drops a reference; the last one frees the path after readers of it are gone. Any context,
 * the fork and exit probes included: call_rcu() only queues the callback (tasks.c's header says
 * why the probes need that), and the kfree happens in it.
 */
void chos_path_put(struct chos_path *path)
{
	if (path && refcount_dec_and_test(&path->ref)) {
		atomic_long_dec(&chos_stats.links);
		if (path->withdrawn)
			atomic_long_dec(&chos_stats.withdrawn);
		call_rcu(&path->rcu, chos_path_free_rcu);
	}
}

/* Returns a reference to the listed path equal to name, or NULL. Never sleeps. */
struct chos_path *chos_valid_find(const char *name, size_t len)
{
	struct chos_path *path, *found = NULL;

	rcu_read_lock();
	list_for_each_entry_rcu(path, &chos_valid, valid_node) {
		if (path->len == len && !memcmp(path->name, name, len)) {
			found = chos_path_tryget(path);
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/*
 * Whether every directory from the tree at *p up to the caller's root is root-owned and not
 * group- or world-writable: otherwise someone else could replace what the name leads to.
 * Mount points are crossed upwards (follow_up), so a tree on its own mount is judged with the
 * directories it is mounted on.
 */
static int chos_tree_trusted(const struct path *tree)
{
	struct path root, cur = *tree;
	int err = 0;

	get_fs_root(current->fs, &root);
	path_get(&cur);
	for (;;) {
		const struct inode *inode = d_inode(cur.dentry);

		if (!uid_eq(inode->i_uid, GLOBAL_ROOT_UID) ||
		    (inode->i_mode & (S_IWGRP | S_IWOTH))) {
			err = -EPERM;
			break;
		}
		if (path_equal(&cur, &root))
			break;
		if (cur.dentry == cur.mnt->mnt_root) {
			if (!follow_up(&cur))
				break; /* the top of the mount tree */
			continue;
		}
		{
			struct dentry *parent = dget_parent(cur.dentry);

			dput(cur.dentry);
			cur.dentry = parent;
		}
	}
	path_put(&cur);
	path_put(&root);
	return err;
}

/*
 * Resolves name to the tree it names now: a directory (-ENOENT, -ENOTDIR otherwise) that passes
 * chos_tree_trusted (-EPERM), written to buf (size bytes) as its canonical path, without
 * symlinks. Returns the canonical path's start inside buf, or an ERR_PTR.
 */
static char *chos_tree_check(const char *name, char *buf, int size)
{
	struct path tree;
	char *canonical;
	int err;

	err = kern_path(name, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &tree);
	if (err)
		return ERR_PTR(err);
	err = chos_tree_trusted(&tree);
	canonical = err ? ERR_PTR(err) : d_path(&tree, buf, size);
	path_put(&tree);
	return canonical;
}

/*
 * Lists the tree name (already checked by chos_parse_path) names, by its canonical path.
 * Listing it again is a no-op.
 */
int chos_valid_add(const char *name, size_t len)
{
	struct chos_path *path = NULL, *listed;
	char *buf, *canonical;
	int err = 0;

	/* The write's buffer may hold the newline `echo` adds after the name's len bytes. */
	buf = kmalloc(PATH_MAX + len + 1, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	memcpy(buf + PATH_MAX, name, len);
	buf[PATH_MAX + len] = '\0';
	canonical = chos_tree_check(buf + PATH_MAX, buf, PATH_MAX);
	if (IS_ERR(canonical)) {
		err = PTR_ERR(canonical);
		goto out_free;
	}
	len = strlen(canonical);
	/* "/" is the host view every task starts on: it needs no listing and gets none. */
	if (len == 1 || len > CHOS_PATH_MAX) {
		err = -EINVAL;
		goto out_free;
	}
	path = chos_path_new(canonical, len);
	if (!path) {
		err = -ENOMEM;
		goto out_free;
	}

	mutex_lock(&chos_valid_lock);
	list_for_each_entry(listed, &chos_valid, valid_node) {
		if (listed->len == len && !memcmp(listed->name, canonical, len))
			goto out_unlock;
	}
	if (chos_valid_count >= CHOS_VALID_MAX) {
		err = -ENOSPC;
		goto out_unlock;
	}
	list_add_tail_rcu(&path->valid_node, &chos_valid);
	path->listed = true;
	chos_valid_count++;
	path = NULL; /* the list owns it now */
out_unlock:
	mutex_unlock(&chos_valid_lock);
out_free:
	chos_path_put(path);
	kfree(buf);
	return err;
}

/*
 * Takes the listed path equal to name out of the list (-ENOENT if it is not listed) and marks
 * it withdrawn: every process whose link it is sees the host view ("/") from now on.
 */
int chos_valid_withdraw(const char *name, size_t len)
{
	struct chos_path *path;
	int err = -ENOENT;

	mutex_lock(&chos_valid_lock);
	list_for_each_entry(path, &chos_valid, valid_node) {
		if (path->len == len && !memcmp(path->name, name, len)) {
			list_del_rcu(&path->valid_node);
			path->listed = false;
			chos_valid_count--;
			WRITE_ONCE(path->withdrawn, true);
			atomic_long_inc(&chos_stats.withdrawn);
			chos_path_put(path);
			err = 0;
			break;
		}
	}
	mutex_unlock(&chos_valid_lock);
	return err;
}

/* Empties the list. Processes keep their links (each holds its own reference): `chos setup`
 * clears and refills the list, and sessions must survive that; -PATH withdraws a tree. */
void chos_valid_clear(void)
{
	struct chos_path *path, *next;

	mutex_lock(&chos_valid_lock);
	list_for_each_entry_safe(path, next, &chos_valid, valid_node) {
		list_del_rcu(&path->valid_node);
		path->listed = false;
		chos_path_put(path);
	}
	chos_valid_count = 0;
	mutex_unlock(&chos_valid_lock);
}

/* Reading /proc/chos/valid: one path per line, in the order they were added. */
int chos_valid_show(struct seq_file *m, void *unused)
{
	struct chos_path *path;

	mutex_lock(&chos_valid_lock);
	list_for_each_entry(path, &chos_valid, valid_node) {
		seq_write(m, path->name, path->len);
		seq_putc(m, '\n');
	}
	mutex_unlock(&chos_valid_lock);
	return 0;
}

/*
 * Reading /proc/chos/held: for each live link object not withdrawn, in the order made, the
 * number of processes whose link it is, a space and its path. A path no longer listed stays
 * while a process holds it; one listed again by a later write is a second object, so a path
 * may appear more than once: its holders are the sum. A count is a snapshot, which a fork or
 * a walk in progress may raise for a moment (the walk's own reference); it can never be 0
 * while a process holds the path. Unlisted objects nobody holds are being freed: not shown.
 */
int chos_held_show(struct seq_file *m, void *unused)
{
	struct chos_path *path;

	mutex_lock(&chos_valid_lock); /* keeps each object's `listed` still */
	spin_lock_bh(&chos_live_lock);
	list_for_each_entry(path, &chos_live, live_node) {
		unsigned int refs = refcount_read(&path->ref);

		/* The valid list's own reference is not a process's. */
		if (refs && !chos_path_withdrawn(path))
			seq_printf(m, "%u %s\n", refs - path->listed, path->name);
	}
	spin_unlock_bh(&chos_live_lock);
	mutex_unlock(&chos_valid_lock);
	return 0;
}
