/* SPDX-License-Identifier: BSD-3-Clause
 * The layers' names (layer.h), written once. */
#include "policy/layer.h"
#include <errno.h>
#include <string.h>

static const char *const names[] = { "site", "group", "request", "default", "host" };

const char *chos_layer_name(enum chos_layer layer)
{
	return (unsigned)layer < sizeof(names) / sizeof(names[0]) ? names[layer] : "unknown";
}

int chos_layer_parse(const char *name, enum chos_layer *out)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return *out = (enum chos_layer)i, 0;
	return -EINVAL;
}
