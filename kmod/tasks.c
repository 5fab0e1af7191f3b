// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Per-task links: a hash table keyed by the task_struct pointer, filled when a task with a link
 * creates another (the sched_process_fork tracepoint, which fires for fork, vfork, clone and
 * threads before the child first runs) and emptied when a task is freed (sched_process_free).
 *
 * Only the task itself changes its entry (setchos, or its fork probe copying it to a child), and
 * the free probe only sees dead tasks, so an entry never has two writers. Readers (path walks,
 * the fork probe) use RCU and take a reference on the link they return.
 *
 * Keying by the task_struct rather than the pid means a reused pid can never find an old link:
 * the entry is gone before the task_struct's memory can be handed to a new task.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "chos.h"
#include "compat.h"

struct chos_task {
	struct rhash_head node;
	struct task_struct *task;	/* the key: compared, never dereferenced */
	struct chos_path __rcu *path;	/* never NULL: a task without a link has no entry */
	struct rcu_head rcu;
};

static const struct rhashtable_params chos_task_params = {
	.head_offset = offsetof(struct chos_task, node),
	.key_offset = offsetof(struct chos_task, task),
	.key_len = sizeof(struct task_struct *),
	.automatic_shrinking = true,
};

static struct rhashtable chos_tasks;		/* struct chos_task, one per task with a link */
static struct tracepoint *chos_tp_fork;		/* sched_process_fork, found at load */
static struct tracepoint *chos_tp_free;		/* sched_process_free, found at load */

/* Caller holds rcu_read_lock(). */
static struct chos_task *chos_task_find(struct task_struct *task)
{
	return rhashtable_lookup(&chos_tasks, &task, chos_task_params);
}

/* Removes an entry whose owner is done with it: reset, freed, or module unload. */
static void chos_task_drop(struct chos_task *entry)
{
	chos_path_put(rcu_dereference_protected(entry->path, true));
	kfree_rcu(entry, rcu);
	atomic_long_dec(&chos_stats.entries);
}

/*
 * The calling task's link with a reference held, or NULL for the host view. Lock-free and never
 * sleeps, so path walks in RCU mode call it too.
 */
struct chos_path *chos_task_link(void)
{
	struct task_struct *task = current;
	struct chos_task *entry;
	struct chos_path *path = NULL;

	rcu_read_lock();
	entry = chos_task_find(task);
	/*
	 * io_uring workers are made without the fork tracepoint and act for the process that owns
	 * the ring, of which they are threads: resolve like its leader.
	 */
	if (!entry && (task->flags & PF_IO_WORKER))
		entry = chos_task_find(task->group_leader);
	if (entry)
		path = chos_path_tryget(rcu_dereference(entry->path));
	rcu_read_unlock();
	return path;
}

/* Makes path (whose reference is consumed) the caller's link; NULL returns it to the host. */
int chos_task_set(struct chos_path *path)
{
	struct chos_task *entry;
	int err;

	rcu_read_lock();
	entry = chos_task_find(current);
	rcu_read_unlock();
	/* Only this task changes or frees its own entry, so it stays valid outside RCU. */
	if (entry && !path) {
		if (!rhashtable_remove_fast(&chos_tasks, &entry->node, chos_task_params))
			chos_task_drop(entry);
		return 0;
	}
	if (entry) {
		chos_path_put(rcu_replace_pointer(entry->path, path, true));
		return 0;
	}
	if (!path)
		return 0;

	entry = kmalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry) {
		err = -ENOMEM;
		goto out_put;
	}
	entry->task = current;
	RCU_INIT_POINTER(entry->path, path);
	err = rhashtable_insert_fast(&chos_tasks, &entry->node, chos_task_params);
	if (err)
		goto out_free;
	atomic_long_inc(&chos_stats.entries);
	return 0;

out_free:
	kfree(entry);
out_put:
	chos_path_put(path);
	return err;
}

/*
 * sched_process_fork: runs in the parent, before the child first runs, with preemption off
 * (hence GFP_ATOMIC). The child starts with the parent's link.
 */
static void chos_on_fork(void *data, struct task_struct *parent, struct task_struct *child)
{
	struct chos_task *entry;
	struct chos_path *path;

	rcu_read_lock();
	entry = chos_task_find(parent);
	path = entry ? chos_path_tryget(rcu_dereference(entry->path)) : NULL;
	rcu_read_unlock();
	if (!path)
		return;

	entry = kmalloc(sizeof(*entry), GFP_ATOMIC | __GFP_NOWARN);
	if (!entry)
		goto out_fail;
	entry->task = child;
	RCU_INIT_POINTER(entry->path, path);
	if (rhashtable_insert_fast(&chos_tasks, &entry->node, chos_task_params)) {
		kfree(entry);
		goto out_fail;
	}
	atomic_long_inc(&chos_stats.entries);
	return;

out_fail:
	/* The child runs on the host view: counted, and never a tree it was not given. */
	atomic_long_inc(&chos_stats.alloc_failures);
	chos_path_put(path);
}

/* sched_process_free: the task is gone (an RCU callback, softirq context). */
static void chos_on_free(void *data, struct task_struct *task)
{
	struct chos_task *entry;

	rcu_read_lock();
	entry = chos_task_find(task);
	if (entry && !rhashtable_remove_fast(&chos_tasks, &entry->node, chos_task_params))
		chos_task_drop(entry);
	rcu_read_unlock();
}

/* for_each_kernel_tracepoint() callback: the two tracepoints are found by name, not by symbol. */
static void chos_find_tracepoint(struct tracepoint *tp, void *unused)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		chos_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_free"))
		chos_tp_free = tp;
}

/* Unload: every entry goes; no probe runs any more, and no reader is left (see chosfs.c). */
static void chos_task_free_entry(void *ptr, void *unused)
{
	chos_task_drop(ptr);
}

int chos_tasks_init(void)
{
	int err;

	for_each_kernel_tracepoint(chos_find_tracepoint, NULL);
	if (!chos_tp_fork || !chos_tp_free) {
		pr_err("sched_process_fork/free tracepoints not found\n");
		return -ENOENT;
	}
	err = rhashtable_init(&chos_tasks, &chos_task_params);
	if (err)
		return err;
	/* The free probe first: an entry made by the fork probe must always be able to go. */
	err = tracepoint_probe_register(chos_tp_free, chos_on_free, NULL);
	if (err)
		goto out_destroy;
	err = tracepoint_probe_register(chos_tp_fork, chos_on_fork, NULL);
	if (err)
		goto out_unregister_free;
	return 0;

out_unregister_free:
	tracepoint_probe_unregister(chos_tp_free, chos_on_free, NULL);
	tracepoint_synchronize_unregister();
out_destroy:
	rhashtable_destroy(&chos_tasks);
	return err;
}

void chos_tasks_exit(void)
{
	tracepoint_probe_unregister(chos_tp_fork, chos_on_fork, NULL);
	tracepoint_probe_unregister(chos_tp_free, chos_on_free, NULL);
	/* Waits for probes still running on other CPUs. */
	tracepoint_synchronize_unregister();
	rhashtable_free_and_destroy(&chos_tasks, chos_task_free_entry, NULL);
}
