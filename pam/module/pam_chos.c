/* SPDX-License-Identifier: BSD-3-Clause
 * pam_chos: puts a session into the OS tree the site policy picks (see pam_chos(8) and
 * README.md). This file is glue only: parse the arguments, get the user and the PAM facts, call
 * chos_session_open, log its one line, export CHOS, map the outcome to a PAM code. Every
 * decision lives in the core (pam/core/session.c).
 *
 * We run inside sshd, su and login: no exit(), no signal handlers, nothing on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include "session.h"

#define PAM_CHOS_EXPORT __attribute__((visibility("default")))

struct args {
	struct chos_session_options session;
	int on_error_set;       /* on_error= given: it wins over the seed's fail_to_default= */
	int debug;
};

/* Value of "key=value" when arg starts with key=, else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t n = strlen(key);
	return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int parse_on_error(const char *v, enum chos_on_error *out)
{
	if (!strcmp(v, "host"))
		*out = CHOS_ON_ERROR_HOST;
	else if (!strcmp(v, "default"))
		*out = CHOS_ON_ERROR_DEFAULT;
	else if (!strcmp(v, "deny"))
		*out = CHOS_ON_ERROR_DENY;
	else
		return -EINVAL;
	return 0;
}

/* An absolute path argument: a relative one would depend on the service's cwd. */
static int set_path(const char *v, const char **out)
{
	if (*v != '/')
		return -EINVAL;
	*out = v;
	return 0;
}

/* One parser; anything it does not know is an error (a typo must not silently weaken a site). */
static int parse_one(const char *arg, struct args *a)
{
	struct chos_session_options *s = &a->session;
	const char *v;

	if ((v = value_of(arg, "user_conf_file"))) {
		if (!chos_request_conf_valid(v))
			return -EINVAL;
		s->request.user_conf = v;
		return 0;
	}
	if ((v = value_of(arg, "fail_to_default"))) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return -EINVAL;
		if (!a->on_error_set)
			s->on_error = *v == '1' ? CHOS_ON_ERROR_DEFAULT : CHOS_ON_ERROR_HOST;
		return 0;
	}
	if ((v = value_of(arg, "on_error"))) {
		a->on_error_set = 1;
		return parse_on_error(v, &s->on_error);
	}
	if ((v = value_of(arg, "backend")))
		return chos_backend_parse(v, &s->backend);
	if ((v = value_of(arg, "policy")))
		return set_path(v, &s->policy);
	if ((v = value_of(arg, "catalogue")))
		return set_path(v, &s->catalogue);
	if ((v = value_of(arg, "root")))
		return set_path(v, &s->root);
	if (!strcmp(arg, "allow_root")) {
		s->allow_root = 1;
		return 0;
	}
	if (!strcmp(arg, "debug")) {
		a->debug = 1;
		return 0;
	}
	return -ENOENT;
}

static int parse_args(pam_handle_t *pamh, int argc, const char **argv, struct args *a)
{
	for (int i = 0; i < argc; i++) {
		int r = parse_one(argv[i], a);
		if (r == -ENOENT) {
			pam_syslog(pamh, LOG_ERR, "unknown argument \"%s\": session refused; see pam_chos(8)",
				   argv[i]);
			return r;
		}
		if (r < 0) {
			pam_syslog(pamh, LOG_ERR, "bad value in \"%s\": session refused; see pam_chos(8)",
				   argv[i]);
			return r;
		}
	}
	return 0;
}

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
	struct args a = {0};
	struct chos_log log = {.fn = log_to_pam, .userdata = pamh};
	struct chos_session_result res;
	const char *user = NULL;
	/* One syslog line: the session's fields (a few hundred bytes) plus an error message. */
	char line[1024 + CHOS_ERROR_MAX];
	char env[sizeof("CHOS=") + CHOS_NAME_MAX];

	(void)flags;
	if (parse_args(pamh, argc, argv, &a) < 0)
		return PAM_SESSION_ERR;
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
	a.session.request.log = &log;
	a.session.log = &log;
	if (chos_session_open(&a.session, &res) < 0) {
		pam_syslog(pamh, LOG_ERR, "user \"%s\": session refused: bad options", user);
		return PAM_SESSION_ERR;
	}
	chos_session_describe(&res, user, line, sizeof(line));
	pam_syslog(pamh, res.failed != CHOS_STAGE_NONE ? LOG_ERR
			 : res.outcome == CHOS_OUTCOME_DENY ? LOG_NOTICE : LOG_INFO, "%s", line);
	if (res.outcome == CHOS_OUTCOME_DENY)
		return PAM_PERM_DENIED;
	if (res.outcome == CHOS_OUTCOME_ENV) {
		snprintf(env, sizeof(env), "CHOS=%s", res.env);
		if (pam_putenv(pamh, env) != PAM_SUCCESS)
			pam_syslog(pamh, LOG_WARNING, "user \"%s\": could not set CHOS=%s", user, res.env);
	}
	return PAM_SUCCESS;
}

/* Nothing to undo: the session's mount namespace (or kmod link) dies with its last process. */
PAM_CHOS_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
					 const char **argv)
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
