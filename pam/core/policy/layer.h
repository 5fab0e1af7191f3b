/* SPDX-License-Identifier: BSD-3-Clause
 * Which layer of the precedence decided a login, and the one place its names are written:
 * "site", "group", "request", "default", "host", parsed from the envelope of __chos.decide and
 * printed by chos_layer_name. A decision's printed form ("group:NAME" for a group file) is
 * chos_decision_layer in policy.h, which the session's result and the addon's decidedBy use. */
#pragma once
#include <stddef.h>
#include "facts/catalogue.h"

enum chos_layer {
	CHOS_LAYER_SITE,    /* the site entry, index.ts */
	CHOS_LAYER_GROUP,   /* policy.d/<group>.ts; decision.group names it */
	CHOS_LAYER_REQUEST, /* the user's request ($CHOS or ~/.chos), listed in the catalogue */
	CHOS_LAYER_DEFAULT, /* the catalogue's `default` entry */
	CHOS_LAYER_HOST,    /* nobody chose: stay on the host */
};

/* A printed layer's length at most, without the NUL: "group:" and a catalogue-sized name. */
#define CHOS_LAYER_LABEL_MAX (sizeof("group:") - 1 + CHOS_NAME_MAX)

const char *chos_layer_name(enum chos_layer layer); /* "site", "group", "request", ... */
/* The layer called name. Returns 0, or -EINVAL for a name that is none of them. */
int chos_layer_parse(const char *name, enum chos_layer *out);
