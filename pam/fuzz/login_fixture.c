/* SPDX-License-Identifier: BSD-3-Clause
 * The fuzz targets' login and catalogue (login_fixture.h). */
#include "login_fixture.h"

static struct chos_env envs[] = { { .name = "default", .path = "/" },
				  { .name = "sl5", .path = "/os/sl5" } };
const struct chos_catalogue fuzz_catalogue = { envs, 2 };

static char *groups[] = { "users", "physics" };
const struct chos_context fuzz_login = {
	.user = "alice",
	.uid = 1000,
	.gid = 100,
	.home = "/home/alice",
	.shell = "/bin/sh",
	.groups = groups,
	.group_count = 2,
	.host = "n12",
	.service = "sshd",
};
