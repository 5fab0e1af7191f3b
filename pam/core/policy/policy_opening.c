/* SPDX-License-Identifier: BSD-3-Clause
 * chos_policy_open on a helper thread (policy.h), so that a login's policy loads while its
 * facts are gathered: the runtime, the bundle and its base unit need nothing of the login.
 *
 * What moves from the helper to the caller, and how each stays as chos_policy_open leaves it:
 *   - the runtime: QuickJS checks its stack against the top it recorded, which is the
 *     helper's; the caller's is recorded when it takes the policy (chos_sandbox_enter).
 *   - the deadline: it counts the evaluating thread's CPU time, so what the load left of it is
 *     carried over to the caller's clock, not compared with it.
 *   - the log: the helper's lines (console output of the top level, the bundle's notices) are
 *     kept and written to the caller's sink when it takes the policy, so a sink that is not
 *     thread-safe (the addon's, the CLI's) is only ever called by its own thread, and the lines
 *     come after the facts' own, as when the policy loaded after them.
 *   - what the policy borrows from its options (the bundle's path, the log): the helper's own
 *     copies while it loads, the caller's once taken.
 * The last of the two to let go frees the opening; abandoned, the helper closes the policy, and
 * needs nothing of the caller's, which may be gone by then. */
#include "policy/policy_internal.h"
#include "common/helper.h"
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A line the helper logged, kept for the caller's sink. */
struct kept_line {
	struct kept_line *next;
	int priority;
	char text[];
};

struct chos_policy_opening {
	pthread_mutex_t lock;
	pthread_cond_t ended;
	bool done;
	int holders;	  /* the caller and the helper */
	pthread_t thread; /* the helper's, to unpin before waiting for it (helper.h) */
	struct chos_policy_options opts; /* the caller's, with the path and log below */
	char *path;			 /* the bundle's, the helper's own copy */
	const char *caller_path;	 /* the caller's: the policy's once taken */
	const struct chos_log *sink;	 /* the caller's */
	struct chos_log keep;
	struct kept_line *lines, **tail;
	struct chos_policy *policy; /* the helper's answer: the policy, or r and fault */
	int r;
	struct chos_decision fault;
};

/* Runs on the helper only: nobody else touches the list before done. */
static void keep_line(void *userdata, int priority, const char *text)
{
	struct chos_policy_opening *o = userdata;
	size_t n = strlen(text) + 1;
	struct kept_line *l = malloc(sizeof(*l) + n);

	if (!l)
		return; /* out of memory: the line is lost, as syslog would lose it */
	l->next = NULL;
	l->priority = priority;
	memcpy(l->text, text, n);
	*o->tail = l;
	o->tail = &l->next;
}

static void free_opening(struct chos_policy_opening *o)
{
	for (struct kept_line *l = o->lines, *next; l; l = next) {
		next = l->next;
		free(l);
	}
	chos_policy_close(o->policy);
	free(o->path);
	pthread_cond_destroy(&o->ended);
	pthread_mutex_destroy(&o->lock);
	free(o);
}

/* Under o->lock: one holder fewer; true when it was the last. */
static bool let_go(struct chos_policy_opening *o)
{
	return --o->holders == 0;
}

static void *open_on_helper(void *arg)
{
	struct chos_policy_opening *o = arg;
	bool last;

	o->r = chos_policy_open(&o->opts, &o->policy, &o->fault);
	if (o->policy)
		chos_policy_leave(o->policy);
	pthread_mutex_lock(&o->lock);
	o->done = true;
	pthread_cond_signal(&o->ended);
	last = let_go(o);
	pthread_mutex_unlock(&o->lock);
	if (last)
		free_opening(o);
	return NULL;
}

int chos_policy_open_begin(const struct chos_policy_options *opts, struct chos_policy_opening **out)
{
	struct chos_policy_opening *o = calloc(1, sizeof(*o));
	int r;

	*out = NULL;
	if (!o || (opts->bundle_path && !(o->path = strdup(opts->bundle_path)))) {
		free(o);
		return -ENOMEM;
	}
	o->opts = *opts;
	o->opts.bundle_path = o->path;
	o->caller_path = opts->bundle_path;
	o->sink = opts->log;
	o->keep = (struct chos_log){ keep_line, o, opts->log && opts->log->debug };
	o->opts.log = &o->keep;
	o->tail = &o->lines;
	o->holders = 2;
	pthread_mutex_init(&o->lock, NULL);
	pthread_cond_init(&o->ended, NULL);
	if ((r = chos_helper_start(open_on_helper, o, &o->thread)) != 0) {
		free_opening(o);
		return -r;
	}
	*out = o;
	return 0;
}

int chos_policy_open_end(struct chos_policy_opening *o, struct chos_policy **out,
			 struct chos_decision *fault)
{
	int r;

	pthread_mutex_lock(&o->lock);
	if (!o->done)
		chos_helper_unpin(o->thread);
	while (!o->done)
		pthread_cond_wait(&o->ended, &o->lock);
	pthread_mutex_unlock(&o->lock);
	/* Done: the helper has let go and touches nothing any more. */
	for (struct kept_line *l = o->lines; l; l = l->next)
		chos_log(o->sink, l->priority, "%s", l->text);
	*out = o->policy;
	o->policy = NULL;
	*fault = o->fault;
	r = o->r;
	if (*out)
		chos_policy_enter(*out, o->sink, o->caller_path);
	free_opening(o);
	return r;
}

void chos_policy_open_abandon(struct chos_policy_opening *o)
{
	bool last;

	if (!o)
		return;
	pthread_mutex_lock(&o->lock);
	last = let_go(o);
	pthread_mutex_unlock(&o->lock);
	if (last)
		free_opening(o);
}
