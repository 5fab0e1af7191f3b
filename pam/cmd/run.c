/* SPDX-License-Identifier: BSD-3-Clause
 * `chos run`: not implemented yet (the backends land in pam/core/kmod_backend.c and userns.c). */
#include <stdio.h>
#include "commands.h"

int chos_cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("chos run: not implemented yet\n", stderr);
	return 1;
}
