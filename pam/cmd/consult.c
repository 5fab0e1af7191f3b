/* SPDX-License-Identifier: BSD-3-Clause */
#include "consult.h"
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The policy's console.log and the core's debug lines go to stderr under --debug only. */
static void log_to_stderr(void *userdata, int priority, const char *line)
{
	(void)userdata;
	(void)priority;
	fprintf(stderr, "chos: %s\n", line);
}

struct chos_policy *chos_consult_open(const struct chos_cmd_options *opts)
{
	/* The policy borrows its log until it is closed: this one lives as long as the process. */
	static struct chos_log log = { .fn = log_to_stderr };
	struct chos_policy_options popts = { .bundle_path = opts->policy, .log = &log };
	struct chos_decision fault;
	struct chos_policy *policy;

	log.debug = opts->debug;
	return chos_policy_open(&popts, &policy, &fault) < 0 ? NULL : policy;
}

int chos_consult_ask(const struct chos_cmd_options *opts, const char *name,
		     struct chos_session_result *res, char *why, size_t why_len)
{
	struct chos_log log = { .fn = log_to_stderr, .debug = opts->debug };
	struct passwd *pw = getpwuid(getuid());
	const char *tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : NULL;

	if (!pw) {
		snprintf(why, why_len, "uid %u has no passwd entry", (unsigned)getuid());
		return -1;
	}
	struct chos_session_options sopts = {
		.user = pw->pw_name,
		.service = "chos",
		.tty = tty,
		/* The command line's name, passed as $CHOS would be: the file is not read. */
		.request = { .pam_env = name, .log = &log },
		.catalogue = opts->catalogue,
		.policy = opts->policy,
		.root = opts->root,
		.on_error = CHOS_ON_ERROR_HOST,
		.allow_root = 1,
		.log = &log,
		.loaded = opts->loaded,
	};
	memset(res, 0, sizeof(*res));
	if (chos_session_decide(&sopts, res) < 0 || res->failed != CHOS_STAGE_NONE) {
		snprintf(why, why_len, "%s",
			 res->error.message[0] ? res->error.message : "the decision failed");
		return -1;
	}
	switch (res->outcome) {
	case CHOS_OUTCOME_ENV:
		if (!strcmp(res->env, name)) {
			snprintf(why, why_len, "%s (%s)", res->reason, res->layer);
			return 1;
		}
		snprintf(why, why_len, "the policy chooses '%s' for you: %s (%s)", res->env,
			 res->reason, res->layer);
		return 0;
	case CHOS_OUTCOME_DENY:
		snprintf(why, why_len, "the policy denies it: %s (%s)", res->reason, res->layer);
		return 0;
	case CHOS_OUTCOME_HOST:
		break;
	}
	snprintf(why, why_len, "the policy keeps you on the host: %s (%s)", res->reason,
		 res->layer);
	return 0;
}

char *chos_consult_grant(const struct chos_cmd_options *opts, const char *name)
{
	/* The policy's reason plus the framing around it. */
	char why[CHOS_REASON_MAX + CHOS_ERROR_MAX];
	struct chos_session_result res;
	struct chos_catalogue cat;
	struct chos_error err = { 0 };
	char *tree = NULL;
	int granted;

	if (!chos_name_valid(name, strlen(name))) {
		fprintf(stderr, "chos: '%s' is not an environment name ([A-Za-z0-9._-]+)\n", name);
		return NULL;
	}
	/* Unlisted names get their own message: the policy is never asked about them. */
	if (chos_catalogue_load(opts->catalogue, 0, &cat, &err) < 0) {
		fprintf(stderr, "chos: %s\n", err.message);
		return NULL;
	}
	granted = chos_catalogue_find(&cat, name) != NULL;
	chos_catalogue_free(&cat);
	if (!granted) {
		fprintf(stderr, "chos: '%s' is not in the catalogue %s; see 'chos list'\n", name,
			opts->catalogue);
		return NULL;
	}
	granted = chos_consult_ask(opts, name, &res, why, sizeof(why));
	if (granted < 0)
		fprintf(stderr, "chos: %s\n", why);
	else if (!granted)
		fprintf(stderr, "chos: '%s' refused: %s\n", name, why);
	else if (!(tree = strdup(res.path)))
		fprintf(stderr, "chos: out of memory\n");
	return tree;
}
