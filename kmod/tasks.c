// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * Per-process links: a hash table keyed by the thread group's signal_struct, the one object
 * every thread of a process shares (io_uring's workers included) and that a non-leader's execve
 * keeps. So a link belongs to the process, as its root directory does: a setchos from any thread
 * moves every thread, and new threads need nothing.
 *
 * An entry is made when a process with a link creates another (the sched_process_fork
 * tracepoint, which fires before the child first runs) or by setchos, and removed when the
 * process's last thread exits (sched_process_exit, once signal->live has dropped to 0: no
 * thread is left to read or write it, and the signal_struct is not yet freed, so its address
 * cannot belong to another process while the entry exists).
 *
 * Writers: setchos and resetchos (any thread, serialized by chos_set_lock), the fork probe (a
 * child no one else can reach yet) and the exit probe (a process with no thread left). Readers
 * (path walks, the fork probe) use RCU and take a reference on the link they return.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mutex.h>
#include <linux/rhashtable.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>

#include "chos.h"
#include "compat.h"

/* The kernel's own prototypes of the two probes: a signature that changes fails the build. */
#include <trace/events/sched.h>

struct chos_task {
	struct rhash_head node;
	struct signal_struct *process; /* the key: compared, never dereferenced */
	struct chos_path __rcu *path;  /* never NULL: a process without a link has no entry */
	struct rcu_head rcu;
};

static const struct rhashtable_params chos_task_params = {
	.head_offset = offsetof(struct chos_task, node),
	.key_offset = offsetof(struct chos_task, process),
	.key_len = sizeof(struct signal_struct *),
	.automatic_shrinking = true,
};

static struct rhashtable chos_tasks;	/* struct chos_task, one per process with a link */
static DEFINE_MUTEX(chos_set_lock);	/* serializes setchos/resetchos of all threads */
static struct tracepoint *chos_tp_fork; /* sched_process_fork, found at load */
static struct tracepoint *chos_tp_exit; /* sched_process_exit, found at load */

/* Caller holds rcu_read_lock(). */
static struct chos_task *chos_task_find(struct signal_struct *process)
{
	return rhashtable_lookup(&chos_tasks, &process, chos_task_params);
}

/* Removes an entry whose process is done with it: reset, exited, or module unload. */
static void chos_task_drop(struct chos_task *entry)
{
	chos_path_put(rcu_dereference_protected(entry->path, true));
	kfree_rcu(entry, rcu);
	atomic_long_dec(&chos_stats.entries);
}

/*
 * The calling process's link with a reference held, or NULL for the host view (also when its
 * tree was withdrawn from `valid`). Lock-free and never sleeps, so path walks in RCU mode call
 * it too.
 */
struct chos_path *chos_task_link(void)
{
	struct chos_task *entry;
	struct chos_path *path = NULL;

	rcu_read_lock();
	entry = chos_task_find(current->signal);
	if (entry)
		path = chos_path_tryget(rcu_dereference(entry->path));
	rcu_read_unlock();
	if (path && chos_path_withdrawn(path)) {
		chos_path_put(path);
		path = NULL;
	}
	return path;
}

static int chos_task_set_locked(struct chos_path *path)
{
	struct chos_task *entry;
	int err;

	rcu_read_lock();
	entry = chos_task_find(current->signal);
	rcu_read_unlock();
	/* Only setchos (under chos_set_lock) changes or frees a live process's entry. */
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
	entry->process = current->signal;
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
 * Makes path (whose reference is consumed) the calling process's link; NULL returns it to the
 * host. An io_uring worker is refused (-EPERM): it acts for the process asynchronously, and a
 * link changed behind the process's back by a queued write is not what anyone asked for.
 */
int chos_task_set(struct chos_path *path)
{
	int err;

	if (current->flags & PF_IO_WORKER) {
		chos_path_put(path);
		return -EPERM;
	}
	mutex_lock(&chos_set_lock);
	err = chos_task_set_locked(path);
	mutex_unlock(&chos_set_lock);
	return err;
}

/*
 * sched_process_fork: runs in the parent, before the child first runs, with preemption off
 * (hence GFP_ATOMIC). A new process starts with the parent's link; a new thread shares its
 * process's entry and needs nothing.
 */
static void chos_on_fork(void *data, struct task_struct *parent, struct task_struct *child)
{
	struct chos_task *entry;
	struct chos_path *path;

	if (child->signal == parent->signal)
		return;
	rcu_read_lock();
	entry = chos_task_find(parent->signal);
	path = entry ? chos_path_tryget(rcu_dereference(entry->path)) : NULL;
	rcu_read_unlock();
	if (!path)
		return;

	entry = kmalloc(sizeof(*entry), GFP_ATOMIC | __GFP_NOWARN);
	if (!entry)
		goto out_fail;
	entry->process = child->signal;
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

/*
 * sched_process_exit: a thread is in do_exit, past the decrement of signal->live. Once the last
 * one is past it the process is over (chos_group_dead, compat.h); should two threads both see
 * that, only one of them removes the entry.
 */
static void chos_on_exit(CHOS_EXIT_PROBE_ARGS(task))
{
	struct chos_task *entry;

	if (!chos_group_dead(task))
		return;
	rcu_read_lock();
	entry = chos_task_find(task->signal);
	if (entry && !rhashtable_remove_fast(&chos_tasks, &entry->node, chos_task_params))
		chos_task_drop(entry);
	rcu_read_unlock();
}

/* Compile-time checks of the probes against the kernel's tracepoint prototypes (unevaluated:
 * nothing is registered through these, and their tracepoints are not exported to modules). */
static_assert(sizeof(register_trace_sched_process_fork(chos_on_fork, NULL)) == sizeof(int));
static_assert(sizeof(register_trace_sched_process_exit(chos_on_exit, NULL)) == sizeof(int));

/* for_each_kernel_tracepoint() callback: the two tracepoints are found by name, not by symbol. */
static void chos_find_tracepoint(struct tracepoint *tp, void *unused)
{
	if (!strcmp(tp->name, "sched_process_fork"))
		chos_tp_fork = tp;
	else if (!strcmp(tp->name, "sched_process_exit"))
		chos_tp_exit = tp;
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
	if (!chos_tp_fork || !chos_tp_exit) {
		pr_err("sched_process_fork/exit tracepoints not found\n");
		return -ENOENT;
	}
	err = rhashtable_init(&chos_tasks, &chos_task_params);
	if (err)
		return err;
	/* The exit probe first: an entry made by the fork probe must always be able to go. */
	err = tracepoint_probe_register(chos_tp_exit, chos_on_exit, NULL);
	if (err)
		goto out_destroy;
	err = tracepoint_probe_register(chos_tp_fork, chos_on_fork, NULL);
	if (err)
		goto out_unregister_exit;
	return 0;

out_unregister_exit:
	tracepoint_probe_unregister(chos_tp_exit, chos_on_exit, NULL);
	tracepoint_synchronize_unregister();
out_destroy:
	rhashtable_destroy(&chos_tasks);
	return err;
}

void chos_tasks_exit(void)
{
	tracepoint_probe_unregister(chos_tp_fork, chos_on_fork, NULL);
	tracepoint_probe_unregister(chos_tp_exit, chos_on_exit, NULL);
	/* Waits for probes still running on other CPUs. */
	tracepoint_synchronize_unregister();
	rhashtable_free_and_destroy(&chos_tasks, chos_task_free_entry, NULL);
}
