/* SPDX-License-Identifier: BSD-3-Clause
 * pam_chos's arguments (pam_chos(8)) read into session options: the one parser, used by the PAM
 * module and by the addon's sessionDecide, so every rule below is unit-tested without PAM.
 *
 *   policy=/ABS catalogue=/ABS root=/ABS job_views=/ABS backend=auto|kmod|namespace
 *   on_error=host|default|deny allow_root debug
 *   user_conf_file=NAME (the seed's: ~/NAME instead of ~/.chos)
 *   fail_to_default=0|1 (the seed's: on_error=default or host; an on_error= anywhere wins)
 *
 * Anything else is an error: a typo must not silently weaken a site's set-up. */
#pragma once
#include "session.h"

struct chos_session_args {
	struct chos_session_options session; /* strings point into argv */
	int debug;
};

/* Fills out from argv (out is zeroed first: the defaults are the options' zero values).
 * Returns 0, -ENOENT for an unknown argument or -EINVAL for a bad value, with err naming the
 * argument. */
int chos_session_parse_args(int argc, const char *const *argv, struct chos_session_args *out,
			    struct chos_error *err);
