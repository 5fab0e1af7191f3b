/* SPDX-License-Identifier: BSD-3-Clause
 * The namespace backend (namespace.h). It checks that ROOT, ROOT/.chos-link and TREE are real
 * directories before anything changes, so a broken set-up leaves the caller exactly where it
 * was, then enters ROOT with TREE bound recursively on ROOT/.chos-link (the identity files
 * `chos setup` bound in it come along): the OS directories' symlinks now resolve into the tree.
 * The mount steps and why each is there: pivot.c, shared with the kmod backend. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "common/layout.h"
#include "apply/namespace.h"
#include "apply/pivot.h"

/* 4096: PATH_MAX. A longer ROOT is refused rather than cut. */
#define NS_PATH_MAX 4096

/* A directory. The link must not be a symlink to one (a symlinked .chos-link is the kmod
 * layout); ROOT itself may be reached through a symlink (an admin's choice of disk). */
static int check_dir(const char *path, const char *what, int follow, struct chos_error *err)
{
	struct stat st;

	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return chos_fail(err, -errno, "namespace backend: %s %s: %s; run `chos setup`",
				 what, path, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return chos_fail(
			err, -ENOTDIR,
			"namespace backend: %s %s is a symbolic link (a kmod layout?); run "
			"`chos setup --backend namespace`",
			what, path);
	if (!S_ISDIR(st.st_mode))
		return chos_fail(err, -ENOTDIR, "namespace backend: %s %s is not a directory", what,
				 path);
	return 0;
}

int chos_namespace_check_root(const char *root, struct chos_error *err)
{
	char link[NS_PATH_MAX];
	int r;

	if (snprintf(link, sizeof(link), "%s/%s", root, CHOS_LINK_NAME) >= (int)sizeof(link))
		return chos_fail(err, -ENAMETOOLONG, "namespace backend: root path too long");
	if ((r = check_dir(root, "root", 1, err)) < 0 || (r = check_dir(link, "link", 0, err)) < 0)
		return r;
	return 0;
}

int chos_namespace_check_tree(const char *tree, struct chos_error *err)
{
	struct stat st;

	/* The tree may be reached through a symlink (an admin's alias): it must end in a
	 * directory. */
	if (stat(tree, &st) < 0)
		return chos_fail(err, -errno,
				 "namespace backend: tree %s: %s; create it or fix the "
				 "catalogue",
				 tree, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return chos_fail(err, -ENOTDIR,
				 "namespace backend: tree %s: not a directory; fix the "
				 "catalogue",
				 tree);
	return 0;
}

int chos_namespace_apply(const char *root, const char *tree, const char *home,
			 struct chos_error *err)
{
	int r;

	if ((r = chos_namespace_check_root(root, err)) < 0 ||
	    (r = chos_namespace_check_tree(tree, err)) < 0)
		return r;
	return chos_pivot_enter(CHOS_NAMESPACE_BACKEND, root, tree, home, err);
}
