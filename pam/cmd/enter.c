/* SPDX-License-Identifier: BSD-3-Clause */
#include "enter.h"
#include "consult.h"
#include "common/error.h"
#include "apply/backend.h"
#include "apply/kmod_backend.h"
#include "common/layout.h"
#include "common/paths.h"
#include "apply/namespace.h"
#include "apply/userns.h"
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(const struct chos_error *err)
{
	fprintf(stderr, "chos: %s\n", err->message);
	return -1;
}

/* Namespace layout, already inside the view: a mount namespace of our own in which TREE covers
 * the session's tree on /.chos-link. rslave first, as everywhere, so nothing leaks outwards. */
static int rebind_link(const char *tree, struct chos_error *err)
{
	if (unshare(CLONE_NEWNS) < 0)
		return chos_fail(err, -errno, "unshare(CLONE_NEWNS): %s", strerror(errno));
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		return chos_fail(err, -errno, "make / rslave: %s", strerror(errno));
	if (mount(tree, "/" CHOS_LINK_NAME, NULL, MS_BIND | MS_REC, NULL) < 0)
		return chos_fail(err, -errno, "bind %s on /%s: %s", tree, CHOS_LINK_NAME,
				 strerror(errno));
	return 0;
}

/* Inside a view the host's root is gone: TREE must be reachable at its catalogue path. */
static int check_visible_here(const char *tree, struct chos_error *err)
{
	struct stat st;

	if (stat(tree, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	return chos_fail(
		err, -ENOENT,
		"the tree %s is not visible inside this session: an admin "
		"can make it so by keeping the trees under a directory bound into the root "
		"(BINDMOUNT in " CHOS_SYSCONFIG_DEFAULT ")",
		tree);
}

/* Unprivileged callers get their CAP_SYS_ADMIN from a user namespace of their own. */
static int gain_mount_rights(struct chos_error *err)
{
	return geteuid() == 0 ? 0 : chos_userns_enter(err);
}

int chos_cmd_enter(const char *root, const char *tree)
{
	struct chos_error err = { 0 };
	char cwd[PATH_MAX];
	const char *home = getenv("HOME");
	enum chos_backend layout;
	bool kmod_layout;
	int r;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "%s", home ? home : "/");
	if (chos_backend_of_layout("/", &layout) == 0) {
		/* Inside a session's view: kmod layout (a symlink) switches with one write. */
		if (check_visible_here(tree, &err) < 0)
			return fail(&err);
		if (layout == CHOS_BACKEND_KMOD
			    ? chos_kmod_set(tree, &err) < 0
			    : gain_mount_rights(&err) < 0 || rebind_link(tree, &err) < 0)
			return fail(&err);
	} else {
		/* On the host's view: enter ROOT with the backend it is laid out for. */
		if ((r = chos_backend_of_layout(root, &layout)) < 0) {
			fprintf(stderr, "chos: %s/%s: %s: run `chos setup` (as root) first\n", root,
				CHOS_LINK_NAME, strerror(-r));
			return -1;
		}
		kmod_layout = layout == CHOS_BACKEND_KMOD;
		if (kmod_layout && (chos_kmod_check_root(root, &err) < 0 ||
				    chos_kmod_check_visible(root, tree, &err) < 0 ||
				    chos_kmod_set(tree, &err) < 0))
			return fail(&err);
		if (gain_mount_rights(&err) < 0)
			return fail(&err);
		if (kmod_layout ? chos_kmod_enter(root, cwd, &err) < 0
				: chos_namespace_apply(root, tree, cwd, &err) < 0)
			return fail(&err);
	}
	/* Re-resolve the working directory in the new view (it may have been inside the old tree).
	 */
	if (chdir(cwd) < 0 && (!home || chdir(home) < 0))
		(void)!chdir("/");
	return 0;
}

int chos_cmd_enter_granted(const struct chos_cmd_options *opts, const char *name)
{
	char *tree = chos_consult_grant(opts, name);
	int r;

	if (!tree)
		return -1;
	r = chos_cmd_enter(opts->root, tree);
	free(tree);
	return r;
}
