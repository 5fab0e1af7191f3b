/* SPDX-License-Identifier: BSD-3-Clause
 * The user's request: which environment the user asks for. A Slurm job's `--chos=ENV`, else
 * `$CHOS` from the PAM environment, else from the process environment (sshd's AcceptEnv,
 * `CHOS=x su ...`, a job's), else the first line of ~/.chos (the seed's file; its name is the
 * module's user_conf_file=), which a Slurm step does not read (skip_file).
 *
 * The file lives in a directory the user controls, so it is read by a child task (request.c
 * says how it is made and why the user can never touch it) that has the user's groups and
 * filesystem ids and no capabilities: it can read only what the user can read, whatever
 * symlinks or mounts the user planted. It refuses a symlink as the file, anything that is not
 * a regular file (FIFO, device, directory), and anything larger than CHOS_REQUEST_FILE_MAX.
 *
 * A rejected request (bad name, bad file) is logged with the reason and then ignored: the
 * policy decides as if the user had asked for nothing. A request is only ever a wish; the
 * policy and the catalogue decide whether it is granted. */
#pragma once
#include "facts/context.h"
#include "common/log.h"

/* A name is at most CHOS_NAME_MAX bytes; one page leaves room for a comment after the first
 * line, and anything bigger (a 10 MB file, /dev/zero behind a bind) is refused unread. */
#define CHOS_REQUEST_FILE_MAX 4096
/* A hung home file system (NFS) must not hang the login: a reader still running after
 * CHOS_REQUEST_TIMEOUT_MS is killed, and the login waits at most CHOS_REQUEST_KILL_WAIT_MS more
 * for it to go, then goes on without a request either way. */
#define CHOS_REQUEST_TIMEOUT_MS 2000
#define CHOS_REQUEST_KILL_WAIT_MS 500
#define CHOS_USER_CONF_DEFAULT ".chos"

struct chos_request_options {
	const char *option;	 /* a Slurm job's --chos=ENV, or NULL: first of all */
	const char *pam_env;	 /* $CHOS from the PAM environment, or NULL */
	const char *process_env; /* $CHOS from the process environment, or NULL */
	const char *user_conf;	 /* file name relative to the home; NULL: CHOS_USER_CONF_DEFAULT */
	int skip_file; /* Slurm steps: the request is --chos or the submitter's $CHOS, which
			  pam_chos set from ~/.chos at their login; no file read per step */
	const struct chos_log *log;
};

/* True when name is usable as user_conf_file=: relative, no "." or ".." component. */
int chos_request_conf_valid(const char *name);

/* Sets ctx->requested and ctx->requested_from (user, uid, gid and home must be filled).
 * Returns 0 (a rejected request is logged and leaves requested NULL) or -ENOMEM. */
int chos_request_fill(struct chos_context *ctx, const struct chos_request_options *opts);
