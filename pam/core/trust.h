/* SPDX-License-Identifier: BSD-3-Clause
 * The seed's trust rule for configuration (catalogue, policy bundle, bytecode): a regular file,
 * owned by root, not writable by group or others. Checked on the open fd (fstat), never by
 * path, so a swap between check and read is impossible. */
#pragma once
#include <stddef.h>
#include "error.h"

/* Tests that do not run as root relax the owner check (and only that one). */
#define CHOS_TRUST_ANY_OWNER 0x1u

/* Opens path O_RDONLY|O_CLOEXEC|O_NOFOLLOW, checks it, returns the fd or -errno. */
int chos_open_trusted(const char *path, unsigned flags, struct chos_error *err);
/* Reads a whole trusted file (NUL-terminated copy, at most max bytes) into *data. */
int chos_read_trusted(const char *path, unsigned flags, size_t max, char **data, size_t *len,
		      struct chos_error *err);
