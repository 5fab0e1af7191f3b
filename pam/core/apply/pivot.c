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
 *                 symlinks resolve into the tree. Both ends are handles opened here, in the
 *                 new namespace (open_tree and move_mount act on its mounts, and the link must
 *                 be the one in ROOT's bind of step 3): the tree at its catalogue path (the
 *                 admin's, which may be an alias) as a directory, and ROOT/.chos-link beneath
 *                 ROOT's handle, never through a symlink (beneath.h). Nothing inside the tree
 *                 is resolved: setup's binds in it come along with it
 *   5. pivot_root into ROOT with the old root stacked on it, then detached (MNT_DETACH): the
 *                 host's root is out of reach, yet the session can still create user
 *                 namespaces (a chrooted process cannot)
 *   6. chdir      to the home, as the session will expect; "/" when the home is not there
 * Steps 1-3 need no tree (chos_pivot_unshare), so a Slurm step's view makes them while the
 * policy decides (view.c); steps 4-6 follow once the tree is known (chos_pivot_into). */
#include "apply/pivot.h"
#include "common/beneath.h"
#include "common/layout.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
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

static void link_path(char *buf, size_t size, const char *root)
{
	snprintf(buf, size, "%s/%s", root, CHOS_LINK_NAME);
}

int chos_pivot_open_link(const char *backend, int rootfd, const char *root, struct chos_error *err)
{
	char link[4096]; /* PATH_MAX, for the message: namespace.c refused a longer ROOT */
	struct chos_beneath_fail fail;
	int linkfd = chos_beneath_open(rootfd, CHOS_LINK_NAME, S_IFDIR, 0, &fail);

	if (linkfd >= 0)
		return linkfd;
	link_path(link, sizeof(link), root);
	return chos_step_failed(err, backend, linkfd, "open the link", link);
}

/* A failed copy or attach of the tree, said as one step: its bind on the link. */
static int bind_failed(const char *backend, const char *root, int code, struct chos_error *err)
{
	char link[4096]; /* PATH_MAX, as above */

	link_path(link, sizeof(link), root);
	return chos_step_failed(err, backend, code, "bind tree on the link", link);
}

int chos_pivot_copy_tree(const char *backend, const char *root, const char *tree, unsigned flags,
			 struct chos_error *err)
{
	/* O_DIRECTORY: the directory checked is the one bound, whatever is renamed meanwhile. */
	int treefd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int copy = treefd < 0 ? -errno : chos_bind_copy(treefd, "", CHOS_BIND_RECURSIVE | flags);

	if (treefd >= 0)
		close(treefd);
	return copy >= 0 ? copy : bind_failed(backend, root, copy, err);
}

int chos_pivot_attach_tree(const char *backend, const char *root, int copy, int linkfd,
			   struct chos_error *err)
{
	int r = chos_bind_attach(copy, linkfd);

	return r < 0 ? bind_failed(backend, root, r, err) : 0;
}

/* Step 4: the tree's handle bound recursively onto the link's. */
static int bind_tree(const char *backend, const char *root, const char *tree,
		     struct chos_error *err)
{
	int rootfd, linkfd, copy, r;

	if ((rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return chos_step_failed(err, backend, -errno, "open", root);
	linkfd = chos_pivot_open_link(backend, rootfd, root, err);
	close(rootfd);
	if (linkfd < 0)
		return linkfd;
	copy = chos_pivot_copy_tree(backend, root, tree, 0, err);
	r = copy < 0 ? copy : chos_pivot_attach_tree(backend, root, copy, linkfd, err);
	if (copy >= 0)
		close(copy);
	close(linkfd);
	return r;
}

int chos_pivot_unshare(const char *backend, const char *root, struct chos_error *err)
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
	return 0;
}

int chos_pivot_into(const char *backend, const char *root, const char *tree, const char *home,
		    struct chos_error *err)
{
	int r;

	if (tree && (r = bind_tree(backend, root, tree, err)) < 0)
		return r;
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

int chos_pivot_enter(const char *backend, const char *root, const char *tree, const char *home,
		     struct chos_error *err)
{
	int r = chos_pivot_unshare(backend, root, err);

	return r < 0 ? r : chos_pivot_into(backend, root, tree, home, err);
}
