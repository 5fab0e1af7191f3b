/* SPDX-License-Identifier: BSD-3-Clause
 * Asking the site policy, for the chos command. The rule: a user may use environment NAME
 * when the policy, consulted with service "chos" and the request NAME, chooses NAME. That is
 * the same question the PAM module asks at login, so `chos list` shows exactly the
 * environments a login with CHOS=NAME would land in (for the "chos" service). */
#pragma once
#include <stddef.h>
#include "catalogue.h"
#include "context.h"
#include "options.h"
#include "policy.h"

struct chos_consult {
	struct chos_catalogue catalogue;
	struct chos_context context;       /* the caller's facts; requested set per question */
	struct chos_policy_options policy;
	struct chos_log log;
};

/* Loads the catalogue and the calling user's facts. On failure prints one line and returns -1. */
int chos_consult_open(const struct chos_cmd_options *opts, struct chos_consult *c);
void chos_consult_close(struct chos_consult *c);

/* Asks for NAME. Returns 1 granted, 0 refused (why says so), -1 the policy faulted (why says
 * how). NAME must already be a listed name. */
int chos_consult_ask(struct chos_consult *c, const char *name, struct chos_decision *d, char *why,
		     size_t why_len);
