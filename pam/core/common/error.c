/* SPDX-License-Identifier: BSD-3-Clause
 * The error record of error.h: one formatted sentence plus the -errno it goes with, and the
 * excerpts of untrusted text such a sentence may quote. */
#include "common/error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int chos_fail(struct chos_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	/* A message longer than CHOS_ERROR_MAX is cut; the start says what and where. */
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return code;
}

void chos_error_excerpt(char *dst, size_t size, const char *s, size_t n)
{
	size_t max = size - 4, m = n > max ? max : n;

	for (size_t i = 0; i < m; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	strcpy(dst + m, n > max ? "..." : "");
}
