/* SPDX-License-Identifier: BSD-3-Clause
 * The user's request (request.h). The ~/.chos reader runs in a forked child with the user's
 * credentials and answers over a pipe with one status byte and a text:
 *   'V' + the first line (trimmed)    'N' + why there is no request    'E' + why it was refused
 * The child never allocates and never touches NSS or stdio: the parent may be a threaded process
 * (the Node addon), where another thread may hold the allocator's or NSS's locks at fork. It
 * makes system calls and formats into stack buffers (snprintf, strerror), nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include "request.h"

/* The reply: a status byte and a line or a reason (CHOS_ERROR_MAX is the longest we write). */
#define REPLY_MAX (1 + CHOS_ERROR_MAX)
/* getgrouplist's first guess; it says how many it needs when there are more. */
#define GROUPS_START 64

int chos_request_conf_valid(const char *name)
{
	const char *p = name;

	if (!name || !*name || *name == '/')
		return 0;
	while (*p) {
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') || len == 0)
			return 0;
		p += len;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* Child side. Writes the whole reply with one write (it is far below PIPE_BUF) and exits. */
static __attribute__((noreturn, format(printf, 3, 4))) void reply(int fd, char status,
								   const char *fmt, ...)
{
	char buf[REPLY_MAX];
	va_list ap;
	int n;

	buf[0] = status;
	va_start(ap, fmt);
	/* vsnprintf with %s/%d only, into a stack buffer: no allocation in practice. */
	n = vsnprintf(buf + 1, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	(void)!write(fd, buf, (size_t)n + 1);
	_exit(0);
}

static void drop_privileges(int out, uid_t uid, gid_t gid, const gid_t *groups, int ngroups)
{
	if (setgroups((size_t)ngroups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		reply(out, 'E', "cannot drop to uid %u: %s", (unsigned)uid, strerror(errno));
	/* Checked, not assumed: a half-dropped reader would read as root. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		reply(out, 'E', "credentials are not uid %u gid %u after dropping", (unsigned)uid,
		      (unsigned)gid);
	if (uid != 0 && setuid(0) == 0)
		reply(out, 'E', "uid 0 could be regained after dropping to uid %u", (unsigned)uid);
}

static void child_read(int out, const char *path, uid_t uid, gid_t gid, const gid_t *groups,
		       int ngroups)
{
	/* One byte more than the cap, to notice a file that grew past it after fstat. */
	char buf[CHOS_REQUEST_FILE_MAX + 1];
	size_t have = 0, len;
	struct stat st;
	int fd;

	drop_privileges(out, uid, gid, groups, ngroups);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			reply(out, 'N', "%s: does not exist", path);
		if (errno == ELOOP)
			reply(out, 'E', "%s: is a symbolic link", path);
		reply(out, 'E', "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0)
		reply(out, 'E', "%s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		reply(out, 'E', "%s: not a regular file", path);
	if (st.st_size > CHOS_REQUEST_FILE_MAX)
		reply(out, 'E', "%s: larger than %d bytes", path, CHOS_REQUEST_FILE_MAX);
	while (have < sizeof(buf)) {
		ssize_t n = read(fd, buf + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			reply(out, 'E', "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (have > CHOS_REQUEST_FILE_MAX)
		reply(out, 'E', "%s: larger than %d bytes", path, CHOS_REQUEST_FILE_MAX);
	len = 0;
	while (len < have && buf[len] != '\n')
		len++;
	if (memchr(buf, '\0', len))
		reply(out, 'E', "%s: the first line contains a NUL byte", path);
	/* Blanks around the name are forgiven (an editor's trailing space, a CRLF file). */
	while (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t' || buf[len - 1] == '\r'))
		len--;
	char *start = buf;
	while (len > 0 && (*start == ' ' || *start == '\t')) {
		start++;
		len--;
	}
	if (len == 0)
		reply(out, 'N', "%s: the first line is empty", path);
	if (len > CHOS_NAME_MAX)
		reply(out, 'E', "%s: the first line is longer than %d bytes", path, CHOS_NAME_MAX);
	start[len] = '\0';
	reply(out, 'V', "%s", start);
}

/* Parent side: waits for the reply under the deadline, then reaps the child. */
static int await_reply(int in, pid_t pid, char *buf, size_t size, size_t *len)
{
	struct timespec start, now;
	int timed_out = 0;

	*len = 0;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd p = {.fd = in, .events = POLLIN};
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = CHOS_REQUEST_TIMEOUT_MS - ((now.tv_sec - start.tv_sec) * 1000 +
						       (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0) {
			timed_out = 1;
			break;
		}
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			timed_out = r == 0;
			break;
		}
		ssize_t n = read(in, buf + *len, size - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
		if (*len == size)
			break;
	}
	if (timed_out)
		kill(pid, SIGKILL);
	/* ECHILD: the caller ignores SIGCHLD and the kernel reaped it; the reply is what counts. */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return timed_out ? -ETIMEDOUT : 0;
}

static int user_groups(const struct chos_context *ctx, gid_t **groups, int *count)
{
	int n = GROUPS_START;

	for (;;) {
		gid_t *g = realloc(*groups, (size_t)n * sizeof(**groups));
		if (!g)
			return -ENOMEM;
		*groups = g;
		int want = n;
		if (getgrouplist(ctx->user, ctx->gid, *groups, &want) >= 0) {
			*count = want;
			return 0;
		}
		if (want <= n)
			return -EINVAL;
		n = want;
	}
}

/* Reads the first line of path as the user. Fills line (status 'V'), or why (status 'N'/'E').
 * Returns the status byte. */
static char read_as_user(const struct chos_context *ctx, const char *path, char *text,
			 size_t text_size)
{
	char buf[REPLY_MAX];
	gid_t *groups = NULL;
	int ngroups = 0, fds[2];
	size_t len;
	pid_t pid;

	if (user_groups(ctx, &groups, &ngroups) < 0) {
		snprintf(text, text_size, "cannot list the groups of \"%s\"", ctx->user);
		free(groups);
		return 'E';
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		snprintf(text, text_size, "pipe: %s", strerror(errno));
		free(groups);
		return 'E';
	}
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		child_read(fds[1], path, ctx->uid, ctx->gid, groups, ngroups);
	}
	close(fds[1]);
	free(groups);
	if (pid < 0) {
		close(fds[0]);
		snprintf(text, text_size, "fork: %s", strerror(errno));
		return 'E';
	}
	int r = await_reply(fds[0], pid, buf, sizeof(buf) - 1, &len);
	close(fds[0]);
	if (r == -ETIMEDOUT) {
		snprintf(text, text_size, "%.400s: not read within %d ms", path, CHOS_REQUEST_TIMEOUT_MS);
		return 'E';
	}
	if (len < 1 || (buf[0] != 'V' && buf[0] != 'N' && buf[0] != 'E')) {
		snprintf(text, text_size, "%.400s: the reader died without an answer", path);
		return 'E';
	}
	buf[len] = '\0';
	snprintf(text, text_size, "%s", buf + 1);
	return buf[0];
}

/* Takes value as the request when it is a valid name; logs why not otherwise. */
static int accept_name(struct chos_context *ctx, const char *value, enum chos_request_source from,
		       const char *where, const struct chos_log *log)
{
	if (!chos_name_valid(value, strlen(value))) {
		/* Quoted, cut, and with control characters replaced by the logger: the value is the
		 * user's, and a 100 KB one must not push the reason out of the line. */
		chos_log(log, LOG_WARNING,
			 "user \"%s\": request \"%.*s%s\" from %s ignored: not a valid environment "
			 "name ([A-Za-z0-9._-]+, at most %d bytes)",
			 ctx->user, CHOS_NAME_MAX, value, strlen(value) > CHOS_NAME_MAX ? "..." : "",
			 where, CHOS_NAME_MAX);
		return 0;
	}
	ctx->requested = strdup(value);
	if (!ctx->requested)
		return -ENOMEM;
	ctx->requested_from = from;
	chos_log(log, LOG_DEBUG, "user \"%s\": requests \"%s\" from %s", ctx->user, value, where);
	return 0;
}

int chos_request_fill(struct chos_context *ctx, const struct chos_request_options *opts)
{
	char path[4096], text[CHOS_ERROR_MAX];   /* 4096: PATH_MAX; a longer home is refused */
	const char *conf = opts->user_conf ? opts->user_conf : CHOS_USER_CONF_DEFAULT;

	free(ctx->requested);
	ctx->requested = NULL;
	ctx->requested_from = CHOS_REQUEST_NONE;
	/* The first source that is set is the request, good or bad: a rejected $CHOS does not fall
	 * through to ~/.chos, so the user always gets the answer to what they asked. */
	if (opts->pam_env)
		return accept_name(ctx, opts->pam_env, CHOS_REQUEST_ENV, "$CHOS (PAM)", opts->log);
	if (opts->process_env)
		return accept_name(ctx, opts->process_env, CHOS_REQUEST_ENV, "$CHOS", opts->log);
	if (!ctx->home || ctx->home[0] != '/' ||
	    snprintf(path, sizeof(path), "%s/%s", ctx->home, conf) >= (int)sizeof(path)) {
		chos_log(opts->log, LOG_WARNING, "user \"%s\": home \"%s\" unusable, ~/%s not read",
			 ctx->user, ctx->home ? ctx->home : "", conf);
		return 0;
	}
	switch (read_as_user(ctx, path, text, sizeof(text))) {
	case 'V':
		return accept_name(ctx, text, CHOS_REQUEST_FILE, path, opts->log);
	case 'N':
		chos_log(opts->log, LOG_DEBUG, "user \"%s\": no request: %s", ctx->user, text);
		return 0;
	default:
		chos_log(opts->log, LOG_WARNING, "user \"%s\": request file ignored: %s", ctx->user,
			 text);
		return 0;
	}
}
