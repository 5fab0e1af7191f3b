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
	CHOS_REQUEST_FILE
};

struct chos_context {
	char *user;
	uid_t uid;
	gid_t gid;
	char *home;
	char *shell;
	char **groups; /* group names, primary group first, then the others in NSS order */
	size_t group_count;
	gid_t *gids; /* the group ids NSS listed (primary first, no duplicates), for the
			         ~/.chos reader's setgroups; NULL when not from NSS */
	size_t gid_count;
	char *host;	   /* short host name */
	char *service;	   /* PAM service, or "chos" for the chos command */
	char *remote_host; /* NULL when none */
	char *tty;	   /* NULL when none */
	char *requested;   /* NULL when none; already checked with chos_name_valid */
	enum chos_request_source requested_from;
};

/* Fills user, uid, gid, home, shell, groups and gids from NSS (getpwnam_r, getgrouplist, once);
 * groups whose gid has no name are left out of groups, not of gids. On failure too, free ctx
 * with chos_context_free. */
int chos_context_from_nss(const char *user, struct chos_context *ctx, struct chos_error *err);
/* Sets host to the short host name (uname, cut at the first dot). */
int chos_context_set_host(struct chos_context *ctx, struct chos_error *err);
/* The JSON text of the LoginContext, with `environments` from the catalogue (cat may be NULL:
 * none). NULL strings become null where the contract allows it, "" elsewhere. Bytes that are
 * not UTF-8 become U+FFFD. Caller frees; NULL when out of memory. */
char *chos_context_to_json(const struct chos_context *ctx, const struct chos_catalogue *cat);
void chos_context_free(struct chos_context *ctx);
