/* SPDX-License-Identifier: BSD-3-Clause
 * The subcommands of `chos`, one file each. chos.c dispatches `chos NAME ARGS...` to
 * chos_cmd_NAME(argc, argv) with argv[0] = "NAME", so each parses its own options with getopt.
 * Each returns the process exit status: 0 success, 1 refused or failed (one line on stderr
 * saying why), 2 misuse. */
#pragma once

int chos_cmd_setup(int argc, char **argv);   /* pam/cmd/setup.c: lay out the root (admin) */
int chos_cmd_image(int argc, char **argv);   /* pam/cmd/image.c: build or check an OS image */
int chos_cmd_list(int argc, char **argv);    /* the environments this user may use */
int chos_cmd_current(int argc, char **argv); /* the environment this process is in */
int chos_cmd_run(int argc, char **argv);     /* run ENV -- CMD...: a command in ENV */
int chos_cmd_shell(int argc, char **argv);   /* bare `chos`: a login shell in $CHOS's env */
