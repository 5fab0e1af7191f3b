/* SPDX-License-Identifier: BSD-3-Clause
 * The catalogue parser (format in catalogue.h). It reads text only: whether each tree exists
 * and passes the trust rule is checked where a tree is entered (session.c), for the chosen tree
 * only, so a tree being rebuilt does not break every login and a login pays for one walk.
 * Errors name the line ("line 3: ..."; chos_catalogue_load prefixes the path); text from the
 * file is quoted and cut, with unprintable bytes shown as '?'. */
#include "facts/catalogue.h"
#include "common/trust.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How much of an offending line an error message quotes. */
#define QUOTE_MAX 48

bool chos_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > CHOS_NAME_MAX)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static int add_env(struct chos_catalogue *cat, size_t *cap, unsigned *lines, unsigned lineno,
		   const char *name, size_t name_len, const char *path, size_t path_len,
		   struct chos_error *err)
{
	char q[QUOTE_MAX + 4];

	for (size_t i = 0; i < cat->count; i++)
		if (strlen(cat->envs[i].name) == name_len &&
		    memcmp(cat->envs[i].name, name, name_len) == 0) {
			chos_error_excerpt(q, sizeof(q), name, name_len);
			return chos_fail(err, -EINVAL,
					 "line %u: duplicate environment \"%s\" (first on line %u)",
					 lineno, q, lines[i]);
		}
	if (cat->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct chos_env *envs = realloc(cat->envs, ncap * sizeof(*envs));
		if (!envs)
			return chos_fail(err, -ENOMEM, "out of memory");
		cat->envs = envs;
		*cap = ncap;
	}
	struct chos_env *e = &cat->envs[cat->count];
	e->name = strndup(name, name_len);
	e->path = strndup(path, path_len);
	if (!e->name || !e->path) {
		free(e->name);
		free(e->path);
		return chos_fail(err, -ENOMEM, "out of memory");
	}
	lines[cat->count++] = lineno;
	return 0;
}

/* One `%SHELLS` line, already trimmed and neither blank nor a comment. */
static int parse_entry(struct chos_catalogue *cat, size_t *cap, unsigned *lines, unsigned lineno,
		       const char *s, size_t len, struct chos_error *err)
{
	const char *colon = memchr(s, ':', len);
	char q[QUOTE_MAX + 4];

	if (!colon) {
		chos_error_excerpt(q, sizeof(q), s, len);
		return chos_fail(err, -EINVAL, "line %u: expected NAME:PATH, got \"%s\"", lineno,
				 q);
	}
	size_t name_len = (size_t)(colon - s), path_len = len - name_len - 1;
	const char *path = colon + 1;
	if (!chos_name_valid(s, name_len)) {
		chos_error_excerpt(q, sizeof(q), s, name_len);
		return chos_fail(err, -EINVAL,
				 "line %u: invalid environment name \"%s\" (letters, digits, '.', "
				 "'_', '-'; at most %d)",
				 lineno, q, CHOS_NAME_MAX);
	}
	if (path_len == 0 || path[0] != '/') {
		chos_error_excerpt(q, sizeof(q), s, name_len);
		return chos_fail(err, -EINVAL, "line %u: the path of \"%s\" must be absolute",
				 lineno, q);
	}
	if (path_len >= PATH_MAX) {
		chos_error_excerpt(q, sizeof(q), s, name_len);
		return chos_fail(err, -EINVAL, "line %u: the path of \"%s\" is too long", lineno,
				 q);
	}
	for (size_t i = 0; i < path_len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) {
			chos_error_excerpt(q, sizeof(q), s, name_len);
			return chos_fail(err, -EINVAL,
					 "line %u: the path of \"%s\" contains a control character",
					 lineno, q);
		}
	return add_env(cat, cap, lines, lineno, s, name_len, path, path_len, err);
}

int chos_catalogue_parse(const char *text, size_t len, struct chos_catalogue *out,
			 struct chos_error *err)
{
	struct chos_catalogue cat = { 0 };
	unsigned *lines = NULL; /* line of each entry, for duplicate messages */
	size_t cap = 0;
	enum {
		BEFORE,
		SHELLS,
		OTHER
	} section = BEFORE;
	unsigned lineno = 0;
	int r = 0;

	for (size_t pos = 0; pos < len && r == 0;) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl != NULL);
		lineno++;
		if (memchr(line, '\0', n)) {
			r = chos_fail(err, -EINVAL, "line %u: contains a NUL byte", lineno);
			break;
		}
		while (n && is_blank(*line))
			line++, n--;
		while (n && is_blank(line[n - 1]))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '%') {
			/* The section is the first word: "%SHELLS  # trees" is still %SHELLS. */
			size_t word = 1;
			while (word < n && !is_blank(line[word]))
				word++;
			section = (word == 7 && memcmp(line, "%SHELLS", 7) == 0) ? SHELLS : OTHER;
			continue;
		}
		if (section == OTHER)
			continue;
		if (section == BEFORE) {
			r = chos_fail(err, -EINVAL,
				      "line %u: entry before any section (expected %%SHELLS first)",
				      lineno);
			break;
		}
		if (cat.count == cap) {
			unsigned *nlines = realloc(lines, (cap ? cap * 2 : 8) * sizeof(*lines));
			if (!nlines) {
				r = chos_fail(err, -ENOMEM, "out of memory");
				break;
			}
			lines = nlines;
		}
		r = parse_entry(&cat, &cap, lines, lineno, line, n, err);
	}
	free(lines);
	if (r < 0) {
		chos_catalogue_free(&cat);
		return r;
	}
	*out = cat;
	return 0;
}

int chos_catalogue_load(const char *path, unsigned trust_flags, struct chos_catalogue *out,
			struct chos_error *err)
{
	struct chos_error perr = { 0 };
	size_t len;
	char *text;
	int r;

	r = chos_read_trusted(path, trust_flags, CHOS_CATALOGUE_MAX_BYTES, &text, &len, err);
	if (r < 0)
		return r;
	r = chos_catalogue_parse(text, len, out, &perr);
	free(text);
	if (r < 0)
		return chos_fail(err, r, "%s: %s", path, perr.message);
	return 0;
}

const struct chos_env *chos_catalogue_find(const struct chos_catalogue *cat, const char *name)
{
	for (size_t i = 0; i < cat->count; i++)
		if (strcmp(cat->envs[i].name, name) == 0)
			return &cat->envs[i];
	return NULL;
}

bool chos_catalogue_first_of_tree(const struct chos_catalogue *cat, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(cat->envs[j].path, cat->envs[i].path) == 0)
			return false;
	return true;
}

void chos_catalogue_free(struct chos_catalogue *cat)
{
	for (size_t i = 0; i < cat->count; i++) {
		free(cat->envs[i].name);
		free(cat->envs[i].path);
	}
	free(cat->envs);
	cat->envs = NULL;
	cat->count = 0;
}
