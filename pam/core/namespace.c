/* SPDX-License-Identifier: BSD-3-Clause
 * The namespace backend (namespace.h). Steps, in order, each with why:
 *   1. check      ROOT, ROOT/.chos-link and TREE are real directories, before anything changes,
 *                 so a broken set-up leaves the caller exactly where it was
 *   2. unshare    a new mount namespace, a copy of the host's
 *   3. rslave /   the copy's mounts are still peers of the host's when the host's are shared
 *                 (every systemd host): without this, each bind below would propagate back and
 *                 leak into the host (measured: 41 mounts per login). Slave, not private, so
 *                 mounts the host makes later (an automounted home) still reach the session
 *   4. bind ROOT  on itself (recursive: home, tmp, proc, dev... come along): pivot_root needs
 *                 the new root to be a mount point
 *   5. bind TREE  recursively on ROOT/.chos-link (the identity files `chos setup` bound in it
 *                 come along): the OS directories' symlinks now resolve into the tree
 *   6. pivot_root into ROOT with the old root stacked on it, then detached (MNT_DETACH): the
 *                 host's root is out of reach, yet the session can still create user
 *                 namespaces (a chrooted process cannot)
 *   7. chdir      to the home, as the session will expect; "/" when the home is not there */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "layout.h"
#include "namespace.h"

/* 4096: PATH_MAX. A longer ROOT is refused rather than cut. */
#define NS_PATH_MAX 4096

/* The one place a failed step becomes text: "namespace: STEP PATH: strerror". */
static int step_failed(struct chos_error *err, int code, const char *step, const char *path)
{
	return chos_fail(err, code, "namespace backend: %s %s: %s", step, path, strerror(-code));
}

/* A directory. The link must not be a symlink to one (a symlinked .chos-link is the kmod
 * layout); ROOT itself may be reached through a symlink (an admin's choice of disk). */
static int check_dir(const char *path, const char *what, int follow, struct chos_error *err)
{
	struct stat st;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return chos_fail(err, -errno, "namespace backend: %s %s: %s; run `chos setup`", what,
				 path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return chos_fail(err, -ENOTDIR,
				 "namespace backend: %s %s is a symbolic link (a kmod layout?); run "
				 "`chos setup --backend namespace`", what, path);
	if (!S_ISDIR(st.st_mode))
		return chos_fail(err, -ENOTDIR, "namespace backend: %s %s is not a directory", what,
				 path);
	return 0;
}

static int mount_retry(const char *src, const char *dst, unsigned long flags)
{
	int r;

	do
		r = mount(src, dst, NULL, flags, NULL);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

int chos_namespace_apply(const char *root, const char *tree, const char *home,
			 struct chos_error *err)
{
	char link[NS_PATH_MAX];
	struct stat st;
	int r;

	if (snprintf(link, sizeof(link), "%s/%s", root, CHOS_LINK_NAME) >= (int)sizeof(link))
		return chos_fail(err, -ENAMETOOLONG, "namespace backend: root path too long");
	if ((r = check_dir(root, "root", 1, err)) < 0 || (r = check_dir(link, "link", 0, err)) < 0)
		return r;
	/* The tree may be reached through a symlink (an admin's alias); it must end in a directory. */
	if (stat(tree, &st) < 0)
		return chos_fail(err, -errno, "namespace backend: tree %s: %s; create it or fix the "
				 "catalogue", tree, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return chos_fail(err, -ENOTDIR, "namespace backend: tree %s: not a directory; fix the "
				 "catalogue", tree);

	if (unshare(CLONE_NEWNS) < 0)
		return step_failed(err, -errno, "unshare(CLONE_NEWNS) for", root);
	/* From here on a failure leaves the caller in a namespace of its own whose mounts are the
	 * host's (slaves of them): where it lands is the host's view, and nothing leaked. */
	if ((r = mount_retry(NULL, "/", MS_REC | MS_SLAVE)) < 0)
		return step_failed(err, r, "make rslave", "/");
	if ((r = mount_retry(root, root, MS_BIND | MS_REC)) < 0)
		return step_failed(err, r, "bind root on itself", root);
	if ((r = mount_retry(tree, link, MS_BIND | MS_REC)) < 0)
		return step_failed(err, r, "bind tree on the link", link);
	if (chdir(root) < 0)
		return step_failed(err, -errno, "chdir", root);
	/* pivot_root(".", "."): the old root ends up stacked on the new one, under the cwd. */
	if (syscall(SYS_pivot_root, ".", ".") < 0) {
		r = -errno;
		(void)!chdir("/");
		return step_failed(err, r, "pivot_root into", root);
	}
	if (umount2(".", MNT_DETACH) < 0)
		return step_failed(err, -errno, "detach the old root under", root);
	if (!home || chdir(home) < 0)
		(void)!chdir("/");
	return 0;
}
