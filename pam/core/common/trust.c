/* SPDX-License-Identifier: BSD-3-Clause
 * The trust rule of trust.h, as one walk from / down. Each directory is opened from its
 * parent's fd with O_PATH|O_NOFOLLOW, so what fstat judges is what the next step opens from;
 * a symbolic link shows up as itself and is followed by splicing its target in front of what
 * is left of the path. The file at the end is opened from the last directory's fd with
 * O_NOFOLLOW (a link there gives ELOOP and is followed the same way) and O_NONBLOCK, so a FIFO
 * planted in its place cannot block the login (fstat then says it is not a regular file).
 * `at` follows the walk physically (a link's target replaces it), so messages name the
 * directory that failed, wherever the links led. */
#include "common/trust.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Returned by open_file when the file was a link and the walk goes on with its target. */
#define FOLLOWED 1

struct walk {
	const char *asked; /* the path as given: messages about it as a whole */
	unsigned flags;
	int dirfd;	     /* the directory reached so far, already judged */
	char at[PATH_MAX];   /* its path, for messages */
	char todo[PATH_MAX]; /* the path still to walk, from pos */
	size_t pos;
	unsigned links; /* links followed so far */
};

/* The rule itself, on what fstat says about what. */
static int judge(const struct stat *st, const char *what, unsigned flags, struct chos_error *err)
{
	mode_t w = st->st_mode & (S_IWGRP | S_IWOTH);

	if (st->st_uid != 0 && !(flags & CHOS_TRUST_ANY_OWNER))
		return chos_fail(err, -EPERM, "%s: owned by uid %u, not root (not trusted)", what,
				 (unsigned)st->st_uid);
	if (w)
		return chos_fail(err, -EPERM, "%s: writable by %s, mode %04o (not trusted)", what,
				 w == S_IWGRP	? "group"
				 : w == S_IWOTH ? "others"
						: "group and others",
				 (unsigned)(st->st_mode & 07777));
	return 0;
}

/* A file fd: regular, and the rule. Closes fd when it fails. */
static int judge_file(int fd, const char *what, unsigned flags, struct chos_error *err)
{
	struct stat st;
	int r;

	if (fstat(fd, &st) < 0)
		r = chos_fail(err, -errno, "%s: %s", what, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = chos_fail(err, -EPERM, "%s: not a regular file (not trusted)", what);
	else
		r = judge(&st, what, flags, err);
	if (r < 0)
		close(fd);
	return r < 0 ? r : fd;
}

static int walk_fail(const struct walk *w, int e, struct chos_error *err)
{
	return chos_fail(err, -e, "%s: %s", w->asked, strerror(e));
}

/* dst := at/name, or -ENAMETOOLONG. */
static int child(const struct walk *w, const char *name, char dst[PATH_MAX], struct chos_error *err)
{
	const char *sep = strcmp(w->at, "/") ? "/" : "";

	if (snprintf(dst, PATH_MAX, "%s%s%s", w->at, sep, name) >= PATH_MAX)
		return walk_fail(w, ENAMETOOLONG, err);
	return 0;
}

/* Moves the walk into fd (already judged), named path. */
static void enter(struct walk *w, int fd, const char *path)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = fd;
	snprintf(w->at, sizeof(w->at), "%s", path);
}

/* Opens name O_PATH|O_NOFOLLOW from the walk's directory (path: its name in messages). A
 * directory is judged and entered (*link = -1); a link is left to the caller as *link. */
static int open_dir(struct walk *w, const char *name, const char *path, int *link,
		    struct chos_error *err)
{
	int fd = openat(w->dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC), r;
	struct stat st;

	*link = -1;
	if (fd < 0)
		return walk_fail(w, errno, err);
	if (fstat(fd, &st) < 0)
		r = walk_fail(w, errno, err);
	else if (S_ISLNK(st.st_mode))
		return *link = fd, 0;
	else if (!S_ISDIR(st.st_mode))
		r = chos_fail(err, -ENOTDIR, "%s: not a directory", path);
	else if ((r = judge(&st, path, w->flags, err)) == 0) {
		enter(w, fd, path);
		return 0;
	}
	close(fd);
	return r;
}

static int open_root(struct walk *w, struct chos_error *err)
{
	struct stat st;
	int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (fd < 0)
		return walk_fail(w, errno, err);
	if (fstat(fd, &st) < 0)
		r = walk_fail(w, errno, err);
	else if ((r = judge(&st, "/", w->flags, err)) == 0) {
		enter(w, fd, "/");
		return 0;
	}
	close(fd);
	return r;
}

/* The link named name in the walk's directory (lfd: its O_PATH fd, or -1): what is left of the
 * path becomes its target followed by the rest; an absolute target starts again at /. */
static int follow(struct walk *w, int lfd, const char *name, struct chos_error *err)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n = lfd >= 0 ? readlinkat(lfd, "", target, sizeof(target) - 1)
			     : readlinkat(w->dirfd, name, target, sizeof(target) - 1);

	if (n < 0)
		return walk_fail(w, errno, err);
	target[n] = '\0';
	if (++w->links > CHOS_TRUST_MAX_LINKS)
		return chos_fail(err, -ELOOP, "%s: too many levels of symbolic links (not trusted)",
				 w->asked);
	if (snprintf(rest, sizeof(rest), "%s/%s", target, w->todo + w->pos) >= (int)sizeof(rest))
		return walk_fail(w, ENAMETOOLONG, err);
	memcpy(w->todo, rest, sizeof(rest));
	w->pos = 0;
	return target[0] == '/' ? open_root(w, err) : 0;
}

/* One directory component: ".", "..", a directory or a link to follow. */
static int step(struct walk *w, const char *name, struct chos_error *err)
{
	char path[PATH_MAX];
	int link, r;

	if (!strcmp(name, "."))
		return 0;
	if (!strcmp(name, "..")) {
		snprintf(path, sizeof(path), "%s", w->at);
		char *slash = strrchr(path, '/');
		slash[slash == path] = '\0';
	} else if (child(w, name, path, err) < 0) {
		return -ENAMETOOLONG;
	}
	if ((r = open_dir(w, name, path, &link, err)) < 0 || link < 0)
		return r;
	r = follow(w, link, name, err);
	close(link);
	return r;
}

/* The last component as the file: 0 with *fd, FOLLOWED for a link, or -errno. */
static int open_file(struct walk *w, const char *name, int *fd, struct chos_error *err)
{
	char path[PATH_MAX];
	int r;

	if (child(w, name, path, err) < 0)
		return -ENAMETOOLONG;
	*fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (*fd < 0 && errno == ELOOP)
		return (r = follow(w, -1, name, err)) < 0 ? r : FOLLOWED;
	if (*fd < 0)
		return walk_fail(w, errno, err);
	*fd = judge_file(*fd, path, w->flags, err);
	return *fd < 0 ? *fd : 0;
}

/* The next component of the path into name (empty when none is left); *last when only
 * slashes follow it. */
static int next(struct walk *w, char name[NAME_MAX + 1], bool *last, struct chos_error *err)
{
	const char *s = w->todo + w->pos, *end;

	while (*s == '/')
		s++;
	end = s + strcspn(s, "/");
	if ((size_t)(end - s) > NAME_MAX)
		return walk_fail(w, ENAMETOOLONG, err);
	memcpy(name, s, (size_t)(end - s));
	name[end - s] = '\0';
	w->pos = (size_t)(end - w->todo);
	while (*end == '/')
		end++;
	*last = *end == '\0';
	return 0;
}

static int start(struct walk *w, const char *path, struct chos_error *err)
{
	char cwd[PATH_MAX];

	/* A relative path is walked from the working directory's real path, from / down. */
	if (path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
		return walk_fail(w, errno, err);
	if (snprintf(w->todo, sizeof(w->todo), "%s/%s", path[0] == '/' ? "" : cwd, path) >=
	    (int)sizeof(w->todo))
		return walk_fail(w, ENAMETOOLONG, err);
	return open_root(w, err);
}

/* The walk of trust.h: the file's fd (want_file), else the directory's O_PATH fd. */
static int walk(const char *path, unsigned flags, bool want_file, struct chos_error *err)
{
	struct walk w = { .asked = path, .flags = flags, .dirfd = -1 };
	char name[NAME_MAX + 1];
	int r = start(&w, path, err), fd = -1;
	bool last = false;

	while (r == 0 && (r = next(&w, name, &last, err)) == 0 && name[0]) {
		if (last && want_file) {
			if ((r = open_file(&w, name, &fd, err)) == FOLLOWED)
				r = 0;
			else
				break;
		} else {
			r = step(&w, name, err);
		}
	}
	if (r == 0 && !want_file) {
		fd = w.dirfd;
		w.dirfd = -1;
	} else if (r == 0 && fd < 0) { /* nothing left after the walk: "/" or "dir/.." */
		r = chos_fail(err, -EPERM, "%s: not a regular file (not trusted)", path);
	}
	if (w.dirfd >= 0)
		close(w.dirfd);
	return r < 0 ? r : fd;
}

/* CHOS_TRUST_FILE_ONLY: the object alone, its last component never followed. */
static int open_alone(const char *path, unsigned flags, bool want_file, struct chos_error *err)
{
	int mode = want_file ? O_RDONLY | O_NONBLOCK | O_NOCTTY : O_PATH | O_DIRECTORY;
	int fd = open(path, mode | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return chos_fail(err, -ELOOP, "%s: is a symbolic link (not trusted)", path);
	if (fd < 0)
		return chos_fail(err, -errno, "%s: %s", path, strerror(errno));
	if (want_file)
		return judge_file(fd, path, flags, err);
	int r = fstat(fd, &st) < 0 ? chos_fail(err, -errno, "%s: %s", path, strerror(errno))
				   : judge(&st, path, flags, err);
	if (r < 0)
		close(fd);
	return r < 0 ? r : fd;
}

int chos_open_trusted(const char *path, unsigned flags, struct chos_error *err)
{
	if (flags & CHOS_TRUST_FILE_ONLY)
		return open_alone(path, flags, true, err);
	return walk(path, flags, true, err);
}

int chos_open_trusted_dir(const char *path, unsigned flags, struct chos_error *err)
{
	if (flags & CHOS_TRUST_FILE_ONLY)
		return open_alone(path, flags, false, err);
	return walk(path, flags, false, err);
}

int chos_read_trusted(const char *path, unsigned flags, size_t max, char **data, size_t *len,
		      struct chos_error *err)
{
	struct stat st;
	size_t have = 0;
	char *buf;
	int fd, r;

	fd = chos_open_trusted(path, flags, err);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = chos_fail(err, -errno, "%s: %s", path, strerror(errno));
		goto close_fd;
	}
	if ((size_t)st.st_size > max) {
		r = chos_fail(err, -EFBIG, "%s: larger than %zu bytes", path, max);
		goto close_fd;
	}
	/* One byte more than the size says, to notice a file that grows while read. */
	buf = malloc((size_t)st.st_size + 2);
	if (!buf) {
		r = chos_fail(err, -ENOMEM, "%s: out of memory", path);
		goto close_fd;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = chos_fail(err, -errno, "%s: %s", path, strerror(errno));
			goto free_buf;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		if (have > (size_t)st.st_size) {
			r = chos_fail(err, -EAGAIN, "%s: changed while being read", path);
			goto free_buf;
		}
	}
	buf[have] = '\0';
	close(fd);
	*data = buf;
	*len = have;
	return 0;
free_buf:
	free(buf);
close_fd:
	close(fd);
	return r;
}
