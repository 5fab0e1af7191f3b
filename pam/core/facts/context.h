/* SPDX-License-Identifier: BSD-3-Clause
 * The facts of one login, the C twin of the SDK's LoginContext (policy/sdk/contract.ts is the
 * one definition; chos_context_to_json emits exactly that shape). */
#pragma once
#include <stddef.h>
#include <sys/types.h>
#include "facts/catalogue.h"
#include "common/error.h"

enum chos_request_source {
	CHOS_REQUEST_NONE,
	CHOS_REQUEST_ENV,
	CHOS_REQUEST_FILE,
	CHOS_REQUEST_OPTION /* a Slurm job's --chos=ENV */
};

/* A Slurm job step's facts (the SDK's SlurmJob), set by spank_chos only. The ids come from
 * slurmstepd; partition, account, the submit host and the node's name from the job's
 * environment, which the submitting user can change: a policy must not trust them more than
 * the request. */
struct chos_job {
	unsigned long id;  /* job id */
	char *step;	   /* "0", "1"..., or "batch", "extern", "interactive" */
	char *partition;   /* NULL when not known */
	char *account;	   /* NULL when not known */
	char *node;	   /* the Slurm node's name (slurmd -N) */
	char *submit_host; /* NULL when not known */
};

struct chos_context {
	char *user;
	uid_t uid;
	gid_t gid;
	char *home;
	char *shell;
	char **groups; /* group names, primary group first, then the others in NSS order */
	size_t group_count;
	gid_t *gids; /* the group ids NSS (or the caller) listed (primary first, no
			         duplicates), for the ~/.chos reader's setgroups; NULL when not
			         from NSS */
	size_t gid_count;
	char *host;	   /* short host name */
	char *service;	   /* PAM service, or "chos" for the chos command */
	char *remote_host; /* NULL when none */
	char *tty;	   /* NULL when none */
	char *requested;   /* NULL when none; already checked with chos_name_valid */
	enum chos_request_source requested_from;
	struct chos_job *job; /* NULL unless a Slurm job step */
};

/* The group ids a caller already holds for the session's processes: a Slurm step's credential,
 * which slurmctld looked up once for the job (LaunchParameters' send_gids, the default) and
 * with which slurmstepd runs the tasks. */
struct chos_gid_list {
	const gid_t *gids;
	size_t count;
};

/* Fills user, uid, gid, home, shell, groups and gids from NSS (getpwnam_r, then getgrouplist
 * once, or, when KNOWN is not NULL, its ids: the groups the processes will have, looked up
 * nowhere again); groups whose gid has no name are left out of groups, not of gids. On
 * failure too, free ctx with chos_context_free. */
int chos_context_from_nss(const char *user, const struct chos_gid_list *known,
			  struct chos_context *ctx, struct chos_error *err);
/* Sets host to the short host name (uname, cut at the first dot). */
int chos_context_set_host(struct chos_context *ctx, struct chos_error *err);
/* The JSON text of the LoginContext, with `environments` from the catalogue (cat may be NULL:
 * none). NULL strings become null where the contract allows it, "" elsewhere. Bytes that are
 * not UTF-8 become U+FFFD. Caller frees; NULL when out of memory. */
char *chos_context_to_json(const struct chos_context *ctx, const struct chos_catalogue *cat);
void chos_context_free(struct chos_context *ctx);
/* "env", "file", "option": the contract's RequestSource ("none" for NONE). */
const char *chos_request_source_name(enum chos_request_source from);
/* A deep copy of job (NULL when out of memory), and its release (NULL is fine). */
struct chos_job *chos_job_copy(const struct chos_job *job);
void chos_job_free(struct chos_job *job);
