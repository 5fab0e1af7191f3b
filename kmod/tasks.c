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
 * child no one else can reach yet) and the exit probe (a process with no thread left), each
 * under its bucket's bit lock. Readers (path walks, the fork probe) use RCU and take a reference
 * on the link they return.
 *
 * The probes may not sleep or take a sleeping lock, on any kernel Debian ships. On 6.1 and 6.12,
 * PREEMPT_RT included, the tracepoint calls them with preemption off (__DO_TRACE's
 * preempt_disable_notrace); from 7.x inside an SRCU-fast read section, preemptible, but they are
 * written for the stricter case. On PREEMPT_RT spinlock_t and mutexes sleep, and so does the
 * allocator, GFP_ATOMIC or not, and anything that may call it: an rhashtable insert allocates a
 * bigger table with GFP_ATOMIC when the current one is over-full. So the probes use only
 *   - RCU read sections, refcounts and atomics;
 *   - a fixed table of hlist_bl buckets, allocated with the module and never resized, whose
 *     bucket locks are bit spinlocks (a bit spun on with preemption off: raw on every kernel,
 *     PREEMPT_RT included; no interrupt handler takes them, so interrupts stay on);
 *   - entries made ahead in process context: a per-CPU pool (chos_pool_take), refilled by a work
 *     item that queue_work_on() schedules (it takes the workqueue's pool lock, a raw spinlock
 *     since 5.8, and wakes a worker with the scheduler's raw locks);
 *   - call_rcu() to free an entry or a link (it only queues the callback, under local_irq_save;
 *     the kfree runs later in the callback, a context that may free);
 *   - a rate-limited printk when a fork finds the pool empty (printk is safe in any context; its
 *     ratelimit is a raw spinlock taken with trylock).
 * test/vm/probes.test.ts reads the module built for each kernel and fails on any other call the
 * probes can reach, inlined headers included.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/hash.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rculist_bl.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/workqueue.h>

#include "chos.h"
#include "compat.h"

/* The kernel's own prototypes of the two probes: a signature that changes fails the build. */
#include <trace/events/sched.h>

struct chos_task {
	struct hlist_bl_node node;
	struct signal_struct *process; /* the key: compared, never dereferenced */
	struct chos_path __rcu *path;  /* never NULL: a process without a link has no entry */
	struct rcu_head rcu;
};

/*
 * 2^14 buckets (128 KiB), fixed: the table must never grow where it is written, and a host
 * running tens of thousands of processes with links still finds one in a few steps.
 */
#define CHOS_TASK_HASH_BITS 14
static struct hlist_bl_head chos_tasks[1 << CHOS_TASK_HASH_BITS]; /* struct chos_task.node */

/*
 * Entries ready for the fork probe, per CPU. Only task context touches a pool, always with
 * preemption off on that pool's CPU (the probe and the refill work alike), so each one has a
 * single user at a time and needs no lock. CHOS_POOL_MAX bounds the array; pool_size is how full
 * the refill keeps it.
 */
#define CHOS_POOL_MAX 256
struct chos_pool {
	unsigned int count;
	struct chos_task *entries[CHOS_POOL_MAX];
	struct work_struct refill;
};
/* Allocated at load: dynamic per-CPU memory, since the static per-CPU area all modules share
 * is 8 KiB. */
static struct chos_pool __percpu *chos_pools;

/* A CPU's pool lasts pool_size forks before its refill must have run (the refill starts at half
 * of it). 0 keeps none: every child of a process with a link takes the fallback (see
 * chos_on_fork), which is how the tests reach it. */
static unsigned int pool_size = 64;
module_param(pool_size, uint, 0444);
MODULE_PARM_DESC(pool_size, "entries kept ready per CPU for forks (0-256, default 64)");

static DEFINE_MUTEX(chos_set_lock);	/* serializes setchos/resetchos of all threads */
static struct tracepoint *chos_tp_fork; /* sched_process_fork, found at load */
static struct tracepoint *chos_tp_exit; /* sched_process_exit, found at load */

static struct hlist_bl_head *chos_bucket(const struct signal_struct *process)
{
	return &chos_tasks[hash_ptr(process, CHOS_TASK_HASH_BITS)];
}

/* Caller holds rcu_read_lock() or the bucket's lock. */
static struct chos_task *chos_task_find(const struct signal_struct *process)
{
	struct chos_task *entry;
	struct hlist_bl_node *pos;

	hlist_bl_for_each_entry_rcu(entry, pos, chos_bucket(process), node) {
		if (entry->process == process)
			return entry;
	}
	return NULL;
}

static void chos_task_insert(struct chos_task *entry)
{
	struct hlist_bl_head *bucket = chos_bucket(entry->process);

	hlist_bl_lock(bucket);
	hlist_bl_add_head_rcu(&entry->node, bucket);
	hlist_bl_unlock(bucket);
	atomic_long_inc(&chos_stats.entries);
}

static void chos_task_free_rcu(struct rcu_head *rcu)
{
	kfree(container_of(rcu, struct chos_task, rcu));
}

/*
 * Removes the entry of process, if it has one: reset, exited, or module unload. Should two
 * exiting threads both get here (chos_group_dead, compat.h), the bucket lock lets one remove it.
 */
static void chos_task_remove(const struct signal_struct *process)
{
	struct hlist_bl_head *bucket = chos_bucket(process);
	struct chos_task *entry;

	hlist_bl_lock(bucket);
	entry = chos_task_find(process);
	if (entry)
		hlist_bl_del_rcu(&entry->node);
	hlist_bl_unlock(bucket);
	if (!entry)
		return;
	chos_path_put(rcu_dereference_protected(entry->path, true));
	call_rcu(&entry->rcu, chos_task_free_rcu);
	atomic_long_dec(&chos_stats.entries);
}

/* An entry of this CPU's pool, or NULL when it is empty; below half full, its refill is queued. */
static struct chos_task *chos_pool_take(void)
{
	struct chos_task *entry = NULL;
	struct chos_pool *pool;

	preempt_disable();
	pool = this_cpu_ptr(chos_pools);
	if (pool->count)
		entry = pool->entries[--pool->count];
	if (pool->count < (pool_size + 1) / 2)
		queue_work_on(smp_processor_id(), system_highpri_wq, &pool->refill);
	preempt_enable();
	return entry;
}

/*
 * The refill: runs in a worker, where it may sleep. It fills the pool of the CPU it runs on,
 * which is the one that queued it unless that CPU went offline (then no probe runs there).
 */
static void chos_pool_refill(struct work_struct *work)
{
	for (;;) {
		struct chos_task *entry = kmalloc(sizeof(*entry), GFP_KERNEL);
		struct chos_pool *pool;
		bool full;

		if (!entry)
			return;
		preempt_disable();
		pool = this_cpu_ptr(chos_pools);
		full = pool->count >= pool_size;
		if (!full)
			pool->entries[pool->count++] = entry;
		preempt_enable();
		if (full) {
			kfree(entry);
			return;
		}
	}
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

	rcu_read_lock();
	entry = chos_task_find(current->signal);
	rcu_read_unlock();
	/* Only setchos (under chos_set_lock) changes or removes a live process's entry. */
	if (entry && !path) {
		chos_task_remove(current->signal);
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
		chos_path_put(path);
		return -ENOMEM;
	}
	entry->process = current->signal;
	RCU_INIT_POINTER(entry->path, path);
	chos_task_insert(entry);
	return 0;
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
 * sched_process_fork: runs in the parent, before the child first runs. A new process starts with
 * the parent's link, in an entry from the pool; a new thread shares its process's entry and needs
 * nothing.
 *
 * With the pool empty (its CPU forked pool_size children faster than the refill could run: a
 * fork storm at a priority above the worker's, or no memory for the refill), the child starts
 * without a link, counted in alloc_failures and logged, never silently. What it then sees is
 * the host view ("/") resolved in its own root: inside a session that root is the /chos layout
 * (`chos setup`), whose OS directories lead back through the link to themselves, so /usr, /bin
 * and the rest fail with ELOOP and the child can start nothing from any tree; it keeps only
 * what it already has mapped. Outside a session it is on the host, where its parent's root is.
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

	entry = chos_pool_take();
	if (!entry) {
		atomic_long_inc(&chos_stats.alloc_failures);
		pr_warn_ratelimited("no entry ready for pid %d, child of %d (%s): it starts "
				    "without a link (pool_size %u)\n",
				    task_pid_nr(child), task_tgid_nr(parent), parent->comm,
				    pool_size);
		chos_path_put(path);
		return;
	}
	entry->process = child->signal;
	RCU_INIT_POINTER(entry->path, path);
	chos_task_insert(entry);
}

/*
 * sched_process_exit: a thread is in do_exit, past the decrement of signal->live. Once the last
 * one is past it the process is over (chos_group_dead, compat.h); should two threads both see
 * that, only one of them removes the entry.
 */
static void chos_on_exit(CHOS_EXIT_PROBE_ARGS(task))
{
	if (chos_group_dead(task))
		chos_task_remove(task->signal);
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

/* Empties every pool; their refills are cancelled first, so none fills one again. */
static void chos_pools_free(void)
{
	unsigned int cpu;

	for_each_possible_cpu(cpu)
		cancel_work_sync(&per_cpu_ptr(chos_pools, cpu)->refill);
	for_each_possible_cpu(cpu) {
		struct chos_pool *pool = per_cpu_ptr(chos_pools, cpu);

		while (pool->count)
			kfree(pool->entries[--pool->count]);
	}
	free_percpu(chos_pools);
}

/* Fills every possible CPU's pool before the fork probe can take from any. */
static int chos_pools_fill(void)
{
	unsigned int cpu;

	if (pool_size > CHOS_POOL_MAX) {
		pr_err("pool_size %u is over %u\n", pool_size, CHOS_POOL_MAX);
		return -EINVAL;
	}
	chos_pools = alloc_percpu(struct chos_pool);
	if (!chos_pools)
		return -ENOMEM;
	/* Every refill is initialized before any allocation can fail: chos_pools_free cancels
	 * them all. */
	for_each_possible_cpu(cpu)
		INIT_WORK(&per_cpu_ptr(chos_pools, cpu)->refill, chos_pool_refill);
	for_each_possible_cpu(cpu) {
		struct chos_pool *pool = per_cpu_ptr(chos_pools, cpu);

		while (pool->count < pool_size) {
			pool->entries[pool->count] = kmalloc(sizeof(struct chos_task), GFP_KERNEL);
			if (!pool->entries[pool->count]) {
				chos_pools_free();
				return -ENOMEM;
			}
			pool->count++;
		}
	}
	return 0;
}

int chos_tasks_init(void)
{
	int err;

	for_each_kernel_tracepoint(chos_find_tracepoint, NULL);
	if (!chos_tp_fork || !chos_tp_exit) {
		pr_err("sched_process_fork/exit tracepoints not found\n");
		return -ENOENT;
	}
	err = chos_pools_fill();
	if (err)
		return err;
	/* The exit probe first: an entry made by the fork probe must always be able to go. */
	err = tracepoint_probe_register(chos_tp_exit, chos_on_exit, NULL);
	if (err)
		goto out_pools;
	err = tracepoint_probe_register(chos_tp_fork, chos_on_fork, NULL);
	if (err)
		goto out_unregister_exit;
	return 0;

out_unregister_exit:
	tracepoint_probe_unregister(chos_tp_exit, chos_on_exit, NULL);
	tracepoint_synchronize_unregister();
out_pools:
	chos_pools_free();
	return err;
}

/* Unload: every entry goes; no probe runs any more, and no reader is left (see chosfs.c). */
void chos_tasks_exit(void)
{
	size_t i;

	tracepoint_probe_unregister(chos_tp_fork, chos_on_fork, NULL);
	tracepoint_probe_unregister(chos_tp_exit, chos_on_exit, NULL);
	/* Waits for probes still running on other CPUs. */
	tracepoint_synchronize_unregister();
	chos_pools_free();
	for (i = 0; i < ARRAY_SIZE(chos_tasks); i++) {
		struct hlist_bl_node *pos, *next;
		struct chos_task *entry;

		hlist_bl_for_each_entry_safe(entry, pos, next, &chos_tasks[i], node)
			chos_task_remove(entry->process);
	}
}
