/* SPDX-License-Identifier: BSD-3-Clause
 * The catalogue: /etc/chos in the seed's format. Lines `name:path` under `%SHELLS`; `#`
 * comments and blank lines anywhere; other sections (`%ENV`, ...) are ignored here. Names are
 * [A-Za-z0-9._-]+ (not "." or ".."), paths absolute. A malformed line is an error naming its
 * line number; duplicate names are an error. The name `default` is an ordinary entry that the
 * precedence uses as the site default. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "common/error.h"

/* The catalogue file is small; this caps what a hostile or broken file can make us read. */
#define CHOS_CATALOGUE_MAX_BYTES (1u << 20)
#define CHOS_NAME_MAX 64

struct chos_env {
	char *name;
	char *path;
};

struct chos_catalogue {
	struct chos_env *envs;
	size_t count;
};

/* Parses text (len bytes, need not be NUL-terminated). Used by chos_catalogue_load and the
 * fuzzer. */
int chos_catalogue_parse(const char *text, size_t len, struct chos_catalogue *out,
			 struct chos_error *err);
/* Opens path with the trust rule (see trust.h flags), then parses it. */
int chos_catalogue_load(const char *path, unsigned trust_flags, struct chos_catalogue *out,
			struct chos_error *err);
const struct chos_env *chos_catalogue_find(const struct chos_catalogue *cat, const char *name);
/* True when entry i is the first to name its tree: `default` usually names another entry's,
 * and whatever is done once per tree (serving files, listing it for the module) skips repeats. */
bool chos_catalogue_first_of_tree(const struct chos_catalogue *cat, size_t i);
void chos_catalogue_free(struct chos_catalogue *cat);

/* True for a valid environment name: [A-Za-z0-9._-]+, at most CHOS_NAME_MAX, not "." or "..". */
bool chos_name_valid(const char *name, size_t len);
