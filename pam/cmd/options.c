/* SPDX-License-Identifier: BSD-3-Clause */
#include "options.h"
#include <getopt.h>
#include <stdio.h>

int chos_cmd_options_parse(int argc, char **argv, int allow_all, struct chos_cmd_options *opts)
{
	static const struct option long_options[] = {
	    {"catalogue", required_argument, NULL, 'c'},
	    {"policy", required_argument, NULL, 'p'},
	    {"root", required_argument, NULL, 'r'},
	    {"debug", no_argument, NULL, 'd'},
	    {"all", no_argument, NULL, 'a'},
	    {0},
	};
	*opts = (struct chos_cmd_options){
	    .catalogue = CHOS_CATALOGUE_DEFAULT,
	    .policy = CHOS_POLICY_DEFAULT,
	    .root = CHOS_ROOT_DEFAULT,
	};
	optind = 1;
	/* "+": stop at the first operand, so `run ENV -- CMD -x` leaves CMD's options alone. */
	for (int c; (c = getopt_long(argc, argv, "+", long_options, NULL)) != -1;) {
		switch (c) {
		case 'c':
			opts->catalogue = optarg;
			break;
		case 'p':
			opts->policy = optarg;
			break;
		case 'r':
			opts->root = optarg;
			break;
		case 'd':
			opts->debug = 1;
			break;
		case 'a':
			if (allow_all) {
				opts->all = 1;
				break;
			}
			/* fall through */
		default:
			fprintf(stderr, "chos %s: unknown option; see 'chos --help'\n", argv[0]);
			return -1;
		}
	}
	return optind;
}
