/* SPDX-License-Identifier: BSD-3-Clause
 * `chos run ENV [--] CMD [ARG...]`: CMD in environment ENV, if the policy grants ENV to the
 * caller (consult.h), with the environment the tree's %ENV list keeps and CHOS=ENV. */
#include "commands.h"
#include "enter.h"
#include "launch.h"
#include <stdio.h>
#include <string.h>

int chos_cmd_run(int argc, char **argv)
{
	struct chos_cmd_options opts;
	int i = chos_cmd_options_parse(argc, argv, 0, &opts);
	const char *name;

	if (i < 0)
		return 2;
	if (i >= argc) {
		fputs("usage: chos run ENV -- CMD [ARG...]\n", stderr);
		return 2;
	}
	name = argv[i++];
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	if (i >= argc) {
		fputs("chos run: no command given; usage: chos run ENV -- CMD [ARG...]\n", stderr);
		return 2;
	}
	if (chos_cmd_enter_granted(&opts, name) < 0)
		return 1;
	return chos_cmd_launch(name, argv[i], argv + i, NULL);
}
