/* SPDX-License-Identifier: BSD-3-Clause
 * Asking the site policy, for the chos command, through the same core function as the PAM
 * module (chos_session_decide), with service "chos". The rule: a user may use environment NAME
 * when the policy, asked with the request NAME, chooses NAME. So `chos list` shows exactly the
 * environments a login with CHOS=NAME would land in (for the "chos" service), and a refusal
 * carries the policy's own reason. uid 0 is asked like anyone else (allow_root): root running
 * `chos run` asked for it explicitly. */
#pragma once
#include "options.h"
#include "session.h"
#include <stddef.h>

/* The policy at opts->policy opened once (chos_policy_open), for opts->loaded: every
 * chos_consult_ask then evaluates it instead of loading it again. NULL when it cannot be opened
 * (each question then loads it and reports why, as a login would). Close with
 * chos_policy_close. Its console and debug lines go where chos_consult_ask's go. */
struct chos_policy *chos_consult_open(const struct chos_cmd_options *opts);

/* Asks for NAME. Returns 1 granted (res->path is the tree), 0 refused (why says why), -1 when
 * the set-up failed (catalogue, policy fault...; why says what to fix). */
int chos_consult_ask(const struct chos_cmd_options *opts, const char *name,
		     struct chos_session_result *res, char *why, size_t why_len);

/* The whole question for run and shell: NAME must be a valid, listed name the policy grants.
 * Returns the tree's path (caller frees), or NULL after printing why not. */
char *chos_consult_grant(const struct chos_cmd_options *opts, const char *name);
