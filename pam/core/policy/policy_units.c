/* SPDX-License-Identifier: BSD-3-Clause
 * A bundle's units. `chos-policy build` writes the bundle as a base unit (the SDK, lib/, the site
 * entry and the precedence, which installs __chos) followed by one unit per group file, in group
 * name order, each starting on a line of its own that reads exactly
 *
 *   // chos:unit GROUP
 *
 * and registering itself with __chos.register when run (policy/bundle/units.ts). Run whole, the
 * bundle registers every group; a login runs the base and only its own groups' units. A bundle
 * without such lines (hand-written, or from an older build) is all base: every login runs it
 * whole, as before.
 *
 * Each unit is compiled on its own but as lines of the whole bundle: its text is preceded by
 * as many newlines as the bundle has lines before it, so QuickJS numbers its lines as in the
 * bundle. Fault positions and the SDK helpers' `__at` are then bundle positions whichever way
 * a unit was loaded, and the bundle's source map maps them to .ts. The padding is only ever
 * compiled (at build time, or when a login falls back to the source); the bytecode keeps just
 * the line numbers. */
#include "policy/policy_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_MARKER "// chos:unit "

/* The group named on the marker line at p (len bytes to the end of the bundle), or -EINVAL. */
static int marker_group(const char *p, size_t len, char group[CHOS_NAME_MAX + 1])
{
	const size_t skip = sizeof(UNIT_MARKER) - 1;
	const char *nl = memchr(p, '\n', len);
	size_t n;

	if (!nl || (size_t)(nl - p) <= skip)
		return -EINVAL;
	n = (size_t)(nl - p) - skip;
	if (n > CHOS_NAME_MAX)
		return -EINVAL;
	memcpy(group, p + skip, n);
	group[n] = '\0';
	return chos_name_valid(group, n) ? 0 : -EINVAL;
}

static int append(struct chos_units *u, size_t *cap, const struct chos_unit *unit)
{
	if (u->count == *cap) {
		size_t more = *cap ? *cap * 2 : 64;
		struct chos_unit *v = realloc(u->v, more * sizeof(*v));
		if (!v)
			return -ENOMEM;
		u->v = v;
		*cap = more;
	}
	u->v[u->count++] = *unit;
	return 0;
}

int chos_units_split(const char *src, size_t len, struct chos_units *out)
{
	const size_t marker = sizeof(UNIT_MARKER) - 1;
	struct chos_unit unit = { 0 };
	size_t cap = 0;
	unsigned line = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	for (size_t at = 0; at < len && r == 0;) {
		const char *nl = memchr(src + at, '\n', len - at);
		size_t next = nl ? (size_t)(nl - src) + 1 : len;
		if (len - at > marker && memcmp(src + at, UNIT_MARKER, marker) == 0) {
			struct chos_unit group = { .offset = at, .line = line };
			unit.length = at - unit.offset;
			r = marker_group(src + at, len - at, group.group);
			/* Sorted and unique: what the lookup's binary searches rely on. */
			if (r == 0 && out->count > 0 && strcmp(unit.group, group.group) >= 0)
				r = -EINVAL;
			if (r == 0)
				r = append(out, &cap, &unit);
			unit = group;
		}
		line++;
		at = next;
	}
	unit.length = len - unit.offset;
	if (r == 0)
		r = append(out, &cap, &unit);
	if (r < 0)
		chos_units_free(out);
	return r;
}

void chos_units_free(struct chos_units *u)
{
	free(u->v);
	memset(u, 0, sizeof(*u));
}

uint8_t *chos_unit_compile(JSContext *cc, const char *text, size_t len, unsigned line,
			   const char *bundle_path, size_t *size)
{
	const char *slash = strrchr(bundle_path, '/');
	const char *name = slash ? slash + 1 : bundle_path;
	char *padded = malloc((size_t)line + len + 1);
	uint8_t *bytes;

	if (!padded) {
		JS_ThrowOutOfMemory(cc);
		return NULL;
	}
	memset(padded, '\n', line);
	memcpy(padded + line, text, len);
	padded[line + len] = '\0';
	bytes = chos_policy_compile_text(cc, padded, line + len, name, size);
	free(padded);
	return bytes;
}
