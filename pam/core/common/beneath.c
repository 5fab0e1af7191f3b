/* SPDX-License-Identifier: BSD-3-Clause
 * Walking and mounting beneath an untrusted directory (beneath.h).
 *
 * The walk opens one component at a time, each with openat2 from the handle of the one before:
 * RESOLVE_NO_SYMLINKS refuses a symlink there (even the last, as the handles are not opened
 * O_NOFOLLOW), RESOLVE_BENEATH and RESOLVE_NO_MAGICLINKS keep an absolute name or a /proc link
 * from leaving the directory. One component per call, so a refusal names the component that
 * caused it, and a missing one is made with mkdirat/mknodat on its parent's handle, which never
 * follow a trailing symlink, then opened like the others: whatever raced in is refused.
 *
 * Mounts use the new mount API (open_tree(OPEN_TREE_CLONE) of the source, move_mount onto the
 * target's handle with MOVE_MOUNT_T_EMPTY_PATH) rather than mount() on /proc/self/fd/N: the
 * target is the handle itself, not a path through /proc (which need not be mounted where setup
 * runs, and whose magic links are what the walk refuses), and a read-only bind is made read-only
 * with mount_setattr while still detached, so it is never visible writable. The one exception
 * is detaching a stale bind: only umount2 does that, on /proc/self/fd/N of the handle.
 *
 * open_tree and move_mount act on mounts of the caller's mount namespace: the handles must be
 * opened in the namespace the bind is made in (after unshare, after ROOT is bound on itself). */
#include "common/beneath.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BENEATH_RESOLVE (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

/* glibc 2.36 has no openat2 wrapper. EAGAIN is only for ".." races, and no ".." is walked. */
static int openat2_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = { .flags = (unsigned)(flags | O_CLOEXEC),
				.resolve = BENEATH_RESOLVE };
	long fd;

	do
		fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : (int)fd;
}

static int failed(struct chos_beneath_fail *fail, int code, mode_t found)
{
	fail->found = found;
	return code;
}

/* What stands at name in dirfd, for the message; 0 when it cannot be told. */
static mode_t kind_at(int dirfd, const char *name)
{
	struct stat st;
	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode & S_IFMT : 0;
}

/* Opens one component, making it when missing and asked to. dir: it must be a directory. */
static int open_component(int dirfd, const char *name, int dir, int create,
			  struct chos_beneath_fail *fail)
{
	int fd = openat2_beneath(dirfd, name, O_PATH | (dir ? O_DIRECTORY : 0));

	if (fd == -ENOENT && create) {
		if ((dir ? mkdirat(dirfd, name, 0755) : mknodat(dirfd, name, S_IFREG | 0644, 0)) <
			    0 &&
		    errno != EEXIST)
			return failed(fail, -errno, 0);
		fd = openat2_beneath(dirfd, name, O_PATH | (dir ? O_DIRECTORY : 0));
	}
	if (fd == -ELOOP)
		return failed(fail, fd, S_IFLNK);
	if (fd == -ENOTDIR)
		return failed(fail, fd, kind_at(dirfd, name));
	return fd < 0 ? failed(fail, fd, 0) : fd;
}

/* The regular file a handle must be when one is wanted. */
static int check_regular(int fd, struct chos_beneath_fail *fail)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return failed(fail, -errno, 0);
	return S_ISREG(st.st_mode) ? 0 : failed(fail, -EINVAL, st.st_mode & S_IFMT);
}

int chos_beneath_open(int dirfd, const char *path, mode_t want, int create,
		      struct chos_beneath_fail *fail)
{
	char name[CHOS_BENEATH_PATH_MAX];
	const char *p = path;
	int cur = dirfd, fd = -EINVAL;

	*fail = (struct chos_beneath_fail){ .last = 1 };
	snprintf(fail->path, sizeof(fail->path), "%s", path);
	while (*p) {
		size_t n = strcspn(p, "/");
		int last = !p[n];

		snprintf(fail->path, sizeof(fail->path), "%.*s", (int)(p + n - path), path);
		fail->last = last;
		fd = -EINVAL;
		if (n > 0 && n < sizeof(name) && !(n == 1 && p[0] == '.') &&
		    !(n == 2 && p[0] == '.' && p[1] == '.')) {
			memcpy(name, p, n);
			name[n] = '\0';
			fd = open_component(cur, name, !last || S_ISDIR(want), create, fail);
		}
		if (cur != dirfd)
			close(cur);
		if (fd < 0 || last)
			break;
		cur = fd;
		p += n + 1;
	}
	if (fd >= 0 && !S_ISDIR(want) && check_regular(fd, fail) < 0) {
		close(fd);
		return -EINVAL;
	}
	return fd;
}

const char *chos_beneath_kind(mode_t found)
{
	switch (found & S_IFMT) {
	case S_IFLNK:
		return "a symlink";
	case S_IFDIR:
		return "a directory";
	case S_IFREG:
		return "a regular file";
	case S_IFIFO:
		return "a fifo";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
	case S_IFBLK:
		return "a device";
	default:
		return "of an unknown kind";
	}
}

int chos_bind_copy(int srcdir, const char *src, unsigned flags)
{
	unsigned tree_flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
			      (flags & CHOS_BIND_RECURSIVE ? AT_RECURSIVE : 0) |
			      (src[0] ? 0 : AT_EMPTY_PATH);
	struct mount_attr ro = { .attr_set =
					 MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	struct mount_attr slave = { .propagation = MS_SLAVE };
	int mnt, r = 0;

	do
		mnt = open_tree(srcdir, src, tree_flags);
	while (mnt < 0 && errno == EINTR);
	if (mnt < 0)
		return -errno;
	/* Still detached: no one sees it before it is read-only, or a slave (all of it). */
	if ((flags & CHOS_BIND_READ_ONLY) &&
	    mount_setattr(mnt, "", AT_EMPTY_PATH, &ro, sizeof(ro)) < 0)
		r = -errno;
	if (r == 0 && (flags & CHOS_BIND_SLAVE) &&
	    mount_setattr(mnt, "", AT_EMPTY_PATH | AT_RECURSIVE, &slave, sizeof(slave)) < 0)
		r = -errno;
	if (r < 0) {
		close(mnt);
		return r;
	}
	return mnt;
}

int chos_bind_attach(int copy, int target)
{
	while (move_mount(copy, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	       0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int chos_bind_at(int srcdir, const char *src, int target, unsigned flags)
{
	int mnt = chos_bind_copy(srcdir, src, flags), r;

	if (mnt < 0)
		return mnt;
	r = chos_bind_attach(mnt, target);
	close(mnt);
	return r;
}

int chos_detach_at(int fd)
{
	char proc[32]; /* "/proc/self/fd/" and an int */

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	return umount2(proc, MNT_DETACH) < 0 ? -errno : 0;
}

int chos_is_mount_root(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS,
		  &stx) < 0)
		return 0;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}
