/* SPDX-License-Identifier: BSD-3-Clause
 * The site's bind list, the seed's /etc/sysconfig/chos. The format accepted (shell-like, so
 * the seed's file keeps working):
 *   # comment                     ignored, like blank lines
 *   BINDMOUNT=/scratch            one directory, bound from the host at the same path in ROOT
 *   BINDMOUNT="/scratch /project" several, separated by blanks (quotes ' or " optional)
 *   OTHER=...                     other variables are the seed's init script's; ignored here
 * Paths are absolute, without "." or ".." components. The file must pass the trust rule
 * (root-owned, not group/world-writable): it decides what is mounted. A missing file means no
 * site directories beyond the standard ones (CHOS_SITE_DIRS). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"

/* The seed's file is a handful of lines; this caps what a broken one makes us read. */
#define CHOS_SYSCONFIG_MAX_BYTES (64u << 10)
/* Directories one BINDMOUNT file may list; more is a mistake, not a site. */
#define CHOS_BINDMOUNT_MAX 64
/* PATH_MAX: a longer site directory is refused rather than cut. */
#define CHOS_SITE_PATH_MAX 4096

struct chos_bindmounts {
	char **paths;
	size_t count;
};

/* Parses the text of a sysconfig file; a bad line is an error naming its number. */
int chos_bindmounts_parse(const char *text, size_t len, struct chos_bindmounts *out,
			  struct chos_error *err);
void chos_bindmounts_free(struct chos_bindmounts *b);

/* True for a directory a site may bind (or a ROOT): absolute, no control characters, no "."
 * or ".." component, not "/" itself. */
bool chos_site_path_valid(const char *path, size_t len);
