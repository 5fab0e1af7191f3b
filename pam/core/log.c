/* SPDX-License-Identifier: BSD-3-Clause
 * The log sink of log.h. Lines carry text a policy or a user chose (console.log, names), so
 * control characters are replaced before any sink sees them: one call is one line, and nobody
 * forges a second syslog line with an embedded newline. */
#include "log.h"
#include <stdio.h>
#include <syslog.h>

/* 1024 bytes: longer than any line the core writes; longer policy output is cut, not split. */
#define CHOS_LOG_LINE_MAX 1024

void chos_vlog(const struct chos_log *log, int priority, const char *fmt, va_list ap)
{
	char line[CHOS_LOG_LINE_MAX];

	if (priority == LOG_DEBUG && !(log && log->debug))
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log && log->fn)
		log->fn(log->userdata, priority, line);
	else
		syslog(LOG_AUTHPRIV | priority, "%s", line);
}

void chos_log(const struct chos_log *log, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	chos_vlog(log, priority, fmt, ap);
	va_end(ap);
}
