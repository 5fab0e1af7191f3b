/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup [--root DIR] [--backend auto|kmod|namespace] [--check] [--catalogue FILE]
 *             [--sysconfig FILE] [--policy FILE] [--module FILE]`
 * The admin's command: lays out ROOT (pam/core/setup/setup.c does the work; for the kmod backend it
 * loads the module with modprobe, else from --module's chos.ko, and mounts /proc/chos), or with
 * --check reports every problem and what to do. Exit status: 0 all right, 1 problems remain,
 * 2 misuse. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "commands.h"
#include "setup/setup.h"

static int usage(const char *what)
{
	fprintf(stderr,
		"chos setup: %s\n"
		"usage: chos setup [--root DIR] [--backend auto|kmod|namespace] [--check]\n"
		"                  [--catalogue FILE] [--sysconfig FILE] [--policy FILE] [--module "
		"FILE]\n",
		what);
	return 2;
}

int chos_cmd_setup(int argc, char **argv)
{
	struct chos_setup_options o = { .out = stdout };
	struct chos_error err = { 0 };
	int problems;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--check")) {
			o.check = 1;
			continue;
		}
		if (strcmp(a, "--root") && strcmp(a, "--backend") && strcmp(a, "--catalogue") &&
		    strcmp(a, "--sysconfig") && strcmp(a, "--policy") && strcmp(a, "--module"))
			return usage(a[0] == '-' ? "unknown option" : "unexpected operand");
		if (!v)
			return usage("option needs a value");
		i++;
		if (!strcmp(a, "--backend") && chos_backend_parse(v, &o.backend) < 0)
			return usage("--backend is auto, kmod or namespace");
		if (strcmp(a, "--backend") && v[0] != '/')
			return usage("paths must be absolute");
		if (!strcmp(a, "--root"))
			o.root = v;
		else if (!strcmp(a, "--catalogue"))
			o.catalogue = v;
		else if (!strcmp(a, "--sysconfig"))
			o.sysconfig = v;
		else if (!strcmp(a, "--policy"))
			o.policy = v;
		else if (!strcmp(a, "--module"))
			o.module = v;
	}
	if (!o.check && geteuid() != 0) {
		fputs("chos setup: must run as root (mounts and /proc/chos/valid); --check does "
		      "not\n",
		      stderr);
		return 1;
	}
	problems = chos_setup_run(&o, &err);
	if (problems == -EINVAL)
		return usage(err.message);
	if (problems < 0) {
		fprintf(stderr, "chos setup: %s\n", err.message);
		return 1;
	}
	if (problems > 0) {
		printf("chos setup: %d problem%s%s\n", problems, problems == 1 ? "" : "s",
		       o.check ? "" : " left");
		return 1;
	}
	printf("chos setup: %s\n", o.check ? "no problems" : "done");
	return 0;
}
