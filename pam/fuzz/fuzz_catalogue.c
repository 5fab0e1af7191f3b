/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes chos_catalogue_parse with arbitrary bytes. Besides what the sanitizers catch, it
 * checks the parser's promises: on success every name is valid, every path absolute, no name
 * twice; on failure the message says which line. */
#include "facts/catalogue.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chos_catalogue cat;
	struct chos_error err = { 0 };

	if (chos_catalogue_parse((const char *)data, size, &cat, &err) < 0) {
		if (strncmp(err.message, "line ", 5) != 0 &&
		    strcmp(err.message, "out of memory") != 0)
			abort();
		return 0;
	}
	for (size_t i = 0; i < cat.count; i++) {
		const struct chos_env *e = &cat.envs[i];
		if (!chos_name_valid(e->name, strlen(e->name)) || e->path[0] != '/')
			abort();
		if (chos_catalogue_find(&cat, e->name) != e)
			abort();
	}
	chos_catalogue_free(&cat);
	return 0;
}
