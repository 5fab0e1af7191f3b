/* SPDX-License-Identifier: BSD-3-Clause
 * The options every user subcommand shares. The defaults are the documented paths (README);
 * the demo and the tests point them elsewhere. Trusting these flags is safe because chos is
 * not setuid: a caller can only aim the command at files it could read anyway, and the
 * catalogue and bundle must still pass the trust rule (root-owned, not group/world-writable). */
#pragma once

#include "common/paths.h"

struct chos_policy;

struct chos_cmd_options {
	const char *catalogue;
	const char *policy;
	const char *root;
	int debug;
	int all;		    /* --all, which only `chos list` accepts */
	struct chos_policy *loaded; /* the policy opened once for many questions, or NULL */
};

/* Parses leading options of argv (argv[0] is the subcommand name) and stops at the first
 * operand; --all is accepted when allow_all is set. Returns the index of the first operand, or
 * -1 after printing the misuse. */
int chos_cmd_options_parse(int argc, char **argv, int allow_all, struct chos_cmd_options *opts);
