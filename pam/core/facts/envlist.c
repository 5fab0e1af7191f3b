/* SPDX-License-Identifier: BSD-3-Clause
 * The %ENV list of a tree's /etc/chos.conf (envlist.h). */
#include "facts/envlist.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ASCII only, whatever the locale: variable names are bytes. */
static bool name_start(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool name_valid(const char *s, size_t len)
{
	if (len && s[len - 1] == '*')
		len--; /* a prefix; a bare "*" is refused: leave %ENV out to keep everything */
	if (!len || !name_start(s[0]))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!name_start(s[i]) && !(s[i] >= '0' && s[i] <= '9'))
			return false;
	return true;
}

static int add(struct chos_envlist *out, const char *s, size_t len)
{
	char **names = realloc(out->names, (out->count + 1) * sizeof(*names));

	if (!names)
		return -ENOMEM;
	out->names = names;
	if (!(names[out->count] = strndup(s, len)))
		return -ENOMEM;
	out->count++;
	return 0;
}

int chos_envlist_parse(const char *text, size_t len, struct chos_envlist *out,
		       struct chos_error *err)
{
	bool in_env = false;
	size_t line = 0;

	memset(out, 0, sizeof(*out));
	for (size_t pos = 0; pos < len; line++) {
		const char *end = memchr(text + pos, '\n', len - pos);
		size_t next = end ? (size_t)(end - text) + 1 : len;
		const char *s = text + pos;
		size_t n = next - pos - (end ? 1 : 0);

		pos = next;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (!n || *s == '#')
			continue;
		if (*s == '%') {
			in_env = n == 4 && !memcmp(s, "%ENV", 4);
			out->present |= in_env;
			continue;
		}
		if (!in_env)
			continue;
		if (!name_valid(s, n)) {
			chos_envlist_free(out);
			return chos_fail(err, -EINVAL,
					 "%s line %zu: not a variable name (expected "
					 "NAME or PREFIX*)",
					 CHOS_ENVLIST_CONF, line + 1);
		}
		if (add(out, s, n) < 0) {
			chos_envlist_free(out);
			return chos_fail(err, -ENOMEM, "out of memory");
		}
	}
	return 0;
}

int chos_envlist_load(const char *path, struct chos_envlist *out, struct chos_error *err)
{
	char *buf;
	ssize_t n;
	size_t len = 0;
	struct stat st;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	memset(out, 0, sizeof(*out));
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0)
		return chos_fail(err, -errno, "%s: %s", path, strerror(errno));
	/* A FIFO or device in a tree must not hang or flood the command. */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return chos_fail(err, -EINVAL, "%s: not a regular file", path);
	}
	if (!(buf = malloc(CHOS_ENVLIST_MAX_BYTES + 1))) {
		close(fd);
		return chos_fail(err, -ENOMEM, "out of memory");
	}
	while ((n = read(fd, buf + len, CHOS_ENVLIST_MAX_BYTES + 1 - len)) > 0 &&
	       (len += (size_t)n) <= CHOS_ENVLIST_MAX_BYTES)
		;
	close(fd);
	if (n < 0)
		r = chos_fail(err, -errno, "%s: %s", path, strerror(errno));
	else if (len > CHOS_ENVLIST_MAX_BYTES)
		r = chos_fail(err, -EFBIG, "%s: larger than %u bytes", path,
			      CHOS_ENVLIST_MAX_BYTES);
	else
		r = chos_envlist_parse(buf, len, out, err);
	free(buf);
	return r;
}

bool chos_envlist_keeps(const struct chos_envlist *list, const char *name, size_t len)
{
	if (!list->present)
		return true;
	for (size_t i = 0; i < list->count; i++) {
		const char *entry = list->names[i];
		size_t n = strlen(entry);
		bool prefix = entry[n - 1] == '*'; /* entries are never empty */

		if (prefix ? len >= n - 1 && !memcmp(name, entry, n - 1)
			   : len == n && !memcmp(name, entry, n))
			return true;
	}
	return false;
}

void chos_envlist_free(struct chos_envlist *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->names[i]);
	free(list->names);
	memset(list, 0, sizeof(*list));
}
