/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the parts of chos.ko share: link objects (paths.c), per-task links (tasks.c) and the
 * counters shown in /proc/chos/stats. The interface is described in kmod/README.md.
 */
#ifndef CHOS_H
#define CHOS_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/types.h>

/* The version comes from the build (Kbuild: CHOS_VERSION=, which kmod/Makefile, the CMake build
 * and dkms.conf pass), so the module and the rest of chos never disagree. */
#ifndef CHOS_VERSION
#error "CHOS_VERSION is not set: build through kmod/Makefile, CMake or DKMS"
#endif

/*
 * Longest path accepted, NUL excluded. Trees live under short, admin-chosen roots; 1023 bytes is
 * generous for those and keeps every control-file write one small allocation.
 */
#define CHOS_PATH_MAX 1023
/* Largest control-file write: a maximal path and the trailing newline `echo` adds. */
#define CHOS_WRITE_MAX (CHOS_PATH_MAX + 1)
/* Most paths `valid` holds: a site lists a handful of trees; the cap bounds kernel memory. */
#define CHOS_VALID_MAX 256

/*
 * A link target. Shared by reference between the `valid` list and every task whose link it is;
 * freed after an RCU grace period, so lock-free readers may take a reference with
 * chos_path_tryget() under rcu_read_lock().
 */
struct chos_path {
	refcount_t ref;
	struct rcu_head rcu;
	struct list_head valid_node; /* on the valid list while listed (chos_valid_lock) */
	struct list_head live_node;  /* on the live list until freed (paths.c: chos_live_lock) */
	bool listed;		     /* on the valid list (set and cleared under chos_valid_lock) */
	bool withdrawn;		     /* taken out of valid by -PATH: links to it show "/" */
	size_t len;
	char name[]; /* NUL-terminated */
};

/* Set once, under chos_valid_lock; read without a lock (a link walk sees it or the tree). */
static inline bool chos_path_withdrawn(const struct chos_path *path)
{
	return READ_ONCE(path->withdrawn);
}

/* /proc/chos/stats. */
struct chos_stats {
	atomic_long_t entries;	      /* tasks that have a link */
	atomic_long_t links;	      /* live struct chos_path objects */
	atomic_long_t alloc_failures; /* children left without a link: no entry was ready */
	atomic_long_t withdrawn;      /* live link objects withdrawn from valid (-PATH) */
};
extern struct chos_stats chos_stats;

/* paths.c */
ssize_t chos_parse_path(const char *buf, size_t count);
struct chos_path *chos_path_tryget(struct chos_path *path);
void chos_path_put(struct chos_path *path);
struct chos_path *chos_valid_find(const char *name, size_t len);
int chos_valid_add(const char *name, size_t len);
int chos_valid_withdraw(const char *name, size_t len);
void chos_valid_clear(void);
struct seq_file;
int chos_valid_show(struct seq_file *m, void *unused);
int chos_held_show(struct seq_file *m, void *unused);

/* tasks.c */
int chos_tasks_init(void);
void chos_tasks_exit(void);
struct chos_path *chos_task_link(void); /* the calling process's */
int chos_task_set(struct chos_path *path);

#endif /* CHOS_H */
