/* SPDX-License-Identifier: BSD-3-Clause
 * `chos current`: the environment this process is in, as `key: value` lines:
 *   env: NAME         from $CHOS (set by pam_chos and by chos run/shell); "none" when unset
 *   view: chos|host   whether "/" is a chos root (it has the link entry, see layout.h)
 *   link: PATH        with the kernel module: what /proc/chos/link points to for this process
 * It reads no configuration, so it works inside any tree. */
#include "commands.h"
#include "apply/backend.h"
#include "common/layout.h"
#include "options.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int chos_cmd_current(int argc, char **argv)
{
	struct chos_cmd_options opts;
	const char *env = getenv("CHOS");
	char link[PATH_MAX];
	enum chos_backend layout;
	ssize_t n;
	int first = chos_cmd_options_parse(argc, argv, 0, &opts);

	if (first < 0)
		return 2;
	if (first != argc) {
		fprintf(stderr, "chos current: unexpected '%s'\n", argv[first]);
		return 2;
	}
	printf("env: %s\n", env && *env ? env : "none");
	printf("view: %s\n", chos_backend_of_layout("/", &layout) == 0 ? "chos" : "host");
	n = readlink(CHOS_KMOD_LINK, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = '\0';
		printf("link: %s\n", link);
	} else if (errno != ENOENT) {
		fprintf(stderr, "chos: cannot read %s: %s\n", CHOS_KMOD_LINK, strerror(errno));
		return 1;
	}
	return 0;
}
