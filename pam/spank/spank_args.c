/* SPDX-License-Identifier: BSD-3-Clause
 * The plugin's option, argument check and log (spank_args.h). */
#include "spank_args.h"
#include <stdio.h>
#include <syslog.h>

static char option_value[CHOS_NAME_MAX + 2];
static int option_given;

const char *chos_spank_option(void)
{
	return option_given ? option_value : NULL;
}

static int take_option(int val, const char *optarg, int remote)
{
	(void)val;
	if (remote && optarg) {
		snprintf(option_value, sizeof(option_value), "%s", optarg);
		option_given = 1;
	}
	return 0;
}

static struct spank_option chos_option = {
	.name = "chos",
	.arginfo = "ENV",
	.usage = "Run in the OS environment ENV, if the site's policy allows it (chos list)",
	.has_arg = 1,
	.cb = take_option,
};

void chos_spank_log(void *userdata, int priority, const char *line)
{
	(void)userdata;
	syslog(LOG_AUTHPRIV | priority, "spank_chos: %s", line);
	if (priority <= LOG_WARNING)
		slurm_error("spank_chos: %s", line);
	else
		slurm_info("spank_chos: %s", line);
}

int chos_spank_parse(int ac, char **av, struct chos_session_args *a)
{
	struct chos_error err = { 0 };
	char line[CHOS_ERROR_MAX + 64]; /* the message and the words around it */

	if (chos_session_parse_args(ac, (const char *const *)av, a, &err) < 0) {
		snprintf(line, sizeof(line), "%s: step refused; see plugstack.conf", err.message);
		chos_spank_log(NULL, LOG_ERR, line);
		return -1;
	}
	return 0;
}

int chos_spank_init(spank_t sp, int ac, char **av)
{
	struct chos_session_args a;

	if (spank_option_register(sp, &chos_option) != ESPANK_SUCCESS) {
		slurm_error("spank_chos: could not register --chos");
		return -1;
	}
	return chos_spank_parse(ac, av, &a) == 0 ? 0 : 1;
}
