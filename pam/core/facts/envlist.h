/* SPDX-License-Identifier: BSD-3-Clause
 * A tree's /etc/chos.conf, section %ENV: the environment variables that survive when `chos`
 * enters that tree (the seed's rule). Format, in the catalogue's style:
 *
 *   # comment             blank lines and comments anywhere
 *   %ENV                  starts the list; any other %SECTION ends it (and is ignored)
 *   PATH                  a variable name: [A-Za-z_][A-Za-z0-9_]*
 *   LC_*                  a name prefix followed by '*': every variable starting with it
 *
 * Surrounding spaces and tabs are ignored. Anything else in %ENV (a value, a space inside, a
 * NUL) is an error naming the line. A file without %ENV keeps every variable. */
#pragma once
#include "common/error.h"
#include <stdbool.h>
#include <stddef.h>

/* The file lives in a tree; it is small. This caps what a broken one makes us read. */
#define CHOS_ENVLIST_MAX_BYTES (64u << 10)
#define CHOS_ENVLIST_CONF "/etc/chos.conf"

struct chos_envlist {
	bool present; /* the file had a %ENV section: only listed variables survive */
	char **names; /* a trailing '*' makes the entry a prefix */
	size_t count;
};

/* Parses text (len bytes, need not be NUL-terminated). Used by chos_envlist_load and fuzzing. */
int chos_envlist_parse(const char *text, size_t len, struct chos_envlist *out,
		       struct chos_error *err);
/* Reads path; a missing file is an empty list (present = false), not an error. */
int chos_envlist_load(const char *path, struct chos_envlist *out, struct chos_error *err);
/* True when the variable NAME (len bytes, no '=') survives. */
bool chos_envlist_keeps(const struct chos_envlist *list, const char *name, size_t len);
void chos_envlist_free(struct chos_envlist *list);
