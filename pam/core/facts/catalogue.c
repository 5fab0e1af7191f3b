/* SPDX-License-Identifier: BSD-3-Clause
 * The catalogue parser (format in catalogue.h). It reads text only: whether each tree exists
 * and passes the trust rule is checked where a tree is entered (session.c), for the chosen tree
 * only, so a tree being rebuilt does not break every login and a login pays for one walk.
 * Errors name the line ("line 3: ..."; chos_catalogue_load prefixes the path); text from the
 * file is quoted and cut, with unprintable bytes shown as '?'. */
#include "facts/catalogue.h"
#include "common/layout.h"
#include "common/trust.h"
#include <errno.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* Indexed by enum chos_image_kind. */
static const struct chos_image_format formats[] = {
	[CHOS_IMAGE_SQUASHFS] = { CHOS_SQUASHFS_SUFFIX, "squashfs", SQUASHFS_MAGIC },
	[CHOS_IMAGE_EROFS] = { CHOS_EROFS_SUFFIX, "erofs", EROFS_SUPER_MAGIC_V1 },
};

const struct chos_image_format *chos_image_format(enum chos_image_kind kind)
{
	return &formats[kind];
}

enum chos_image_kind chos_image_kind_of(const char *path, size_t len)
{
	for (size_t k = CHOS_IMAGE_NONE + 1; k < sizeof(formats) / sizeof(formats[0]); k++) {
		size_t n = strlen(formats[k].suffix);
		if (len > n && !memcmp(path + len - n, formats[k].suffix, n))
			return (enum chos_image_kind)k;
	}
	return CHOS_IMAGE_NONE;
}

/* An entry as parsed, before it is added. */
struct entry {
	const char *name, *path;
	size_t name_len, path_len;
	bool pinned;
	uint8_t sha256[CHOS_SHA256_BYTES];
};

static int add_env(struct chos_catalogue *cat, size_t *cap, unsigned *lines, unsigned lineno,
		   const struct entry *in, struct chos_error *err)
{
	char q[QUOTE_MAX + 4];

	for (size_t i = 0; i < cat->count; i++)
		if (strlen(cat->envs[i].name) == in->name_len &&
		    memcmp(cat->envs[i].name, in->name, in->name_len) == 0) {
			chos_error_excerpt(q, sizeof(q), in->name, in->name_len);
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
	*e = (struct chos_env){ .name = strndup(in->name, in->name_len),
				.path = strndup(in->path, in->path_len),
				.image = chos_image_kind_of(in->path, in->path_len),
				.pinned = in->pinned };
	memcpy(e->sha256, in->sha256, sizeof(e->sha256));
	if (!e->name || !e->path) {
		free(e->name);
		free(e->path);
		return chos_fail(err, -ENOMEM, "out of memory");
	}
	lines[cat->count++] = lineno;
	return 0;
}

static int hex_digit(char c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The options after an entry's path (catalogue.h): words separated by blanks. */
static int parse_options(struct entry *in, unsigned lineno, const char *s, size_t len,
			 struct chos_error *err)
{
	static const char pin[] = "sha256=";
	char q[QUOTE_MAX + 4], nq[QUOTE_MAX + 4];

	chos_error_excerpt(nq, sizeof(nq), in->name, in->name_len);
	for (size_t pos = 0; pos < len;) {
		while (pos < len && is_blank(s[pos]))
			pos++;
		size_t start = pos;
		while (pos < len && !is_blank(s[pos]))
			pos++;
		const char *word = s + start;
		size_t n = pos - start;
		if (n == 0)
			break;
		chos_error_excerpt(q, sizeof(q), word, n);
		if (n < sizeof(pin) - 1 || memcmp(word, pin, sizeof(pin) - 1))
			return chos_fail(err, -EINVAL,
					 "line %u: unknown option \"%s\" for \"%s\" (a path ends "
					 "at the first blank; the only option is sha256=HEX)",
					 lineno, q, nq);
		if (!chos_image_kind_of(in->path, in->path_len))
			return chos_fail(
				err, -EINVAL,
				"line %u: sha256= pins an image (a path ending in %s), not "
				"the directory of \"%s\"",
				lineno, CHOS_IMAGE_SUFFIXES, nq);
		if (in->pinned)
			return chos_fail(err, -EINVAL, "line %u: \"%s\" has two sha256= options",
					 lineno, nq);
		word += sizeof(pin) - 1;
		n -= sizeof(pin) - 1;
		if (n != CHOS_SHA256_HEX)
			return chos_fail(err, -EINVAL,
					 "line %u: the sha256 of \"%s\" must be %d hex digits",
					 lineno, nq, CHOS_SHA256_HEX);
		for (size_t i = 0; i < CHOS_SHA256_BYTES; i++) {
			int hi = hex_digit(word[2 * i]), lo = hex_digit(word[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return chos_fail(err, -EINVAL,
						 "line %u: the sha256 of \"%s\" must be %d hex "
						 "digits",
						 lineno, nq, CHOS_SHA256_HEX);
			in->sha256[i] = (uint8_t)(hi << 4 | lo);
		}
		in->pinned = true;
	}
	return 0;
}

/* One `%SHELLS` line, already trimmed and neither blank nor a comment. */
static int parse_entry(struct chos_catalogue *cat, size_t *cap, unsigned *lines, unsigned lineno,
		       const char *s, size_t len, struct chos_error *err)
{
	const char *colon = memchr(s, ':', len);
	struct entry in = { .name = s };
	char q[QUOTE_MAX + 4];

	if (!colon) {
		chos_error_excerpt(q, sizeof(q), s, len);
		return chos_fail(err, -EINVAL, "line %u: expected NAME:PATH, got \"%s\"", lineno,
				 q);
	}
	in.name_len = (size_t)(colon - s);
	in.path = colon + 1;
	while (in.path + in.path_len < s + len && !is_blank(in.path[in.path_len]))
		in.path_len++;
	if (!chos_name_valid(s, in.name_len)) {
		chos_error_excerpt(q, sizeof(q), s, in.name_len);
		return chos_fail(err, -EINVAL,
				 "line %u: invalid environment name \"%s\" (letters, digits, '.', "
				 "'_', '-'; at most %d)",
				 lineno, q, CHOS_NAME_MAX);
	}
	chos_error_excerpt(q, sizeof(q), s, in.name_len);
	if (in.path_len == 0 || in.path[0] != '/')
		return chos_fail(err, -EINVAL, "line %u: the path of \"%s\" must be absolute",
				 lineno, q);
	if (in.path_len >= PATH_MAX)
		return chos_fail(err, -EINVAL, "line %u: the path of \"%s\" is too long", lineno,
				 q);
	for (size_t i = 0; i < in.path_len; i++)
		if ((unsigned char)in.path[i] < 0x20 || in.path[i] == 0x7f)
			return chos_fail(err, -EINVAL,
					 "line %u: the path of \"%s\" contains a control character",
					 lineno, q);
	const char *rest = in.path + in.path_len;
	if (parse_options(&in, lineno, rest, (size_t)(s + len - rest), err) < 0)
		return -EINVAL;
	return add_env(cat, cap, lines, lineno, &in, err);
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

int chos_image_generation(const char *name, const char *hex, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%c%.*s", name, CHOS_IMAGE_GENERATION_SEP,
			 CHOS_IMAGE_GENERATION_HEX, hex);
	return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
}

bool chos_is_image_generation(const char *name, const char *s, size_t len)
{
	size_t n = strlen(name);

	if (len != n + 1 + CHOS_IMAGE_GENERATION_HEX || memcmp(s, name, n) ||
	    s[n] != CHOS_IMAGE_GENERATION_SEP)
		return false;
	for (size_t i = n + 1; i < len; i++)
		if (!s[i] || !strchr("0123456789abcdef", s[i]))
			return false;
	return true;
}

/* ROOT/CHOS_IMAGES_NAME/ in buf: its length, or -ENAMETOOLONG. */
static int images_dir(const char *root, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%s/", strcmp(root, "/") ? root : "", CHOS_IMAGES_NAME);
	return n >= 0 && (size_t)n < size ? n : -ENAMETOOLONG;
}

int chos_env_tree(const struct chos_env *env, const char *root, char *buf, size_t size)
{
	char gen[CHOS_NAME_MAX + 2 + CHOS_IMAGE_GENERATION_HEX];
	int dir, n;
	ssize_t len;

	if (!env->image) {
		n = snprintf(buf, size, "%s", env->path);
		return n >= 0 && (size_t)n < size ? 0 : -ENAMETOOLONG;
	}
	if ((dir = images_dir(root, buf, size)) < 0 ||
	    (n = snprintf(buf + dir, size - dir, "%s", env->name)) < 0 || (size_t)n >= size - dir)
		return -ENAMETOOLONG;
	/* Only a generation of this image is followed. Anything else there (no symlink: setup has
	 * not mounted it; one leading elsewhere) gives NAME@, which setup never makes: the session
	 * finds no image and says so, and never enters what the symlink leads to. */
	len = readlink(buf, gen, sizeof(gen));
	if (len <= 0 || !chos_is_image_generation(env->name, gen, len))
		len = snprintf(gen, sizeof(gen), "%s%c", env->name, CHOS_IMAGE_GENERATION_SEP);
	if ((size_t)dir + len >= size)
		return -ENAMETOOLONG;
	memcpy(buf + dir, gen, len);
	buf[dir + len] = '\0';
	return 0;
}

bool chos_env_is_tree(const struct chos_env *env, const char *root, const char *tree)
{
	char buf[PATH_MAX];
	int dir;

	if (chos_env_tree(env, root, buf, sizeof(buf)) == 0 && !strcmp(buf, tree))
		return true;
	if (!env->image || (dir = images_dir(root, buf, sizeof(buf))) < 0 ||
	    strncmp(tree, buf, dir))
		return false;
	return chos_is_image_generation(env->name, tree + dir, strlen(tree + dir));
}
