/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Kernel-version differences, one macro each, so the code reads as for the newest kernel.
 * Tested on Debian 12 (6.1); the branches cover 5.4 and later.
 */
#ifndef CHOS_COMPAT_H
#define CHOS_COMPAT_H

#include <linux/fs.h>
#include <linux/sched.h>
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

/* rcu_replace_pointer() arrived in 5.5. */
#ifndef rcu_replace_pointer
#define rcu_replace_pointer(rcu_ptr, ptr, c)				\
({									\
	typeof(ptr) __tmp = rcu_dereference_protected((rcu_ptr), (c));	\
	rcu_assign_pointer((rcu_ptr), (ptr));				\
	__tmp;								\
})
#endif

#endif /* CHOS_COMPAT_H */
