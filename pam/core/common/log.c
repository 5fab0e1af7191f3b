/* SPDX-License-Identifier: BSD-3-Clause
 * The log sink of log.h. Lines carry text a policy or a user chose (console.log, names), so
 * control characters are replaced before any sink sees them: one call is one line, and nobody
 * forges a second syslog line with an embedded newline. */
#include "common/log.h"
#include <stdio.h>
#include <string.h>
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

size_t chos_log_quote(char *buf, size_t len, const char *text)
{
	size_t n = 0;

	if (len == 0)
		return 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		char esc[5];
		size_t w;

		if (*p == '"' || *p == '\\')
			w = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			w = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
		else
			esc[0] = (char)*p, esc[1] = '\0', w = 1;
		/* Whole escapes only: a cut never leaves half of one. */
		if (n + w >= len)
			break;
		memcpy(buf + n, esc, w);
		n += w;
	}
	buf[n] = '\0';
	return n;
}

void chos_log(const struct chos_log *log, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	chos_vlog(log, priority, fmt, ap);
	va_end(ap);
}
