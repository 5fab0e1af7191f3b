/* SPDX-License-Identifier: BSD-3-Clause
 * The kmod backend (kmod_backend.h says what and why). Steps of chos_kmod_apply, in order:
 *   1. check    ROOT/.chos-link is a symlink and ROOT/.chosfs shows chosfs (the OS directories
 *               resolve the link there, layout.h), and TREE resolves inside ROOT to the same
 *               directory (else the link would dangle or loop once the root changes),
 *               before anything changes
 *   2. setchos  one write; the module refuses a path not listed in `valid` (ENOENT)
 *   3. enter    ROOT through pivot.c (private rslave namespace, ROOT bound on itself,
 *               pivot_root, old root detached, chdir to the home or "/"), no tree bound:
 *               the module serves the link */
#include "apply/kmod_backend.h"
#include "apply/backend.h"
#include "common/layout.h"
#include "common/paths.h"
#include "common/write.h"
#include "apply/pivot.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KMOD_SETCHOS CHOS_KMOD_DIR "/setchos"
#define KMOD_RESETCHOS CHOS_KMOD_DIR "/resetchos"

/* Every failed step reads "kmod backend: STEP PATH: strerror". */
static int step_failed(struct chos_error *err, int code, const char *step, const char *path)
{
	return chos_step_failed(err, CHOS_KMOD_BACKEND, code, step, path);
}

bool chos_kmod_available(void)
{
	return access(KMOD_SETCHOS, F_OK) == 0;
}

int chos_kmod_set(const char *tree, struct chos_error *err)
{
	int r = chos_write_control(KMOD_SETCHOS, tree);

	if (r == 0)
		return 0;
	if (r == -ENOENT && !chos_kmod_available())
		return chos_fail(err, r,
				 "kmod backend: %s is missing: load the module and run "
				 "`chos setup`",
				 KMOD_SETCHOS);
	if (r == -ENOENT)
		return chos_fail(err, r,
				 "kmod backend: %s is not listed in %s/valid: run `chos "
				 "setup` after changing the catalogue",
				 tree, CHOS_KMOD_DIR);
	return step_failed(err, r, "write setchos", tree);
}

int chos_kmod_check_visible(const char *root, const char *tree, struct chos_error *err)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT };
	struct stat host, inside;
	int rootfd, fd, r = 0;

	if (stat(tree, &host) < 0)
		return step_failed(err, -errno, "tree", tree);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return step_failed(err, -errno, "root", root);
	/* RESOLVE_IN_ROOT resolves TREE, and every symlink on the way, as if ROOT were "/":
	 * exactly what the kernel will do for the link's target after the root change. */
	fd = (int)syscall(SYS_openat2, rootfd, tree, &how, sizeof(how));
	if (fd < 0 && errno == ENOSYS)
		goto out; /* before Linux 5.6: no way to ask; the tests run on 6.1 */
	if (fd < 0 || fstat(fd, &inside) < 0 || inside.st_dev != host.st_dev ||
	    inside.st_ino != host.st_ino)
		r = chos_fail(
			err, -ENOENT,
			"kmod backend: tree %s is not visible inside %s at the same path: keep "
			"the trees under a directory bound into the root (BINDMOUNT "
			"in " CHOS_SYSCONFIG_DEFAULT ") and run `chos setup`",
			tree, root);
	if (fd >= 0)
		close(fd);
out:
	close(rootfd);
	return r;
}

int chos_kmod_enter(const char *root, const char *home, struct chos_error *err)
{
	return chos_pivot_enter(CHOS_KMOD_BACKEND, root, NULL, home, err);
}

int chos_kmod_check_root(const char *root, struct chos_error *err)
{
	char valid[4096]; /* PATH_MAX: a longer ROOT is refused rather than cut */
	enum chos_backend layout;

	if (snprintf(valid, sizeof(valid), "%s/%s/valid", root, CHOS_KMOD_MOUNT_NAME) >=
	    (int)sizeof(valid))
		return chos_fail(err, -ENAMETOOLONG, "kmod backend: root path too long");
	if (chos_backend_of_layout(root, &layout) < 0 || layout != CHOS_BACKEND_KMOD)
		return chos_fail(err, -ENOTDIR,
				 "kmod backend: %s/%s is not the link to %s (a namespace "
				 "layout?); run `chos setup`",
				 root, CHOS_LINK_NAME, CHOS_KMOD_LINK_TARGET);
	if (access(valid, F_OK) < 0)
		return chos_fail(err, -ENOENT,
				 "kmod backend: %s/%s does not show the chos filesystem; run "
				 "`chos setup`",
				 root, CHOS_KMOD_MOUNT_NAME);
	return 0;
}

int chos_kmod_apply(const char *root, const char *tree, const char *home, struct chos_error *err)
{
	int r;

	if ((r = chos_kmod_check_root(root, err)) < 0 ||
	    (r = chos_kmod_check_visible(root, tree, err)) < 0 ||
	    (r = chos_kmod_set(tree, err)) < 0)
		return r;
	if ((r = chos_kmod_enter(root, home, err)) < 0)
		/* Back to the host view: the caller stays on the host's root with a clean link. */
		(void)chos_write_control(KMOD_RESETCHOS, "1");
	return r;
}
