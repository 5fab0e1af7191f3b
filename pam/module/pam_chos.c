/* SPDX-License-Identifier: BSD-3-Clause
 * pam_chos: puts a session into the OS tree the site policy picks (see pam_chos(8) and
 * README.md). This file is glue only: have the core parse the arguments (session_args.c), get
 * the user and the PAM facts, call chos_session_open, log its one line, export CHOS, map the
 * outcome to a PAM code. Every decision lives in the core (pam/core/session.c).
 *
 * We run inside sshd, su and login: no exit(), no signal handlers, nothing on stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include "session_args.h"

#define PAM_CHOS_EXPORT __attribute__((visibility("default")))

/* The core's log lines (request rejects, policy console.log, debug) go through pam_syslog. */
static void log_to_pam(void *pamh, int priority, const char *line)
{
	pam_syslog(pamh, priority, "%s", line);
}

static const char *item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;
	return pam_get_item(pamh, type, &v) == PAM_SUCCESS ? v : NULL;
}

PAM_CHOS_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct chos_session_args a;
	struct chos_error err = { 0 };
	struct chos_log log = { .fn = log_to_pam, .userdata = pamh };
	struct chos_session_result res;
	const char *user = NULL;
	/* One syslog line: the session's fields (a few hundred bytes) plus an error message. */
	char line[1024 + CHOS_ERROR_MAX];
	char env[sizeof("CHOS=") + CHOS_NAME_MAX];

	(void)flags;
	if (chos_session_parse_args(argc, argv, &a, &err) < 0) {
		pam_syslog(pamh, LOG_ERR, "%s: session refused; see pam_chos(8)", err.message);
		return PAM_SESSION_ERR;
	}
	log.debug = a.debug;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !*user) {
		pam_syslog(pamh, LOG_ERR, "no user name: session refused");
		return PAM_SESSION_ERR;
	}
	a.session.user = user;
	a.session.service = item(pamh, PAM_SERVICE);
	a.session.remote_host = item(pamh, PAM_RHOST);
	a.session.tty = item(pamh, PAM_TTY);
	a.session.request.pam_env = pam_getenv(pamh, "CHOS");
	a.session.request.process_env = getenv("CHOS");
	/* ssh into a node where the user runs a job, through pam_slurm_adopt: the job's view. */
	a.session.adopt = 1;
	a.session.request.log = &log;
	a.session.log = &log;
	if (chos_session_open(&a.session, &res) < 0) {
		pam_syslog(pamh, LOG_ERR, "user \"%s\": session refused: bad options", user);
		return PAM_SESSION_ERR;
	}
	chos_session_describe(&res, user, line, sizeof(line));
	pam_syslog(pamh,
		   res.failed != CHOS_STAGE_NONE      ? LOG_ERR
		   : res.outcome == CHOS_OUTCOME_DENY ? LOG_NOTICE
						      : LOG_INFO,
		   "%s", line);
	if (res.outcome == CHOS_OUTCOME_DENY)
		return PAM_PERM_DENIED;
	if (res.outcome == CHOS_OUTCOME_ENV) {
		snprintf(env, sizeof(env), "CHOS=%s", res.env);
		if (pam_putenv(pamh, env) != PAM_SUCCESS)
			pam_syslog(pamh, LOG_WARNING, "user \"%s\": could not set CHOS=%s", user,
				   res.env);
	}
	return PAM_SUCCESS;
}

/* Nothing to undo: the session's mount namespace (or kmod link) dies with its last process. */
PAM_CHOS_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_SUCCESS;
}

/* pam_chos acts on sessions only; in any other stack it has no opinion. */
PAM_CHOS_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PAM_CHOS_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PAM_CHOS_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}

PAM_CHOS_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh, (void)flags, (void)argc, (void)argv;
	return PAM_IGNORE;
}
