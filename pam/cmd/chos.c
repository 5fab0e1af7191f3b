/* SPDX-License-Identifier: BSD-3-Clause
 * `chos`: the user command. Not setuid and never needs to be: it only does what the caller
 * could do with its own rights (consult the policy, which reads root-owned world-readable
 * files; write /proc/chos/setchos, which the kernel module offers to everyone; create an
 * unprivileged user namespace). `chos setup` is the admin's and checks for root itself. */
#include "commands.h"
#include <stdio.h>
#include <string.h>

/* One subcommand per line reads better than clang-format's packed table. */
/* clang-format off */
static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{"setup", chos_cmd_setup},
	{"image", chos_cmd_image},
	{"list", chos_cmd_list},
	{"current", chos_cmd_current},
	{"run", chos_cmd_run},
	{"shell", chos_cmd_shell},
};
/* clang-format on */

static void usage(FILE *out)
{
	fputs("usage: chos [shell]               a login shell in $CHOS's environment\n"
	      "       chos list                  environments you may use\n"
	      "       chos current               the environment you are in\n"
	      "       chos run ENV -- CMD [ARG...] run a command in ENV\n"
	      "       chos setup [--root DIR] [--check]   lay out the root (admin)\n"
	      "       chos image build DIR -o FILE.sqfs|.erofs an OS image of a tree (admin)\n"
	      "       chos image check FILE [--sha256 HEX] verify an OS image\n"
	      "Options of list, current, run, shell: --catalogue FILE --policy FILE --root DIR"
	      " --debug\n",
	      out);
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
			usage(stdout);
			return 0;
		}
		/* Bare `chos` (options allowed) is the seed's behaviour: a shell. */
		argv[0] = "shell";
		return chos_cmd_shell(argc, argv);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "chos: unknown command '%s'; try 'chos --help'\n", argv[1]);
	return 2;
}
