/* SPDX-License-Identifier: BSD-3-Clause
 * `chos [shell] [ENV]`, the seed's behaviour: a login shell in ENV, by default $CHOS's
 * environment, if the policy grants it (consult.h). As login(1) does, HOME, USER, LOGNAME and
 * SHELL come from the passwd entry; the rest of the environment is what the tree's %ENV list
 * keeps. The shell is the user's; a tree without it gets /bin/sh, and a note saying so. */
#include "commands.h"
#include "enter.h"
#include "launch.h"
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 256: "-" plus a shell's base name; longer names are cut, which only changes $0. */
static char login_argv0[256];

int chos_cmd_shell(int argc, char **argv)
{
	struct chos_cmd_options opts;
	int i = chos_cmd_options_parse(argc, argv, 0, &opts);
	const char *name = getenv("CHOS");
	struct passwd *pw;
	char *shell, *args[2];

	if (i < 0)
		return 2;
	if (i < argc)
		name = argv[i++];
	if (i < argc) {
		fprintf(stderr, "chos: unexpected '%s'; usage: chos [shell] [ENV]\n", argv[i]);
		return 2;
	}
	if (!name || !*name) {
		fputs("chos: CHOS is not set: name an environment (chos shell ENV; see chos "
		      "list)\n",
		      stderr);
		return 2;
	}
	if (!(pw = getpwuid(getuid()))) {
		fprintf(stderr, "chos: uid %u has no passwd entry\n", (unsigned)getuid());
		return 1;
	}
	/* Copies: the passwd buffer is reused by the NSS lookups of the policy consultation. */
	const char *home = strdupa(pw->pw_dir), *user = strdupa(pw->pw_name);
	shell = strdupa(pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh");
	if (chos_cmd_enter_granted(&opts, name) < 0)
		return 1;
	if (access(shell, X_OK) < 0) {
		fprintf(stderr, "chos: your shell %s is not in %s; starting /bin/sh\n", shell,
			name);
		shell = "/bin/sh";
	}
	if (chdir(home) < 0)
		fprintf(stderr, "chos: no home directory %s in %s\n", home, name);
	snprintf(login_argv0, sizeof(login_argv0), "-%s", basename(strdupa(shell)));
	args[0] = login_argv0;
	args[1] = NULL;
	const char *const set[] = { "HOME", home,    "USER", user, "LOGNAME",
				    user,   "SHELL", shell,  NULL };
	return chos_cmd_launch(name, shell, args, set);
}
