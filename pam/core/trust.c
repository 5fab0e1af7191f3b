/* SPDX-License-Identifier: BSD-3-Clause
 * The trust rule of trust.h. Everything is checked on the opened fd: O_NOFOLLOW refuses a
 * symlink as the last component, O_NONBLOCK keeps a FIFO planted in place of the file from
 * blocking the login (fstat then says it is not a regular file), and fstat describes the very
 * file that is read. */
#include "trust.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int chos_open_trusted(const char *path, unsigned flags, struct chos_error *err)
{
	struct stat st;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return chos_fail(err, -ELOOP, "%s: is a symbolic link (not trusted)", path);
		return chos_fail(err, -errno, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		r = chos_fail(err, -errno, "%s: %s", path, strerror(errno));
		goto close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		r = chos_fail(err, -EPERM, "%s: not a regular file (not trusted)", path);
		goto close_fd;
	}
	if (st.st_uid != 0 && !(flags & CHOS_TRUST_ANY_OWNER)) {
		r = chos_fail(err, -EPERM, "%s: owned by uid %u, not root (not trusted)", path,
			      (unsigned)st.st_uid);
		goto close_fd;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		r = chos_fail(err, -EPERM,
			      "%s: writable by group or others, mode %04o (not trusted)", path,
			      (unsigned)(st.st_mode & 07777));
		goto close_fd;
	}
	return fd;
close_fd:
	close(fd);
	return r;
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
