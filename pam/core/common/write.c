/* SPDX-License-Identifier: BSD-3-Clause
 * The two ways of writing of write.h. */
#include "common/write.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int chos_write_all(int fd, const void *buf, size_t n)
{
	for (const char *p = buf; n;) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int chos_write_record(int fd, const char *text, size_t n)
{
	ssize_t w;

	do
		w = write(fd, text, n);
	while (w < 0 && errno == EINTR);
	return w < 0 ? -errno : (size_t)w == n ? 0 : -EIO;
}

int chos_write_control(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = chos_write_record(fd, text, strlen(text));
	close(fd);
	return r;
}
