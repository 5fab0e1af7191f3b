/* SPDX-License-Identifier: BSD-3-Clause */
#include "launch.h"
#include "facts/envlist.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Drops every variable the tree's %ENV list does not keep. CHOS is set afterwards. */
static int filter_environment(struct chos_error *err)
{
	struct chos_envlist list;
	size_t kept = 0;
	int r = chos_envlist_load(CHOS_ENVLIST_CONF, &list, err);

	if (r < 0)
		return r;
	for (size_t i = 0; environ[i]; i++) {
		const char *eq = strchr(environ[i], '=');

		if (eq && chos_envlist_keeps(&list, environ[i], (size_t)(eq - environ[i])))
			environ[kept++] = environ[i];
	}
	environ[kept] = NULL;
	chos_envlist_free(&list);
	return 0;
}

int chos_cmd_launch(const char *name, const char *file, char **argv, const char *const *set)
{
	struct chos_error err = { 0 };

	if (filter_environment(&err) < 0) {
		fprintf(stderr, "chos: %s\n", err.message);
		return 1;
	}
	if (setenv("CHOS", name, 1) < 0)
		goto no_memory;
	for (; set && set[0]; set += 2)
		if (setenv(set[0], set[1], 1) < 0)
			goto no_memory;
	execvp(file, argv);
	fprintf(stderr, "chos: cannot run %s in %s: %s\n", file, name, strerror(errno));
	return errno == ENOENT ? 127 : 126;
no_memory:
	fprintf(stderr, "chos: setenv: %s\n", strerror(errno));
	return 1;
}
