/* SPDX-License-Identifier: BSD-3-Clause
 * One session, start to end: the one core function the PAM module and the `chos` command call.
 *   facts (NSS, host, service, the user's request) -> catalogue -> policy -> on_error fallback
 *   -> apply (kmod or namespace backend)
 * and a result saying where the session is, why, which layer decided, and what failed on the
 * way. Glue code (PAM, CLI) only maps the result to its world: it holds no decision logic.
 *
 * Outcomes of failures (the module's on_error=):
 *   host     stay on the host (the default: nobody is locked out by a broken set-up)
 *   default  the catalogue's `default` environment; the host when that cannot be applied either
 *   deny     refuse the session
 * uid 0 stays on the host unless allow_root is set, before anything is read; with allow_root,
 * a denial or failure for uid 0 still ends on the host: root is never locked out.
 *
 * With adopt, a session in one of its user's jobs (pam_slurm_adopt) enters that job's pinned
 * view (jobview.h) instead of asking the policy: layer "job", the record's env and backend. No
 * job or no pin: the usual decision. A pin that is refused is a failed apply: on_error. */
#pragma once
#include <stddef.h>
#include "apply/backend.h"
#include "apply/view.h"
#include "common/error.h"
#include "common/log.h"
#include "common/paths.h"
#include "policy/policy.h"
#include "facts/request.h"

enum chos_on_error {
	CHOS_ON_ERROR_HOST,
	CHOS_ON_ERROR_DEFAULT,
	CHOS_ON_ERROR_DENY
};
/* Which stage failed (and made on_error decide). */
enum chos_stage {
	CHOS_STAGE_NONE,
	CHOS_STAGE_FACTS,
	CHOS_STAGE_CATALOGUE,
	CHOS_STAGE_POLICY,
	CHOS_STAGE_APPLY
};

struct chos_session_options {
	const char *user;
	const char *service;	 /* PAM service, or "chos" */
	const char *remote_host; /* NULL when none */
	const char *tty;	 /* NULL when none */
	struct chos_request_options request;
	const char *catalogue;	   /* NULL: CHOS_CATALOGUE_DEFAULT */
	const char *policy;	   /* NULL: CHOS_POLICY_DEFAULT */
	const char *root;	   /* NULL: CHOS_ROOT_DEFAULT */
	enum chos_backend backend; /* AUTO: chos_backend_for_root */
	enum chos_on_error on_error;
	int allow_root; /* switch uid 0 too */
	const struct chos_log *log;
	struct chos_policy *loaded;	  /* NULL, or the policy at `policy` already open
					(chos_policy_open): evaluated instead of loaded again, so a
					caller asking many times (chos list) loads it once */
	const struct chos_job *job;	  /* a Slurm step's facts (spank_chos), or NULL */
	const struct chos_gid_list *gids; /* NULL: the user's groups from NSS; else these (a
					     Slurm step's credential: context.h) */
	struct chos_view *view;		  /* NULL: the caller enters the tree itself. Else (a Slurm
				       step) the tree's view is built in a helper and kept here
				       for its tasks to enter (view.h); the caller stays put */
	const char *job_views;		  /* NULL: CHOS_JOB_VIEWS_DEFAULT (jobview.h) */
	int adopt;			  /* pam_chos: a session pam_slurm_adopt put into a job's
				       extern step enters the job's pinned view, undecided */
};

struct chos_session_result {
	enum chos_outcome outcome;	   /* ENV: in env's tree; HOST; DENY: refuse the session */
	char env[CHOS_NAME_MAX + 1];	   /* ENV: the catalogue's name */
	char path[4096];		   /* ENV: its tree (PATH_MAX); an image's mount point */
	enum chos_image_kind image;	   /* ENV: the tree is an image chos setup mounts */
	char requested[CHOS_NAME_MAX + 1]; /* the user's valid request, "" when none */
	char reason[CHOS_REASON_MAX + 1];
	char layer[CHOS_LAYER_LABEL_MAX + 1]; /* as chos_decision_layer prints: group:NAME... */
	enum chos_backend backend;	      /* KMOD, NAMESPACE; NONE when nothing was applied */
	enum chos_stage failed;		      /* CHOS_STAGE_NONE when nothing failed */
	enum chos_fault fault;		      /* the policy's fault, when failed == POLICY */
	struct chos_error error;	      /* what failed, saying what to fix */
	enum chos_on_error on_error;	      /* the fallback that was applied, when failed */
	long long micros;		      /* time spent deciding and applying */
	unsigned long job;		      /* the job whose pinned view it entered; 0: none */
};

/* Decides without applying (outcome ENV means "would enter env"). Returns 0, or -EINVAL for
 * options without a user; every failure of the set-up is in the result, not the return. */
int chos_session_decide(const struct chos_session_options *opts, struct chos_session_result *res);
/* Decides and applies (or, with opts->view, prepares the view). When applying fails, on_error
 * decides again (and is recorded). */
int chos_session_open(const struct chos_session_options *opts, struct chos_session_result *res);
/* For a caller that gathers the facts itself and could not (spank_chos: the job's uid has no
 * passwd entry on the node): the facts stage failed with WHY, and on_error decides exactly as
 * when the core's own lookup fails (host; deny; default finds no catalogue read, so host). The
 * outcome is HOST or DENY, never a tree: nothing to apply. UID0: the session is root's. */
void chos_session_fail_facts(const struct chos_session_options *opts, int uid0,
			     const struct chos_error *why, struct chos_session_result *res);
/* The one log line of a session: user="..." env=... requested=... reason="..." layer=...
 * backend=... us=N, job=N when it entered a job's view, and failed=... fault=... on_error=...
 * error="..." when something failed. */
void chos_session_describe(const struct chos_session_result *res, const char *user, char *buf,
			   size_t len);
const char *chos_stage_name(enum chos_stage stage);
const char *chos_on_error_name(enum chos_on_error on_error);
/* The value of on_error= by those names: 0, or -EINVAL for another. */
int chos_on_error_parse(const char *name, enum chos_on_error *out);
