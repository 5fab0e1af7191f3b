/* SPDX-License-Identifier: BSD-3-Clause
 * pam_chos's arguments (session_args.h), and on_error's names. Nothing here reaches the rest of
 * the session (session.c), so spank_chos.so's front (pam/spank) parses with it alone. */
#include "session_args.h"
#include <errno.h>
#include <string.h>

static const char *const on_error_names[] = { "host", "default", "deny" };

const char *chos_on_error_name(enum chos_on_error on_error)
{
	return on_error_names[on_error];
}

int chos_on_error_parse(const char *name, enum chos_on_error *out)
{
	for (size_t i = 0; i < sizeof(on_error_names) / sizeof(on_error_names[0]); i++) {
		if (!strcmp(name, on_error_names[i])) {
			*out = (enum chos_on_error)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Value of "key=value" when arg starts with key=, else NULL. */
static const char *value_of(const char *arg, const char *key)
{
	size_t n = strlen(key);

	return strncmp(arg, key, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

/* An absolute path: a relative one would depend on the service's working directory. */
static int set_path(const char *v, const char **out)
{
	if (*v != '/')
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_one(const char *arg, struct chos_session_args *a, int *on_error_set)
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
		if (!*on_error_set)
			s->on_error = *v == '1' ? CHOS_ON_ERROR_DEFAULT : CHOS_ON_ERROR_HOST;
		return 0;
	}
	if ((v = value_of(arg, "on_error"))) {
		*on_error_set = 1;
		return chos_on_error_parse(v, &s->on_error);
	}
	if ((v = value_of(arg, "backend")))
		return chos_backend_parse(v, &s->backend);
	if ((v = value_of(arg, "policy")))
		return set_path(v, &s->policy);
	if ((v = value_of(arg, "catalogue")))
		return set_path(v, &s->catalogue);
	if ((v = value_of(arg, "root")))
		return set_path(v, &s->root);
	if ((v = value_of(arg, "job_views")))
		return set_path(v, &s->job_views);
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

int chos_session_parse_args(int argc, const char *const *argv, struct chos_session_args *out,
			    struct chos_error *err)
{
	int on_error_set = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < argc; i++) {
		int r = parse_one(argv[i], out, &on_error_set);

		if (r == -ENOENT)
			return chos_fail(err, r, "unknown argument \"%s\"", argv[i]);
		if (r < 0)
			return chos_fail(err, -EINVAL, "bad value in \"%s\"", argv[i]);
	}
	return 0;
}
