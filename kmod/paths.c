// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Link objects and the list of trees an unprivileged task may pick (/proc/chos/valid).
 *
 * The list changes only through root's writes (chos_valid_lock); setchos searches it without a
 * lock under RCU. Each listed path holds one reference; each task whose link it is holds another.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "chos.h"

static LIST_HEAD(chos_valid);		/* struct chos_path.valid_node, in insertion order */
static DEFINE_MUTEX(chos_valid_lock);	/* serializes writers of chos_valid */
static unsigned int chos_valid_count;	/* entries on chos_valid (chos_valid_lock) */

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
	refcount_set(&path->ref, 1);
	INIT_LIST_HEAD(&path->valid_node);
	path->len = len;
	memcpy(path->name, name, len);
	path->name[len] = '\0';
	atomic_long_inc(&chos_stats.links);
	return path;
}

/* Takes a reference on a path found under rcu_read_lock(); NULL if it is being freed. */
struct chos_path *chos_path_tryget(struct chos_path *path)
{
	return path && refcount_inc_not_zero(&path->ref) ? path : NULL;
}

/* Drops a reference; the last one frees the path after readers of it are gone. Any context. */
void chos_path_put(struct chos_path *path)
{
	if (path && refcount_dec_and_test(&path->ref)) {
		atomic_long_dec(&chos_stats.links);
		kfree_rcu(path, rcu);
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

/* Lists name (already checked by chos_parse_path). Listing it again is a no-op. */
int chos_valid_add(const char *name, size_t len)
{
	struct chos_path *path, *listed;
	int err = 0;

	/* "/" is the host view every task starts on: it needs no listing and gets none. */
	if (len == 1)
		return -EINVAL;
	path = chos_path_new(name, len);
	if (!path)
		return -ENOMEM;

	mutex_lock(&chos_valid_lock);
	list_for_each_entry(listed, &chos_valid, valid_node) {
		if (listed->len == len && !memcmp(listed->name, name, len))
			goto out_unlock;
	}
	if (chos_valid_count >= CHOS_VALID_MAX) {
		err = -ENOSPC;
		goto out_unlock;
	}
	list_add_tail_rcu(&path->valid_node, &chos_valid);
	chos_valid_count++;
	path = NULL;	/* the list owns it now */
out_unlock:
	mutex_unlock(&chos_valid_lock);
	chos_path_put(path);
	return err;
}

/* Empties the list. Tasks keep their links: each holds its own reference. */
void chos_valid_clear(void)
{
	struct chos_path *path, *next;

	mutex_lock(&chos_valid_lock);
	list_for_each_entry_safe(path, next, &chos_valid, valid_node) {
		list_del_rcu(&path->valid_node);
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
