/* SPDX-License-Identifier: BSD-3-Clause
 * Writing, in the two ways the core needs. A regular file takes its bytes in as many write(2)
 * calls as it likes (chos_write_all). A kernel control file (/proc/chos/setchos and valid,
 * /proc/self/uid_map...) takes each write(2) as one whole record: a short write cannot be
 * finished by writing the rest, which would be a second, wrong record, so it is an error
 * (chos_write_record, chos_write_control). Each returns 0 or -errno. */
#pragma once
#include <stddef.h>

/* All n bytes of buf to fd, retrying after EINTR and short writes. */
int chos_write_all(int fd, const void *buf, size_t n);
/* The n bytes of text to fd in one write(2) (retried after EINTR); a short write is -EIO. */
int chos_write_record(int fd, const char *text, size_t n);
/* Opens path for writing and writes text (a C string) as one record. */
int chos_write_control(const char *path, const char *text);
