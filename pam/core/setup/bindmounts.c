/* SPDX-License-Identifier: BSD-3-Clause
 * The site's bind list (bindmounts.h has the format): the BINDMOUNT lines of the seed's
 * /etc/sysconfig/chos. Parsed line by line; lines that are not BINDMOUNT= are the seed's init
 * script's and are skipped, so the seed's file keeps working. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "setup/bindmounts.h"

bool chos_site_path_valid(const char *p, size_t len)
{
	if (len == 0 || p[0] != '/' || len >= CHOS_SITE_PATH_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	for (size_t i = 0; i < len;) {
		size_t j = i + 1;
		while (j < len && p[j] != '/')
			j++;
		size_t n = j - i - 1; /* the component after the slash at i */
		if ((n == 1 && p[i + 1] == '.') || (n == 2 && p[i + 1] == '.' && p[i + 2] == '.'))
			return false;
		i = j;
	}
	return len > 1; /* "/" itself would bind the host's root into ROOT */
}

static int add_path(struct chos_bindmounts *b, const char *p, size_t len, unsigned lineno,
		    struct chos_error *err)
{
	if (!chos_site_path_valid(p, len))
		return chos_fail(
			err, -EINVAL,
			"line %u: BINDMOUNT wants absolute directories without . or .. (not /)",
			lineno);
	if (b->count == CHOS_BINDMOUNT_MAX)
		return chos_fail(err, -E2BIG, "line %u: more than %d BINDMOUNT directories", lineno,
				 CHOS_BINDMOUNT_MAX);
	char **n = realloc(b->paths, (b->count + 1) * sizeof(*n));
	if (!n)
		return chos_fail(err, -ENOMEM, "out of memory");
	b->paths = n;
	if (!(b->paths[b->count] = strndup(p, len)))
		return chos_fail(err, -ENOMEM, "out of memory");
	b->count++;
	return 0;
}

static int parse_value(const char *v, size_t len, unsigned lineno, struct chos_bindmounts *b,
		       struct chos_error *err)
{
	if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
		v++;
		len -= 2;
	}
	for (size_t i = 0; i < len;) {
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		size_t start = i;
		while (i < len && v[i] != ' ' && v[i] != '\t')
			i++;
		if (i > start) {
			int r = add_path(b, v + start, i - start, lineno, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int chos_bindmounts_parse(const char *text, size_t len, struct chos_bindmounts *out,
			  struct chos_error *err)
{
	static const char key[] = "BINDMOUNT=";
	unsigned lineno = 0;

	memset(out, 0, sizeof(*out));
	for (size_t pos = 0; pos < len;) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + 1;
		lineno++;
		while (n > 0 && (*line == ' ' || *line == '\t'))
			line++, n--;
		while (n > 0 && isspace((unsigned char)line[n - 1]))
			n--;
		if (n >= 7 && !strncmp(line, "export ", 7))
			line += 7, n -= 7;
		if (n < sizeof(key) - 1 || strncmp(line, key, sizeof(key) - 1))
			continue; /* comments, blanks and the seed's other variables */
		int r = parse_value(line + sizeof(key) - 1, n - (sizeof(key) - 1), lineno, out,
				    err);
		if (r < 0) {
			chos_bindmounts_free(out);
			return r;
		}
	}
	return 0;
}

void chos_bindmounts_free(struct chos_bindmounts *b)
{
	for (size_t i = 0; i < b->count; i++)
		free(b->paths[i]);
	free(b->paths);
	memset(b, 0, sizeof(*b));
}
