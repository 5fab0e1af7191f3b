/* SPDX-License-Identifier: BSD-3-Clause
 * The three lists of layout.h, defined once: what goes through the link, what is the host's.
 *
 * CHOS_OS_DIRS: the directories that make up an OS tree; /chos/NAME is a symlink through the link.
 * CHOS_SITE_DIRS: the host's own directories, bound into /chos so homes, temp files, devices and
 *   kernel views are the same whichever tree a session runs in (parents before children).
 * CHOS_HOST_FILES: identity and name-service files served from the host, so users, groups and
 *   host names resolve the same in every tree. */
#include "common/layout.h"
#include <stddef.h>

const char *const CHOS_OS_DIRS[] = {
	"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr",
	"etc", "opt",  "var", "boot",  "srv",	NULL,
};

const char *const CHOS_SITE_DIRS[] = {
	"home", "tmp", "proc", "dev", "dev/pts", "dev/shm", "sys", "run", NULL,
};

const char *const CHOS_HOST_FILES[] = {
	"etc/passwd",	   "etc/group",		"etc/shadow",	 "etc/gshadow", "etc/hosts",
	"etc/resolv.conf", "etc/nsswitch.conf", "etc/localtime", NULL,
};
