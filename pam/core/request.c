/* SPDX-License-Identifier: BSD-3-Clause
 * The user's request (request.h). The ~/.chos reader is a child made with
 * clone(CLONE_VM | CLONE_VFORK) on a small stack of its own: it shares our memory and we sleep
 * until it is gone, so it costs no copy of the caller's page tables (a fork of sshd is most of
 * a login's overhead) and it answers by filling a struct reader, no pipe needed.
 *
 * Sharing memory with a root process while running as the user is safe only under these rules:
 *   - The child makes raw system calls only (syscall(2)): no allocator, no stdio, no NSS, no
 *     cancellation points, and never glibc's set*id wrappers, which would signal the caller's
 *     other threads to change their credentials too. It writes nothing but its struct reader.
 *   - Every signal is blocked before the clone; the child then blocks all but SIGALRM (set to
 *     its default action): no handler of the caller ever runs in the child, and the user, who
 *     may signal a process of their uid, can stop or kill it but never steer it.
 *   - A hung home (NFS) must not hang the login: the child arms its own ITIMER_REAL, and
 *     SIGALRM's default action kills it, even when stopped, after CHOS_REQUEST_TIMEOUT_MS.
 *   - Dropping the uid makes the shared mm non-dumpable (the kernel does this on every
 *     credential change), so the user cannot ptrace the child into our memory; the caller's
 *     dumpable flag is restored afterwards. With fs.suid_dumpable=1, which the kernel documents
 *     as insecure, a forked reader's copy of our memory was exposed the same way. */
#include "request.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

/* The child's raw fstat fills glibc's struct stat, and its raw set*id calls take 32-bit ids:
 * both hold on these 64-bit targets (32-bit x86 and ARM have other calls for them). */
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "request.c's raw system calls are written for x86_64 and aarch64"
#endif

/* The child's stack: its calls are a few frames of syscall(2); a guard page sits below it. */
#define READER_STACK (16u << 10)

int chos_request_conf_valid(const char *name)
{
	const char *p = name;

	if (!name || !*name || *name == '/')
		return 0;
	while (*p) {
		size_t len = strcspn(p, "/");
		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.') ||
		    len == 0)
			return 0;
		p += len;
		if (*p == '/')
			p++;
	}
	return 1;
}

/* Where the child stopped. READ_NONE: it died before saying (the timer, or a signal). */
enum reader_step {
	READ_NONE,
	READ_SIGNALS,
	READ_DROP,
	READ_CHECK,
	READ_REGAIN,
	READ_OPEN,
	READ_FSTAT,
	READ_NOT_REGULAR,
	READ_TOO_LARGE,
	READ_READ,
	READ_DONE,
};

/* Shared with the child: it reads the first part and writes the second. */
struct reader {
	const char *path;
	uid_t uid;
	gid_t gid;
	const gid_t *groups;
	size_t ngroups;
	enum reader_step step; /* written last */
	int err;	       /* errno of the failed step */
	size_t have;	       /* bytes in buf */
	/* One byte more than the cap, to notice a file that grew past it after fstat. */
	char buf[CHOS_REQUEST_FILE_MAX + 1];
};

/* The kernel's struct sigaction for rt_sigaction (not glibc's). */
struct kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/* Raw system call returning -errno; errno is the sleeping caller's, read at once. */
static long sys(long r)
{
	return r < 0 ? -errno : r;
}

static enum reader_step reader_signals(void)
{
	struct kernel_sigaction dfl = {.handler = SIG_DFL};
	uint64_t all_but_alarm = ~(UINT64_C(1) << (SIGALRM - 1));
	long ms = CHOS_REQUEST_TIMEOUT_MS;
	struct itimerval timer = {.it_value = {ms / 1000, (ms % 1000) * 1000}};

	if (sys(syscall(SYS_rt_sigaction, SIGALRM, &dfl, NULL, sizeof(uint64_t))) < 0 ||
	    sys(syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all_but_alarm, NULL, sizeof(uint64_t))) <
		0 ||
	    sys(syscall(SYS_setitimer, ITIMER_REAL, &timer, NULL)) < 0)
		return READ_SIGNALS;
	return READ_DONE;
}

/* Drops to the user for good, and checks it: a half-dropped reader would read as root. */
static enum reader_step reader_drop(const struct reader *r)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (sys(syscall(SYS_setgroups, r->ngroups, r->groups)) < 0 ||
	    sys(syscall(SYS_setresgid, r->gid, r->gid, r->gid)) < 0 ||
	    sys(syscall(SYS_setresuid, r->uid, r->uid, r->uid)) < 0)
		return READ_DROP;
	if (syscall(SYS_getresuid, &ru, &eu, &su) < 0 ||
	    syscall(SYS_getresgid, &rg, &eg, &sg) < 0 || ru != r->uid || eu != r->uid ||
	    su != r->uid || rg != r->gid || eg != r->gid || sg != r->gid)
		return READ_CHECK;
	if (r->uid != 0 && syscall(SYS_setresuid, 0, 0, 0) == 0)
		return READ_REGAIN;
	return READ_DONE;
}

static enum reader_step reader_read(struct reader *r)
{
	struct stat st;
	long fd, n;

	fd = sys(syscall(SYS_openat, AT_FDCWD, r->path,
			 O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
	if (fd < 0)
		return r->err = (int)-fd, READ_OPEN;
	if ((n = sys(syscall(SYS_fstat, fd, &st))) < 0)
		return r->err = (int)-n, READ_FSTAT;
	if (!S_ISREG(st.st_mode))
		return READ_NOT_REGULAR;
	if (st.st_size > CHOS_REQUEST_FILE_MAX)
		return READ_TOO_LARGE;
	while (r->have < sizeof(r->buf)) {
		n = sys(syscall(SYS_read, fd, r->buf + r->have, sizeof(r->buf) - r->have));
		if (n == -EINTR)
			continue;
		if (n < 0)
			return r->err = (int)-n, READ_READ;
		if (n == 0)
			break;
		r->have += (size_t)n;
	}
	return READ_DONE;
}

/* The child. Exits through clone's return path (the exit system call), never exit(3). */
static int reader_child(void *arg)
{
	struct reader *r = arg;
	enum reader_step step = reader_signals();

	if (step == READ_DONE && (step = reader_drop(r)) != READ_DONE)
		r->err = errno;
	if (step == READ_DONE)
		step = reader_read(r);
	r->step = step;
	return 0;
}

/* Runs the child and waits for it; 0, or -errno when it could not be started. */
static int run_reader(struct reader *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	sigset_t all, saved;
	int dumpable, err = 0;
	char *stack;
	pid_t pid;

	stack = mmap(NULL, page + READER_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return -errno;
	if (mprotect(stack, page, PROT_NONE) < 0) {
		err = -errno;
		goto unmap;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	dumpable = prctl(PR_GET_DUMPABLE);
	/* SIGCHLD: an ordinary child for waitpid. The stack grows down from its top. */
	pid = clone(reader_child, stack + page + READER_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, r);
	if (pid < 0)
		err = -errno;
	if ((dumpable == 0 || dumpable == 1) && prctl(PR_GET_DUMPABLE) != dumpable)
		prctl(PR_SET_DUMPABLE, dumpable);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	/* ECHILD: the caller ignores SIGCHLD and the kernel reaped it; r->step is what counts. */
	while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
unmap:
	munmap(stack, page + READER_STACK);
	return err;
}

/* Turns the child's bytes into the first line (status 'V'), or why there is none ('N'/'E'). */
static char first_line(struct reader *r, char *text, size_t text_size)
{
	size_t len = 0;
	char *start = r->buf;

	if (r->have > CHOS_REQUEST_FILE_MAX) {
		snprintf(text, text_size, "%.400s: larger than %d bytes", r->path,
			 CHOS_REQUEST_FILE_MAX);
		return 'E';
	}
	while (len < r->have && r->buf[len] != '\n')
		len++;
	if (memchr(r->buf, '\0', len)) {
		snprintf(text, text_size, "%.400s: the first line contains a NUL byte", r->path);
		return 'E';
	}
	/* Blanks around the name are forgiven (an editor's trailing space, a CRLF file). */
	while (len > 0 &&
	       (start[len - 1] == ' ' || start[len - 1] == '\t' || start[len - 1] == '\r'))
		len--;
	while (len > 0 && (*start == ' ' || *start == '\t')) {
		start++;
		len--;
	}
	if (len == 0) {
		snprintf(text, text_size, "%.400s: the first line is empty", r->path);
		return 'N';
	}
	if (len > CHOS_NAME_MAX) {
		snprintf(text, text_size, "%.400s: the first line is longer than %d bytes", r->path,
			 CHOS_NAME_MAX);
		return 'E';
	}
	snprintf(text, text_size, "%.*s", (int)len, start);
	return 'V';
}

/* Reads the first line of path as the user. Fills text with the line (status 'V'), or why
 * there is none (status 'N'/'E'). Returns the status byte. */
static char read_as_user(const struct chos_context *ctx, const char *path, char *text,
			 size_t text_size)
{
	struct reader *r;
	char status = 'E';
	int err;

	if (!ctx->gids || ctx->gid_count == 0) {
		snprintf(text, text_size, "cannot list the groups of \"%s\"", ctx->user);
		return 'E';
	}
	r = malloc(sizeof(*r));
	if (!r) {
		snprintf(text, text_size, "out of memory");
		return 'E';
	}
	*r = (struct reader){.path = path,
			     .uid = ctx->uid,
			     .gid = ctx->gid,
			     .groups = ctx->gids,
			     .ngroups = ctx->gid_count};
	err = run_reader(r);
	switch (err < 0 ? READ_NONE : r->step) {
	case READ_DONE:
		status = first_line(r, text, text_size);
		break;
	case READ_NONE:
		if (err < 0)
			snprintf(text, text_size, "cannot start the reader: %s", strerror(-err));
		else
			snprintf(text, text_size,
				 "%.400s: not read within %d ms (or the reader was "
				 "killed)",
				 path, CHOS_REQUEST_TIMEOUT_MS);
		break;
	case READ_SIGNALS:
		snprintf(text, text_size, "the reader cannot set its signals and timer");
		break;
	case READ_DROP:
		snprintf(text, text_size, "cannot drop to uid %u: %s", (unsigned)ctx->uid,
			 strerror(r->err));
		break;
	case READ_CHECK:
		snprintf(text, text_size, "credentials are not uid %u gid %u after dropping",
			 (unsigned)ctx->uid, (unsigned)ctx->gid);
		break;
	case READ_REGAIN:
		snprintf(text, text_size, "uid 0 could be regained after dropping to uid %u",
			 (unsigned)ctx->uid);
		break;
	case READ_OPEN:
		status = r->err == ENOENT || r->err == ENOTDIR ? 'N' : 'E';
		snprintf(text, text_size, "%.400s: %s", path,
			 status == 'N'	   ? "does not exist"
			 : r->err == ELOOP ? "is a symbolic link"
					   : strerror(r->err));
		break;
	case READ_FSTAT:
	case READ_READ:
		snprintf(text, text_size, "%.400s: %s", path, strerror(r->err));
		break;
	case READ_NOT_REGULAR:
		snprintf(text, text_size, "%.400s: not a regular file", path);
		break;
	case READ_TOO_LARGE:
		snprintf(text, text_size, "%.400s: larger than %d bytes", path,
			 CHOS_REQUEST_FILE_MAX);
		break;
	}
	free(r);
	return status;
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
			 ctx->user, CHOS_NAME_MAX, value,
			 strlen(value) > CHOS_NAME_MAX ? "..." : "", where, CHOS_NAME_MAX);
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
	char path[4096], text[CHOS_ERROR_MAX]; /* 4096: PATH_MAX; a longer home is refused */
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
