/* SPDX-License-Identifier: BSD-3-Clause
 * The shared root change (pivot.h). Steps, in order, each with why:
 *   1. unshare    a new mount namespace, a copy of the host's
 *   2. rslave /   the copy's mounts are still peers of the host's when the host's are shared
 *                 (every systemd host): without this, each bind below would propagate back and
 *                 leak into the host (measured: 41 mounts per login). Slave, not private, so
 *                 mounts the host makes later (an automounted home) still reach the session
 *   3. bind ROOT  on itself (recursive: home, tmp, proc, dev and the site binds come along):
 *                 pivot_root needs the new root to be a mount point
 *   4. bind TREE  (namespace backend only) recursively on the link, so the OS directories'
 *                 symlinks resolve into the tree
 *   5. pivot_root into ROOT with the old root stacked on it, then detached (MNT_DETACH): the
 *                 host's root is out of reach, yet the session can still create user
 *                 namespaces (a chrooted process cannot)
 *   6. chdir      to the home, as the session will expect; "/" when the home is not there */
#include "pivot.h"
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

int chos_step_failed(struct chos_error *err, const char *backend, int code, const char *step,
		     const char *path)
{
	return chos_fail(err, code, "%s: %s %s: %s", backend, step, path, strerror(-code));
}

static int mount_retry(const char *src, const char *dst, unsigned long flags)
{
	int r;

	do
		r = mount(src, dst, NULL, flags, NULL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int chos_pivot_enter(const char *backend, const char *root, const char *tree, const char *link,
		     const char *home, struct chos_error *err)
{
	int r;

	if (unshare(CLONE_NEWNS) < 0)
		return chos_step_failed(err, backend, -errno, "unshare(CLONE_NEWNS) for", root);
	/* From here on a failure leaves the caller in a namespace of its own whose mounts are the
	 * host's (slaves of them): where it lands is the host's view, and nothing leaked. */
	if ((r = mount_retry(NULL, "/", MS_REC | MS_SLAVE)) < 0)
		return chos_step_failed(err, backend, r, "make rslave", "/");
	if ((r = mount_retry(root, root, MS_BIND | MS_REC)) < 0)
		return chos_step_failed(err, backend, r, "bind root on itself", root);
	if (tree && (r = mount_retry(tree, link, MS_BIND | MS_REC)) < 0)
		return chos_step_failed(err, backend, r, "bind tree on the link", link);
	if (chdir(root) < 0)
		return chos_step_failed(err, backend, -errno, "chdir", root);
	/* pivot_root(".", "."): the old root ends up stacked on the new one, under the cwd. */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		r = -errno;
		(void)!chdir("/");
		return chos_step_failed(err, backend, r, "pivot_root into", root);
	}
	if (umount2(".", MNT_DETACH) < 0)
		return chos_step_failed(err, backend, -errno, "detach the old root under", root);
	if (!home || chdir(home) < 0)
		(void)!chdir("/");
	return 0;
}
