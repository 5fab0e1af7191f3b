/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup`: lays out ROOT (layout.h) from the catalogue and the site's bind list, or with
 * check set, only reports what is wrong and what to do about it. Idempotent: what is already
 * right is left alone, so running it twice changes nothing. For the kmod backend it also loads
 * the module and mounts its filesystem on /proc/chos (kmod/README.md). What it binds into every
 * tree (the host's identity files, the site's catalogue and policy): setup.c's header.
 *
 * The site's bind list: bindmounts.h. */
#pragma once
#include <stdio.h>
#include "common/error.h"
#include "setup/bindmounts.h"
#include "common/paths.h"
#include "session.h"

struct chos_setup_options {
	const char *root;	   /* NULL: CHOS_ROOT_DEFAULT */
	const char *catalogue;	   /* NULL: CHOS_CATALOGUE_DEFAULT */
	const char *sysconfig;	   /* NULL: CHOS_SYSCONFIG_DEFAULT */
	const char *policy;	   /* NULL: CHOS_POLICY_DEFAULT (checked, never changed) */
	enum chos_backend backend; /* AUTO: chos_backend_for_setup */
	const char *module; /* kmod: chos.ko to load when `modprobe chos` cannot; NULL: none */
	int check;	    /* report only; change nothing */
	FILE *out;	    /* one line per action or problem */
};

/* Runs it. Returns the number of problems left (0: the set-up is right), or -errno when it
 * could not even start, with err saying why (-EINVAL: a root that is not an absolute path
 * without . or .. components, or is /). Each problem is one line on out: "problem: WHAT; fix:
 * WHAT TO DO". */
int chos_setup_run(const struct chos_setup_options *opts, struct chos_error *err);
