/* SPDX-License-Identifier: BSD-3-Clause
 * The error record of error.h: one formatted sentence plus the -errno it goes with. */
#include "common/error.h"
#include <stdarg.h>
#include <stdio.h>

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
