/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Kernel differences, one macro each, so the code reads as for the newest kernel: by version
 * where an interface changed in place, by what the headers declare (Kbuild's probes) where one
 * was replaced. Tested on Debian 12's 6.1, Debian 13's 6.12 (and its PREEMPT_RT build) and
 * trixie-backports' 7.x; the branches cover 5.4 and later.
 */
#ifndef CHOS_COMPAT_H
#define CHOS_COMPAT_H

#include <linux/fs.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/version.h>

/* inode_operations.permission gained the mount's user namespace in 5.12, an idmap in 6.3. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
#define CHOS_PERMISSION_ARGS(inode, mask) \
	struct mnt_idmap *chos_idmap, struct inode *inode, int mask
#define chos_generic_permission(inode, mask) generic_permission(chos_idmap, inode, mask)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(5, 12, 0)
#define CHOS_PERMISSION_ARGS(inode, mask) \
	struct user_namespace *chos_userns, struct inode *inode, int mask
#define chos_generic_permission(inode, mask) generic_permission(chos_userns, inode, mask)
#else
#define CHOS_PERMISSION_ARGS(inode, mask) struct inode *inode, int mask
#define chos_generic_permission(inode, mask) generic_permission(inode, mask)
#endif

/* io_uring workers became PF_IO_WORKER threads of their owner in 5.12; before, none exist. */
#ifndef PF_IO_WORKER
#define PF_IO_WORKER 0
#endif

/* Inode timestamps: ctime behind an accessor from 6.6, all three with one helper from 6.7. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define chos_touch_inode(inode) simple_inode_init_ts(inode)
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define chos_touch_inode(inode) \
	((inode)->i_atime = (inode)->i_mtime = inode_set_ctime_current(inode))
#else
#define chos_touch_inode(inode) \
	((inode)->i_atime = (inode)->i_mtime = (inode)->i_ctime = current_time(inode))
#endif

/*
 * The files of a pseudo filesystem stay in the dcache for the superblock's life. Up to 6.18 a
 * d_add()ed dentry with its allocation's reference kept did that, and kill_litter_super()
 * dropped them at umount; 6.19 marks them persistent (d_make_persistent takes its own
 * reference, so the allocation's is dropped) and kill_anon_super() drops those.
 */
#ifdef CHOS_HAVE_D_MAKE_PERSISTENT
#define chos_add_file(dentry, inode) ((void)d_make_persistent(dentry, inode), dput(dentry))
#define chos_kill_sb kill_anon_super
#else
#define chos_add_file(dentry, inode) d_add(dentry, inode)
#define chos_kill_sb kill_litter_super
#endif

/*
 * sched_process_exit, past the decrement of signal->live: whether this thread ended its process.
 * Newer kernels pass it (group_dead: true for exactly one thread; 7.x does, 6.12 does not);
 * before, live reads 0 once the last thread is past it, so two threads exiting at once may both
 * see it.
 */
#ifdef CHOS_HAVE_EXIT_GROUP_DEAD
#define CHOS_EXIT_PROBE_ARGS(task) void *data, struct task_struct *task, bool chos_group_dead_arg
#define chos_group_dead(task) (chos_group_dead_arg)
#else
#define CHOS_EXIT_PROBE_ARGS(task) void *data, struct task_struct *task
#define chos_group_dead(task) (atomic_read(&(task)->signal->live) == 0)
#endif

/* rcu_replace_pointer() arrived in 5.5. */
#ifndef rcu_replace_pointer
#define rcu_replace_pointer(rcu_ptr, ptr, c)                                   \
	({                                                                     \
		typeof(ptr) __tmp = rcu_dereference_protected((rcu_ptr), (c)); \
		rcu_assign_pointer((rcu_ptr), (ptr));                          \
		__tmp;                                                         \
	})
#endif

#endif /* CHOS_COMPAT_H */
