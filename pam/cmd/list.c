/* SPDX-License-Identifier: BSD-3-Clause
 * `chos list [--all]`: the environments this user may use, one `NAME<TAB>PATH` line each, in
 * catalogue order (see consult.h for the rule). --all also prints the others, each with
 * `<TAB>refused: WHY`. A failure of the set-up (catalogue, policy fault) is an error, not an
 * empty list.
 *
 * The policy is loaded once and asked for every environment (chos_policy_open, then one
 * evaluation each): the same user's group units load the first time and stay. When it cannot
 * be opened, each question loads it as a login would, so the error is the one a login reports. */
#include "commands.h"
#include "consult.h"
#include "policy/policy.h"
#include <stdio.h>
#include <string.h>

int chos_cmd_list(int argc, char **argv)
{
	struct chos_cmd_options opts;
	struct chos_session_result res;
	struct chos_catalogue cat;
	struct chos_error err = { 0 };
	char why[CHOS_REASON_MAX + CHOS_ERROR_MAX];
	int first = chos_cmd_options_parse(argc, argv, 1, &opts), status = 0;

	if (first < 0)
		return 2;
	if (first != argc) {
		fprintf(stderr, "chos list: unexpected '%s'\n", argv[first]);
		return 2;
	}
	if (chos_catalogue_load(opts.catalogue, 0, &cat, &err) < 0) {
		fprintf(stderr, "chos: %s\n", err.message);
		return 1;
	}
	opts.loaded = chos_consult_open(&opts);
	for (size_t i = 0; i < cat.count; i++) {
		const struct chos_env *env = &cat.envs[i];
		int granted = chos_consult_ask(&opts, env->name, &res, why, sizeof(why));

		if (granted < 0) {
			fprintf(stderr, "chos: %s\n", why);
			status = 1;
			break;
		}
		if (granted)
			printf("%s\t%s\n", env->name, env->path);
		else if (opts.all)
			printf("%s\t%s\trefused: %s\n", env->name, env->path, why);
	}
	chos_policy_close(opts.loaded);
	chos_catalogue_free(&cat);
	return status;
}
