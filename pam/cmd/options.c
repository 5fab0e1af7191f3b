/* SPDX-License-Identifier: BSD-3-Clause */
#include "options.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

/* One line for an option getopt refused (c is '?') or this subcommand does not take (c is its
 * letter), naming it. first: optind before getopt read it. The argument that failed is the one
 * getopt moved past, or, when it did not move, the one it is still on: a cluster such as -xy
 * fails at its first letter (no short option exists) with letters left. optopt is an unknown
 * short option's letter, or a long option's that was given a value it does not take. */
static int misuse(char **argv, int c, int first)
{
	const char *arg = optind == first ? argv[optind] : argv[optind - 1];
	int is_long = arg[0] == '-' && arg[1] == '-';

	if (c == '?' && optopt && !is_long)
		fprintf(stderr, "chos %s: unknown option -%c; see 'chos --help'\n", argv[0],
			optopt);
	else if (c == '?' && optopt)
		fprintf(stderr, "chos %s: %.*s takes no value; see 'chos --help'\n", argv[0],
			(int)strcspn(arg, "="), arg);
	else
		fprintf(stderr, "chos %s: unknown option %s; see 'chos --help'\n", argv[0], arg);
	return -1;
}

int chos_cmd_options_parse(int argc, char **argv, int allow_all, struct chos_cmd_options *opts)
{
	static const struct option long_options[] = {
		{ "catalogue", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "debug", no_argument, NULL, 'd' },
		{ "all", no_argument, NULL, 'a' },
		{ 0 },
	};
	*opts = (struct chos_cmd_options){
		.catalogue = CHOS_CATALOGUE_DEFAULT,
		.policy = CHOS_POLICY_DEFAULT,
		.root = CHOS_ROOT_DEFAULT,
	};
	optind = 1;
	/* "+": stop at the first operand, so `run ENV -- CMD -x` leaves CMD's options alone.
	 * ":": a missing value is ':', told apart from an unknown option, and getopt prints
	 * nothing: each misuse is one line saying which it is. */
	for (int first = optind, c; (c = getopt_long(argc, argv, "+:", long_options, NULL)) != -1;
	     first = optind) {
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
			if (!allow_all)
				return misuse(argv, c, first);
			opts->all = 1;
			break;
		case ':':
			fprintf(stderr, "chos %s: %s needs a value; see 'chos --help'\n", argv[0],
				argv[optind - 1]);
			return -1;
		default:
			return misuse(argv, c, first);
		}
	}
	return optind;
}
