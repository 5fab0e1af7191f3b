/* SPDX-License-Identifier: BSD-3-Clause
 * Logging for the core. Production sends lines to syslog (LOG_AUTHPRIV); the PAM module routes
 * them through pam_syslog, the addon and the CLI collect them instead. The sink is per call
 * chain, not global state shared between threads: every entry point passes one down. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

typedef void (*chos_log_fn)(void *userdata, int priority, const char *line);

struct chos_log {
	chos_log_fn fn; /* NULL: syslog(LOG_AUTHPRIV | priority) */
	void *userdata;
	int debug; /* LOG_DEBUG lines are dropped unless set */
};

void chos_log(const struct chos_log *log, int priority, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void chos_vlog(const struct chos_log *log, int priority, const char *fmt, va_list ap);

/* Writes text into buf (len bytes, NUL-terminated) as the inside of a quoted log field: '"'
 * and '\\' escaped with a backslash, control characters as \xNN, cut at a whole escape.
 * Every field a user or a policy chose goes through it, so no text can end its quotes early
 * or start a second line. Returns the length written. */
size_t chos_log_quote(char *buf, size_t len, const char *text);
