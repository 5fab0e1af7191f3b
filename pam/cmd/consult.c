/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include "consult.h"
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

/* The policy's console.log and the core's debug lines go to stderr under --debug only. */
static void log_to_stderr(void *userdata, int priority, const char *line)
{
	(void)userdata;
	(void)priority;
	fprintf(stderr, "chos: %s\n", line);
}

int chos_consult_open(const struct chos_cmd_options *opts, struct chos_consult *c)
{
	struct chos_error err = {0};
	struct passwd *pw;

	memset(c, 0, sizeof(*c));
	c->log = (struct chos_log){.fn = log_to_stderr, .debug = opts->debug};
	c->policy = (struct chos_policy_options){.bundle_path = opts->policy, .log = &c->log};
	if (chos_catalogue_load(opts->catalogue, 0, &c->catalogue, &err) < 0) {
		fprintf(stderr, "chos: %s\n", err.message);
		return -1;
	}
	errno = 0;
	pw = getpwuid(getuid());
	if (!pw) {
		fprintf(stderr, "chos: uid %u has no passwd entry: %s\n", (unsigned)getuid(),
			errno ? strerror(errno) : "not found");
		goto fail;
	}
	if (chos_context_from_nss(pw->pw_name, &c->context, &err) < 0 ||
	    chos_context_set_host(&c->context, &err) < 0) {
		fprintf(stderr, "chos: %s\n", err.message);
		goto fail;
	}
	c->context.service = strdup("chos");
	if (!c->context.service) {
		fprintf(stderr, "chos: out of memory\n");
		goto fail;
	}
	if (isatty(STDIN_FILENO) && ttyname(STDIN_FILENO))
		c->context.tty = strdup(ttyname(STDIN_FILENO));
	return 0;
fail:
	chos_consult_close(c);
	return -1;
}

void chos_consult_close(struct chos_consult *c)
{
	chos_context_free(&c->context);
	chos_catalogue_free(&c->catalogue);
}

/* The layer as printed everywhere: site, group:NAME, request, default, host. */
static const char *layer_text(const struct chos_decision *d, char *buf, size_t len)
{
	if (d->layer != CHOS_LAYER_GROUP)
		return chos_layer_name(d->layer);
	snprintf(buf, len, "group:%s", d->group);
	return buf;
}

int chos_consult_ask(struct chos_consult *c, const char *name, struct chos_decision *d, char *why,
		     size_t why_len)
{
	free(c->context.requested);
	/* The name comes from the caller's command line: the nearest source the contract has
	 * is the environment variable, which is also what `CHOS=NAME ssh ...` would send. */
	c->context.requested = strdup(name);
	c->context.requested_from = CHOS_REQUEST_ENV;
	if (!c->context.requested) {
		snprintf(why, why_len, "out of memory");
		return -1;
	}
	char layer[CHOS_NAME_MAX + 8];
	int rc;

	memset(d, 0, sizeof(*d));
	rc = chos_policy_decide(&c->policy, &c->catalogue, &c->context, d);
	if (rc < 0 && d->fault == CHOS_FAULT_NONE) {
		snprintf(why, why_len, "the policy could not run: %s", strerror(-rc));
		return -1;
	}
	if (d->fault != CHOS_FAULT_NONE) {
		snprintf(why, why_len, "the policy failed (%s): %s", chos_fault_name(d->fault),
			 d->fault_message);
		return -1;
	}
	switch (d->outcome) {
	case CHOS_OUTCOME_ENV:
		if (!strcmp(d->env, name)) {
			snprintf(why, why_len, "%s (%s)", d->reason, layer_text(d, layer, sizeof(layer)));
			return 1;
		}
		snprintf(why, why_len, "the policy chooses '%s' for you: %s (%s)", d->env,
			 d->reason, layer_text(d, layer, sizeof(layer)));
		return 0;
	case CHOS_OUTCOME_DENY:
		snprintf(why, why_len, "the policy denies it: %s (%s)", d->reason,
			 layer_text(d, layer, sizeof(layer)));
		return 0;
	case CHOS_OUTCOME_HOST:
		break;
	}
	snprintf(why, why_len, "the policy keeps you on the host: %s (%s)", d->reason,
		 layer_text(d, layer, sizeof(layer)));
	return 0;
}
