/* SPDX-License-Identifier: BSD-3-Clause
 * One session (session.h). decide() gathers the facts, loads the catalogue and asks the policy,
 * whose load (policy_opening.c) runs on a helper thread meanwhile when the session builds no
 * view; every failure on the way goes through fallback(), the single place on_error is applied.
 * chos_session_open then checks the chosen tree against the trust rule and enters it with the
 * backend chos_backend_for_root picks (backend.h); when that fails, on_error decides again and
 * its `default` is tried once. With opts->view (a Slurm step) the same apply step builds the
 * tree's view in a helper instead (view.h), for the step's tasks to enter; a failure there
 * falls back exactly as a failed entry does. The result carries the backend as its enum (the
 * log line names it) and the layer as printed (chos_decision_layer: "group:NAME" for a group
 * file). With opts->adopt, adopted() comes before the policy: a session in its user's job
 * enters the job's pinned view (jobview.h), and a refused pin falls back as a failed apply. */
#include "session.h"
#include "common/beneath.h"
#include "common/layout.h"
#include "common/log.h"
#include "common/trust.h"
#include "apply/jobview.h"
#include "apply/kmod_backend.h"
#include "apply/namespace.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

const char *chos_stage_name(enum chos_stage stage)
{
	static const char *const names[] = { "none", "facts", "catalogue", "policy", "apply" };
	return names[stage];
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A layer no decision named: on_error's fallbacks and root's rules. */
static void set_layer(struct chos_session_result *res, enum chos_layer layer)
{
	snprintf(res->layer, sizeof(res->layer), "%s", chos_layer_name(layer));
}

static void set_host(struct chos_session_result *res, const char *reason)
{
	res->outcome = CHOS_OUTCOME_HOST;
	res->image = CHOS_IMAGE_NONE;
	res->env[0] = res->path[0] = '\0';
	set_layer(res, CHOS_LAYER_HOST);
	snprintf(res->reason, sizeof(res->reason), "%s", reason);
}

static const char *root_of(const struct chos_session_options *opts)
{
	return opts->root ? opts->root : CHOS_ROOT_DEFAULT;
}

/* res->path is the directory entered: an image's is its mount point (chos_env_tree). */
static int set_env(const struct chos_session_options *opts, struct chos_session_result *res,
		   const struct chos_catalogue *cat, const char *name)
{
	const struct chos_env *e = cat ? chos_catalogue_find(cat, name) : NULL;

	if (!e || chos_env_tree(e, root_of(opts), res->path, sizeof(res->path)) < 0)
		return -ENOENT;
	res->outcome = CHOS_OUTCOME_ENV;
	res->image = e->image;
	snprintf(res->env, sizeof(res->env), "%s", e->name);
	return 0;
}

/* on_error, in one place. cat is NULL when the catalogue itself failed. */
static void fallback(const struct chos_session_options *opts, struct chos_session_result *res,
		     const struct chos_catalogue *cat, int uid0)
{
	res->on_error = opts->on_error;
	if (uid0) {
		set_host(res, "root stays on the host when anything fails");
		return;
	}
	switch (opts->on_error) {
	case CHOS_ON_ERROR_DENY:
		res->outcome = CHOS_OUTCOME_DENY;
		res->image = CHOS_IMAGE_NONE;
		res->env[0] = res->path[0] = '\0';
		set_layer(res, CHOS_LAYER_HOST);
		snprintf(res->reason, sizeof(res->reason), "on_error=deny");
		return;
	case CHOS_ON_ERROR_DEFAULT:
		if (set_env(opts, res, cat, "default") == 0) {
			set_layer(res, CHOS_LAYER_DEFAULT);
			snprintf(res->reason, sizeof(res->reason), "on_error=default");
			return;
		}
		set_host(res, "on_error=default, but the catalogue lists no usable `default`");
		return;
	case CHOS_ON_ERROR_HOST:
		break;
	}
	set_host(res, "on_error=host");
}

static void take_decision(const struct chos_session_options *opts, struct chos_session_result *res,
			  const struct chos_decision *d, const struct chos_catalogue *cat, int uid0)
{
	chos_decision_layer(d, res->layer, sizeof(res->layer));
	snprintf(res->reason, sizeof(res->reason), "%s", d->reason);
	res->outcome = d->outcome;
	if (d->outcome == CHOS_OUTCOME_ENV && set_env(opts, res, cat, d->env) < 0) {
		/* policy.c already refuses unlisted names; this keeps the rule true on its own. */
		res->outcome = CHOS_OUTCOME_DENY;
		snprintf(res->reason, sizeof(res->reason), "\"%s\" is not listed", d->env);
	}
	if (res->outcome == CHOS_OUTCOME_DENY && uid0)
		set_host(res, "root is never denied: stays on the host");
}

static int gather(const struct chos_session_options *opts, struct chos_context *ctx,
		  struct chos_session_result *res)
{
	int r;

	if ((r = chos_context_from_nss(opts->user, opts->gids, ctx, &res->error)) < 0 ||
	    (r = chos_context_set_host(ctx, &res->error)) < 0)
		return r;
	ctx->service = strdup(opts->service ? opts->service : "chos");
	ctx->remote_host = opts->remote_host ? strdup(opts->remote_host) : NULL;
	ctx->tty = opts->tty ? strdup(opts->tty) : NULL;
	ctx->job = opts->job ? chos_job_copy(opts->job) : NULL;
	if (!ctx->service || (opts->remote_host && !ctx->remote_host) || (opts->tty && !ctx->tty) ||
	    (opts->job && !ctx->job))
		return chos_fail(&res->error, -ENOMEM, "out of memory");
	return 0;
}

/* The user's request; only read for a session that may be switched. */
static int gather_request(const struct chos_session_options *opts, struct chos_context *ctx,
			  struct chos_session_result *res)
{
	if (chos_request_fill(ctx, &opts->request) < 0)
		return chos_fail(&res->error, -ENOMEM, "out of memory");
	if (ctx->requested)
		snprintf(res->requested, sizeof(res->requested), "%s", ctx->requested);
	return 0;
}

/* The job's pinned view for a session pam_slurm_adopt put into its user's job: 1 when there
 * is one (res says so, pin holds it), 0 when there is none (the usual decision follows), -1
 * when it is refused (res->error says why). */
static int adopted(const struct chos_session_options *opts, const struct chos_context *ctx,
		   const struct chos_catalogue *cat, struct chos_session_result *res,
		   struct chos_job_pin *pin)
{
	struct chos_error why = { 0 };
	int r = chos_job_view_of_self(opts->job_views ? opts->job_views : CHOS_JOB_VIEWS_DEFAULT,
				      ctx->uid, pin, &why);
	const struct chos_env *e;

	if (r == -ENOENT) {
		chos_log(opts->log, LOG_DEBUG, "user \"%s\": no job view: %s", ctx->user,
			 why.message);
		return 0;
	}
	if (r < 0) {
		res->error = why;
		return -1;
	}
	/* Nobody lands in a tree the admin does not list: the job's must still be listed, at the
	 * same tree, as it was when its step decided (for an image, any generation of it: the job
	 * keeps the one its step entered, as a session does when the image is replaced). */
	e = chos_catalogue_find(cat, pin->env);
	if (!e || !chos_env_is_tree(e, root_of(opts), pin->view.tree)) {
		chos_fail(&res->error, -ENOENT,
			  "job %lu's view of \"%s\" (%s): not listed in the catalogue", pin->job,
			  pin->env, pin->view.tree);
		return -1;
	}
	res->outcome = CHOS_OUTCOME_ENV;
	res->job = pin->job;
	res->backend = pin->view.backend;
	snprintf(res->env, sizeof(res->env), "%s", pin->env);
	snprintf(res->path, sizeof(res->path), "%s", pin->view.tree);
	snprintf(res->layer, sizeof(res->layer), "job");
	snprintf(res->reason, sizeof(res->reason), "adopted into job %lu: its view", pin->job);
	return 1;
}

/* A view begun before the decision (a Slurm step's) is told the tree of the request, when the
 * catalogue lists it: the usual step asks for the tree its job was submitted from, which the
 * policy grants, so the view is built while the policy decides (view.h). Without one, it is told
 * that none is expected, and makes all of ROOT's half meanwhile. A login has no view: nothing
 * to look up. */
static void expect_request(const struct chos_session_options *opts, struct chos_view_build *build,
			   const struct chos_catalogue *cat, const struct chos_context *ctx)
{
	char tree[sizeof(((struct chos_session_result *)0)->path)];
	const struct chos_env *e;

	if (!build)
		return;
	if (ctx->requested && (e = chos_catalogue_find(cat, ctx->requested)) &&
	    chos_env_tree(e, root_of(opts), tree, sizeof(tree)) == 0)
		chos_view_expect(build, tree);
	else
		chos_view_expect_none(build);
}

/* The policy's decision: opened on a helper thread beside the facts (OPENING), else here. */
static int run_policy(const struct chos_policy_options *popts, struct chos_policy_opening *opening,
		      const struct chos_catalogue *cat, const struct chos_context *ctx,
		      struct chos_decision *d)
{
	struct chos_policy *policy;
	int r;

	if (!opening)
		return chos_policy_decide(popts, cat, ctx, d);
	if ((r = chos_policy_open_end(opening, &policy, d)) < 0)
		return r;
	r = chos_policy_evaluate(policy, cat, ctx, d);
	chos_policy_close(policy);
	return r;
}

/* Everything but the clock; decide() and open() time it. */
static void decide(const struct chos_session_options *opts, struct chos_session_result *res,
		   struct chos_catalogue *cat, int *uid0, char *home, size_t home_len,
		   struct chos_job_pin *pin, struct chos_view_build *build)
{
	struct chos_context ctx = { 0 };
	struct chos_decision d = { 0 };
	struct chos_policy_options popts = {
		.bundle_path = opts->policy ? opts->policy : CHOS_POLICY_DEFAULT,
		.log = opts->log,
	};
	struct chos_policy_opening *opening = NULL;
	int have_cat = 0;

	/* A login's policy loads while its facts are gathered (a session that needs none drops it).
	 * A Slurm step's helper builds its view instead: one helper per session, as two on one
	 * other CPU slowed each other (bench:slurm: the plugin's 607 us a step became 1,017). */
	if (!opts->loaded && !build)
		(void)chos_policy_open_begin(&popts, &opening);
	if (gather(opts, &ctx, res) < 0) {
		res->failed = CHOS_STAGE_FACTS;
		goto fail;
	}
	*uid0 = ctx.uid == 0;
	snprintf(home, home_len, "%s", ctx.home ? ctx.home : "/");
	if (*uid0 && !opts->allow_root) {
		set_host(res, "root stays on the host (allow_root is not set)");
		goto out;
	}
	if (gather_request(opts, &ctx, res) < 0) {
		res->failed = CHOS_STAGE_FACTS;
		goto fail;
	}
	if (chos_catalogue_load(opts->catalogue ? opts->catalogue : CHOS_CATALOGUE_DEFAULT, 0, cat,
				&res->error) < 0) {
		res->failed = CHOS_STAGE_CATALOGUE;
		goto fail;
	}
	have_cat = 1;
	switch (opts->adopt ? adopted(opts, &ctx, cat, res, pin) : 0) {
	case 1:
		goto out;
	case -1:
		res->failed = CHOS_STAGE_APPLY;
		goto fail;
	}
	expect_request(opts, build, cat, &ctx);
	int r = opts->loaded ? chos_policy_evaluate(opts->loaded, cat, &ctx, &d)
			     : run_policy(&popts, opening, cat, &ctx, &d);
	opening = NULL;
	if (r < 0 || d.fault != CHOS_FAULT_NONE) {
		res->failed = CHOS_STAGE_POLICY;
		res->fault = d.fault != CHOS_FAULT_NONE ? d.fault : CHOS_FAULT_LOAD;
		if (d.fault != CHOS_FAULT_NONE)
			chos_fail(&res->error, r < 0 ? r : -EINVAL, "policy %s: %s%s%s",
				  chos_fault_name(d.fault), d.fault_message,
				  d.file[0] ? " in " : "", d.file);
		else
			chos_fail(&res->error, r, "policy: %s", strerror(-r));
		goto fail;
	}
	take_decision(opts, res, &d, cat, *uid0);
	goto out;
fail:
	fallback(opts, res, have_cat ? cat : NULL, *uid0);
out:
	chos_policy_open_abandon(opening);
	chos_context_free(&ctx);
}

/* The trust rule (trust.h) for the tree about to be entered: a tree a user can write is root
 * for them, as the session modules after pam_chos run its binaries as root. Checked here, on
 * the chosen tree only (a few fstat per directory per login, not every catalogue entry at every
 * login), so an untrusted tree fails exactly as a missing one does: at apply, and on_error
 * decides. A tree that is missing or not a directory is left to the backend, which says so as
 * before (below directories that passed, only root can change that). Once the walk passes,
 * only root can change what the path names, so the backend that uses the path gets this tree.
 * An image's mount point must show the image's filesystem (squashfs, erofs: its kind's magic):
 * an empty directory there (setup not run since boot, or the image refused) is not the tree the
 * admin listed. */
static int check_tree(struct chos_session_result *res)
{
	struct chos_error why = { 0 };
	int fd = chos_open_trusted_dir(res->path, 0, &why);
	struct statfs fs;

	if (fd >= 0 && res->image &&
	    !(chos_is_mount_root(fd) && fstatfs(fd, &fs) == 0 &&
	      (unsigned long)fs.f_type == chos_image_format(res->image)->magic)) {
		close(fd);
		return chos_fail(&res->error, -ENXIO,
				 "image of \"%s\" is not mounted at %s: run `chos setup`", res->env,
				 res->path);
	}
	if (fd >= 0)
		return close(fd), 0;
	if (fd == -ENOENT || fd == -ENOTDIR)
		return res->image ? chos_fail(&res->error, fd,
					      "image of \"%s\" is not mounted at %s: run `chos "
					      "setup`",
					      res->env, res->path)
				  : 0;
	return chos_fail(&res->error, fd, "tree %s: %s", res->path, why.message);
}

/* A Slurm step's view, begun (its namespace half, view.h) before the decision so that it runs
 * alongside the policy; NULL when the session builds no view or no helper could start (the
 * view is then built whole at apply, with the same errors). */
static struct chos_view_build *begin_view(const struct chos_session_options *opts)
{
	struct chos_view_build *build = NULL;
	struct chos_error ignored;

	if (opts->view)
		(void)chos_view_begin(&build, chos_backend_for_root(opts->backend, root_of(opts)),
				      root_of(opts), &ignored);
	return build;
}

/* BUILD: the view begun for this session, used by the first apply only (a second, the
 * fallback's, builds its own: the first may have failed half-way). */
static int apply(const struct chos_session_options *opts, struct chos_session_result *res,
		 const char *home, const struct chos_job_pin *pin, struct chos_view_build **build)
{
	const char *root = root_of(opts);
	struct chos_view_build *begun = *build;
	int r = check_tree(res);

	if (r < 0)
		return r;
	if (res->job)
		return chos_view_enter(&pin->view, home, &res->error);
	res->backend = chos_backend_for_root(opts->backend, root);
	if (opts->view && begun && chos_view_build_backend(begun) == res->backend) {
		*build = NULL;
		return chos_view_finish(begun, opts->view, res->path, &res->error);
	}
	if (opts->view)
		return chos_view_prepare(opts->view, res->backend, root, res->path, &res->error);
	if (res->backend == CHOS_BACKEND_KMOD)
		return chos_kmod_apply(root, res->path, home, &res->error);
	return chos_namespace_apply(root, res->path, home, &res->error);
}

/* Applies an ENV outcome; on failure falls back as on_error says, and tries the fallback's
 * `default` once. Leaves res->outcome ENV only when the session did enter a tree. */
static void apply_or_fall_back(const struct chos_session_options *opts,
			       struct chos_session_result *res, const struct chos_catalogue *cat,
			       int uid0, const char *home, const struct chos_job_pin *pin,
			       struct chos_view_build **build)
{
	int r = apply(opts, res, home, pin, build);

	if (r < 0 && res->failed == CHOS_STAGE_NONE) {
		res->failed = CHOS_STAGE_APPLY;
		res->job = 0; /* the fallback is decided as at any login, not the job's */
		fallback(opts, res, cat, uid0);
		/* on_error=default: one more try, unless the default is what just failed. */
		if (res->outcome == CHOS_OUTCOME_ENV && apply(opts, res, home, pin, build) < 0)
			set_host(res, "on_error=default, and `default` failed too");
	} else if (r < 0) {
		/* The fallback's own `default` failed to apply: the host is what is left. */
		set_host(res, "on_error=default, and `default` failed too");
	}
	if (res->outcome != CHOS_OUTCOME_ENV)
		res->backend = CHOS_BACKEND_NONE;
}

/* Decides, and applies the outcome when apply_it is set; res->micros covers both. */
static int session(const struct chos_session_options *opts, struct chos_session_result *res,
		   bool apply_it)
{
	struct chos_catalogue cat = { 0 };
	long long start = now_us();
	char home[4096] = "/"; /* PATH_MAX */
	struct chos_view_build *build;
	struct chos_job_pin pin;
	int uid0 = 0;

	if (!opts->user)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->backend = CHOS_BACKEND_NONE;
	chos_view_init(&pin.view);
	build = apply_it ? begin_view(opts) : NULL;
	decide(opts, res, &cat, &uid0, home, sizeof(home), &pin, build);
	if (apply_it && res->outcome == CHOS_OUTCOME_ENV)
		apply_or_fall_back(opts, res, &cat, uid0, home, &pin, &build);
	chos_view_abandon(build);
	chos_view_close(&pin.view);
	chos_catalogue_free(&cat);
	res->micros = now_us() - start;
	return 0;
}

int chos_session_decide(const struct chos_session_options *opts, struct chos_session_result *res)
{
	return session(opts, res, false);
}

int chos_session_open(const struct chos_session_options *opts, struct chos_session_result *res)
{
	return session(opts, res, true);
}

void chos_session_fail_facts(const struct chos_session_options *opts, int uid0,
			     const struct chos_error *why, struct chos_session_result *res)
{
	memset(res, 0, sizeof(*res));
	res->backend = CHOS_BACKEND_NONE;
	res->failed = CHOS_STAGE_FACTS;
	res->error = *why;
	/* As decide() after its own gathering failed: no catalogue was read, so no `default`. */
	fallback(opts, res, NULL, uid0);
}

void chos_session_describe(const struct chos_session_result *res, const char *user, char *buf,
			   size_t len)
{
	const char *env = res->outcome == CHOS_OUTCOME_ENV    ? res->env
			  : res->outcome == CHOS_OUTCOME_DENY ? "(denied)"
							      : "(host)";
	/* The user's name, the policy's reason and layer and an error (which may quote either)
	 * are escaped (chos_log_quote): four times their fields' bytes covers any escape. */
	char q_user[4 * 256], q_reason[4 * sizeof(res->reason)], q_layer[4 * sizeof(res->layer)];
	char q_error[4 * sizeof(res->error.message)];
	int n;

	chos_log_quote(q_user, sizeof(q_user), user);
	chos_log_quote(q_reason, sizeof(q_reason), res->reason);
	chos_log_quote(q_layer, sizeof(q_layer), res->layer);
	n = snprintf(buf, len,
		     "user=\"%s\" env=%s requested=%s reason=\"%s\" layer=%s "
		     "backend=%s us=%lld",
		     q_user, env, res->requested[0] ? res->requested : "-", q_reason, q_layer,
		     chos_backend_name(res->backend), res->micros);
	if (res->job && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n, " job=%lu", res->job);
	if (res->failed == CHOS_STAGE_NONE || n < 0 || (size_t)n >= len)
		return;
	chos_log_quote(q_error, sizeof(q_error), res->error.message);
	snprintf(buf + n, len - (size_t)n, " failed=%s%s%s on_error=%s error=\"%s\"",
		 chos_stage_name(res->failed), res->failed == CHOS_STAGE_POLICY ? " fault=" : "",
		 res->failed == CHOS_STAGE_POLICY ? chos_fault_name(res->fault) : "",
		 chos_on_error_name(res->on_error), q_error);
}
