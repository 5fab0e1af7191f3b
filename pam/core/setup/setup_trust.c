/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup`'s trust steps (setup_internal.h), the rule of trust.h:
 *   trees     each catalogue tree and every directory above it; one that fails is reported and
 *             dropped from this run's catalogue, so setup neither serves files into it nor
 *             lists it in /proc/chos/valid, and sessions refuse it (session.c). A missing tree
 *             is kept: tree_exists in setup.c reports it, as before.
 *   bytecode  the bundle's .qbc, when there is one: logins ignore an untrusted one and load the
 *             source (logged), which the admin should hear of here rather than from syslog.
 * The catalogue, bind list and bundle are judged where setup.c reads them. */
#include "setup/setup_internal.h"
#include "common/trust.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TREE_FIX                                                                             \
	"chown root and chmod go-w the directory (and every one above the tree), or remove " \
	"the tree from the catalogue"

/* 0 when path passes, or is missing or not a directory (reported elsewhere); else -errno and
 * why. */
static int tree_untrusted(const char *path, struct chos_error *why)
{
	int fd = chos_open_trusted_dir(path, 0, why);

	if (fd >= 0)
		return close(fd), 0;
	return fd == -ENOENT || fd == -ENOTDIR ? 0 : fd;
}

void setup_drop_entry(struct chos_catalogue *cat, size_t i)
{
	free(cat->envs[i].name);
	free(cat->envs[i].path);
	memmove(&cat->envs[i], &cat->envs[i + 1], (cat->count - i - 1) * sizeof(cat->envs[0]));
	cat->count--;
}

void setup_drop_untrusted_trees(struct setup_run *r, struct chos_catalogue *cat)
{
	struct chos_error why = { 0 };

	for (size_t i = 0; i < cat->count;) {
		if (tree_untrusted(cat->envs[i].path, &why) == 0) {
			i++;
			continue;
		}
		setup_problem(
			r, why.code, TREE_FIX,
			"tree %s of \"%s\" is not trusted (%s): setup leaves it out (no files "
			"served, not listed for the kernel module) and sessions refuse it",
			cat->envs[i].path, cat->envs[i].name, why.message);
		setup_drop_entry(cat, i);
	}
}

void setup_check_bytecode(struct setup_run *r, const char *policy)
{
	char qbc[SETUP_PATH_MAX];
	struct chos_error err = { 0 };
	int fd;

	if (snprintf(qbc, sizeof(qbc), "%s.qbc", policy) >= (int)sizeof(qbc))
		return;
	fd = chos_open_trusted(qbc, 0, &err);
	if (fd >= 0)
		close(fd);
	else if (fd != -ENOENT)
		setup_problem(r, fd,
			      "rebuild it with `chos-policy build` and install it root-owned, mode "
			      "644 (logins load the source meanwhile)",
			      "bytecode: %s", err.message);
}
