/* SPDX-License-Identifier: BSD-3-Clause
 * One error record for every core operation that can fail several ways: what failed, where
 * (a path or a file:line), and an errno-style code. Functions return 0 or -errno and fill one
 * of these; callers log it once, where the outcome is decided. */
#pragma once
#include <stddef.h>

/* 512 bytes: a path (PATH_MAX is rarely reached in configuration paths) plus a sentence. */
#define CHOS_ERROR_MAX 512

struct chos_error {
	int code;		      /* -errno, 0 when unset */
	char message[CHOS_ERROR_MAX]; /* one sentence saying what is wrong and what to fix */
};

/* Fills err (when not NULL) and returns code, so that callers write
 * `return chos_fail(err, -EINVAL, ...)`. */
int chos_fail(struct chos_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* An excerpt of untrusted text (n bytes, need not be NUL-terminated) to quote inside an error
 * message: at most size - 4 bytes of it, control bytes as '?', and "..." when it was cut; dst
 * holds size bytes. Not chos_log_quote's escaping: a message is escaped once, where it is
 * logged, and an excerpt must read the same in syslog and on a terminal. */
void chos_error_excerpt(char *dst, size_t size, const char *s, size_t n);
