/* SPDX-License-Identifier: BSD-3-Clause
 * Unprivileged user namespaces (userns.h). */
#include "apply/userns.h"
#include "common/write.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Each setting that can forbid unprivileged user namespaces, and the value that forbids it. */
static const struct {
	const char *path;
	const char *name;
	char forbids;
} switches[] = {
	{ "/proc/sys/kernel/unprivileged_userns_clone", "kernel.unprivileged_userns_clone", '0' },
	{ "/proc/sys/user/max_user_namespaces", "user.max_user_namespaces", '0' },
	{ "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
	  "kernel.apparmor_restrict_unprivileged_userns", '1' },
};

/* The first byte of a sysctl and whether the whole value is that one byte; -1 when absent. */
static int sysctl_value(const char *path, char *first)
{
	char buf[32]; /* the values are small integers */
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	*first = buf[0];
	return n == 1 || (n == 2 && buf[1] == '\n');
}

int chos_userns_check(struct chos_error *err)
{
	for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++) {
		char first;

		if (sysctl_value(switches[i].path, &first) == 1 && first == switches[i].forbids)
			return chos_fail(
				err, -EPERM,
				"this host does not allow unprivileged user namespaces "
				"(%s = %c): switching without root is impossible here; ask "
				"an admin, or choose the environment at login (~/.chos)",
				switches[i].name, switches[i].forbids);
	}
	return 0;
}

int chos_userns_enter(struct chos_error *err)
{
	/* 32: "4294967295 4294967295 1\n" is 24 bytes. */
	char uid_map[32], gid_map[32];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	int r;

	if ((r = chos_userns_check(err)) < 0)
		return r;
	snprintf(uid_map, sizeof(uid_map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	snprintf(gid_map, sizeof(gid_map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (unshare(CLONE_NEWUSER) < 0) {
		r = -errno;
		if (r == -EPERM)
			return chos_fail(
				err, r,
				"cannot create a user namespace (EPERM): this "
				"process may be chrooted, or a security module forbids it; "
				"switching without root is impossible here");
		if (r == -ENOSPC || r == -EUSERS)
			return chos_fail(err, r,
					 "cannot create a user namespace: the limit "
					 "user.max_user_namespaces is reached");
		return chos_fail(err, r, "cannot create a user namespace: %s", strerror(-r));
	}
	/* setgroups must be denied before an unprivileged process may write gid_map. */
	if ((r = chos_write_control("/proc/self/setgroups", "deny")) < 0 ||
	    (r = chos_write_control("/proc/self/uid_map", uid_map)) < 0 ||
	    (r = chos_write_control("/proc/self/gid_map", gid_map)) < 0)
		return chos_fail(err, r, "user namespace: writing the uid/gid maps: %s",
				 strerror(-r));
	return 0;
}
