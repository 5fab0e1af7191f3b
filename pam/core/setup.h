/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup`: lays out ROOT (layout.h) from the catalogue and the site's bind list, or with
 * check set, only reports what is wrong and what to do about it. Idempotent: what is already
 * right is left alone, so running it twice changes nothing.
 *
 * The site's bind list is the seed's /etc/sysconfig/chos. The format accepted (shell-like, so
 * the seed's file keeps working):
 *   # comment                     ignored, like blank lines
 *   BINDMOUNT=/scratch            one directory, bound from the host at the same path in ROOT
 *   BINDMOUNT="/scratch /project" several, separated by blanks (quotes ' or " optional)
 *   OTHER=...                     other variables are the seed's init script's; ignored here
 * Paths are absolute, without "." or ".." components. The file must pass the trust rule
 * (root-owned, not group/world-writable): it decides what is mounted. A missing file means no
 * site directories beyond the standard ones (CHOS_SITE_DIRS). */
#pragma once
#include <stdio.h>
#include "session.h"

#define CHOS_DEFAULT_SYSCONFIG "/etc/sysconfig/chos"
/* The seed's file is a handful of lines; this caps what a broken one makes us read. */
#define CHOS_SYSCONFIG_MAX_BYTES (64u << 10)
/* Directories one BINDMOUNT file may list; more is a mistake, not a site. */
#define CHOS_BINDMOUNT_MAX 64

struct chos_setup_options {
	const char *root;        /* NULL: CHOS_ROOT_DEFAULT */
	const char *catalogue;   /* NULL: CHOS_DEFAULT_CATALOGUE */
	const char *sysconfig;   /* NULL: CHOS_DEFAULT_SYSCONFIG */
	const char *policy;      /* NULL: CHOS_DEFAULT_POLICY (checked, never changed) */
	enum chos_backend backend;
	int check;               /* report only; change nothing */
	FILE *out;               /* one line per action or problem */
};

struct chos_bindmounts {
	char **paths;
	size_t count;
};

/* Parses the text of a sysconfig file (the fuzzer and the tests use it directly). */
int chos_bindmounts_parse(const char *text, size_t len, struct chos_bindmounts *out,
			  struct chos_error *err);
void chos_bindmounts_free(struct chos_bindmounts *b);

/* Runs it. Returns the number of problems left (0: the set-up is right), or -errno when it
 * could not even start. Each problem is one line on out: "problem: WHAT; fix: WHAT TO DO". */
int chos_setup_run(const struct chos_setup_options *opts);
