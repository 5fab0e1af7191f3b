/* SPDX-License-Identifier: BSD-3-Clause
 * The user's request (request.h). ~/.chos is read by a child made with clone(CLONE_VM) on a
 * small stack of its own: it costs no copy of the caller's page tables (a fork of sshd is most
 * of a login's overhead) and answers by filling a struct reader in memory it shares with us.
 *
 * A task that shares a root process's memory must never be the user's to touch. So the reader
 * keeps root's real, effective and saved uids and changes only what the kernel checks when it
 * opens and reads a file: its groups (setgroups), its filesystem ids (setfsgid, setfsuid) and
 * its capabilities, all dropped (capset). Every check that would let the user reach it compares
 * the user's uid with those three ids, which stay 0: ptrace and /proc/PID/mem (ptrace_may_access;
 * the reader holds no CAP_SYS_PTRACE either) and kill(2) (the sender's uid against the target's
 * real and saved uid). That holds whatever the dumpable flag and fs.suid_dumpable say, and at
 * every moment: there is no window to race, because no task sharing our memory ever has the
 * user's uid. (A reader that drops its uid is exposed: the kernel ends a vfork wait before the
 * exiting child lets go of the memory, so for a moment a task of the user's owned root's
 * address space while it was dumpable.) What the reader can open is what the user can:
 * permission checks use the filesystem ids and the groups, and without capabilities nothing
 * overrides them. A FUSE home refuses it (FUSE checks the real and effective uids): no request.
 *
 * The rules that keep a shared-memory child from corrupting the caller:
 *   - It makes raw system calls only (raw_syscall.h: not even errno, which is the caller's
 *     TLS): no allocator, no stdio, no NSS, no cancellation points, and never glibc's set*id
 *     wrappers, which would signal the caller's other threads to change their credentials.
 *     It writes nothing but its struct reader, which lives in the mapping of its stack.
 *   - It starts with every signal blocked (the mask is set around the clone) and its exit
 *     signal is 0: no handler of the caller ever runs in it, and the caller's SIGCHLD handling
 *     and waitpid(-1) neither see nor reap it (only __WALL does).
 * A hung home (NFS) must not hang the login: we wait on a pidfd for CHOS_REQUEST_TIMEOUT_MS,
 * then SIGKILL the reader and wait CHOS_REQUEST_KILL_WAIT_MS more. A killed task never runs
 * another instruction of ours (a pending SIGKILL is acted on before any return to user space),
 * but a system call it was in may still complete into its buffer, so the mapping is unmapped
 * only once the reader is reaped. One that outlives SIGKILL (an uninterruptible wait) keeps its
 * mapping and stays a zombie until the caller exits, and the caller keeps the non-dumpable flag
 * the reader's credential change gave our memory; else that flag is restored after the reap. */
#include "facts/request.h"
#include "common/raw_syscall.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* The child's raw fstat fills glibc's struct stat, and its raw setgroups takes 32-bit ids:
 * both hold on these 64-bit targets (raw_syscall.h refuses others). */

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

/* Where the child stopped. READ_NONE: it was killed (or died) before saying. */
enum reader_step {
	READ_NONE,
	READ_DROP,
	READ_CHECK,
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

/* How the wait for the child ended. */
enum reader_end {
	READER_EXITED,	  /* reaped; r->step says how far it got */
	READER_KILLED,	  /* killed after the budget, and reaped */
	READER_ABANDONED, /* outlived SIGKILL: its mapping stays (see the header) */
};

/* Drops what opening a file checks: groups, filesystem ids, every capability. Each change is
 * checked: a half-dropped reader would read as root. */
static enum reader_step reader_drop(struct reader *r)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	long e;

	if ((e = chos_raw_syscall2(SYS_setgroups, r->ngroups, r->groups)) < 0)
		return r->err = (int)-e, READ_DROP;
	/* setfsgid and setfsuid return the previous id and never fail visibly; asking again with
	 * -1 (never valid) reads the id back. */
	chos_raw_syscall1(SYS_setfsgid, r->gid);
	chos_raw_syscall1(SYS_setfsuid, r->uid);
	if ((gid_t)chos_raw_syscall1(SYS_setfsgid, -1) != r->gid ||
	    (uid_t)chos_raw_syscall1(SYS_setfsuid, -1) != r->uid)
		return READ_CHECK;
	if ((e = chos_raw_syscall2(SYS_capset, &hdr, caps)) < 0)
		return r->err = (int)-e, READ_DROP;
	hdr.pid = 0;
	if (chos_raw_syscall2(SYS_capget, &hdr, caps) < 0 || caps[0].effective ||
	    caps[1].effective || caps[0].permitted || caps[1].permitted)
		return READ_CHECK;
	return READ_DONE;
}

static enum reader_step reader_read(struct reader *r)
{
	struct stat st;
	long fd, n;

	fd = chos_raw_syscall4(SYS_openat, AT_FDCWD, r->path,
			       O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0);
	if (fd < 0)
		return r->err = (int)-fd, READ_OPEN;
	if ((n = chos_raw_syscall2(SYS_fstat, fd, &st)) < 0)
		return r->err = (int)-n, READ_FSTAT;
	if (!S_ISREG(st.st_mode))
		return READ_NOT_REGULAR;
	if (st.st_size > CHOS_REQUEST_FILE_MAX)
		return READ_TOO_LARGE;
	while (r->have < sizeof(r->buf)) {
		n = chos_raw_syscall3(SYS_read, fd, r->buf + r->have, sizeof(r->buf) - r->have);
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

/* The child. Exits through clone's return path (the exit system call), never exit(3); its
 * descriptor is closed by that exit. */
static int reader_child(void *arg)
{
	struct reader *r = arg;
	enum reader_step step = reader_drop(r);

	if (step == READ_DONE)
		step = reader_read(r);
	r->step = step;
	return 0;
}

/* The child's mapping: a guard page, its stack (a few frames of system calls), then the
 * struct reader it shares with us, just above the stack's top. */
#define READER_STACK (16u << 10)

static size_t reader_map_size(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return page + READER_STACK + (sizeof(struct reader) + page - 1) / page * page;
}

static struct reader *reader_map(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char *base = mmap(NULL, reader_map_size(), PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

	if (base == MAP_FAILED)
		return NULL;
	if (mprotect(base, page, PROT_NONE) < 0) {
		munmap(base, reader_map_size());
		return NULL;
	}
	return (struct reader *)(base + page + READER_STACK);
}

static void reader_unmap(struct reader *r)
{
	munmap((char *)r - READER_STACK - (size_t)sysconf(_SC_PAGESIZE), reader_map_size());
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1 when the process behind pidfd has exited within ms, else 0. */
static int exits_within(int pidfd, long long ms)
{
	long long deadline = now_ms() + ms;
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	for (;;) {
		long long left = deadline - now_ms();
		int n = poll(&p, 1, left > 0 ? (int)left : 0);
		if (n > 0)
			return 1;
		if (n == 0 || errno != EINTR)
			return 0;
	}
}

/* Runs the child and waits for it within the budget: 0 with *end set, or -errno when it could
 * not be started. */
static int run_reader(struct reader *r, enum reader_end *end)
{
	sigset_t all, saved;
	siginfo_t info;
	int dumpable, pidfd = -1;
	pid_t pid;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	dumpable = prctl(PR_GET_DUMPABLE);
	/* Exit signal 0: no SIGCHLD; CLONE_PIDFD: a descriptor to poll and reap it by. */
	pid = clone(reader_child, r, CLONE_VM | CLONE_PIDFD, r, &pidfd);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (pid < 0)
		return -errno;
	*end = READER_EXITED;
	if (!exits_within(pidfd, CHOS_REQUEST_TIMEOUT_MS)) {
		*end = READER_KILLED;
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		if (!exits_within(pidfd, CHOS_REQUEST_KILL_WAIT_MS)) {
			close(pidfd);
			*end = READER_ABANDONED;
			return 0;
		}
	}
	while (waitid(P_PIDFD, (id_t)pidfd, &info, WEXITED | __WALL) < 0 && errno == EINTR)
		;
	close(pidfd);
	/* The reader's credential change made our shared memory non-dumpable; nobody else holds
	 * it now. */
	if ((dumpable == 0 || dumpable == 1) && prctl(PR_GET_DUMPABLE) != dumpable)
		prctl(PR_SET_DUMPABLE, dumpable);
	return 0;
}

/* No request at all: no file, or an empty first line. Logged as a debug line, not a warning. */
static int is_no_request(int r)
{
	return r == -ENOENT || r == -ENODATA;
}

/* Turns the child's bytes into the first line, in name: returns 0, -ENODATA for an empty first
 * line, or -errno for a line that cannot be a name; why says so either way but 0. */
static int first_line(struct reader *r, char *name, size_t name_size, struct chos_error *why)
{
	size_t len = 0;
	char *start = r->buf;

	if (r->have > CHOS_REQUEST_FILE_MAX)
		return chos_fail(why, -EFBIG, "%.400s: larger than %d bytes", r->path,
				 CHOS_REQUEST_FILE_MAX);
	while (len < r->have && r->buf[len] != '\n')
		len++;
	if (memchr(r->buf, '\0', len))
		return chos_fail(why, -EINVAL, "%.400s: the first line contains a NUL byte",
				 r->path);
	/* Blanks around the name are forgiven (an editor's trailing space, a CRLF file). */
	while (len > 0 &&
	       (start[len - 1] == ' ' || start[len - 1] == '\t' || start[len - 1] == '\r'))
		len--;
	while (len > 0 && (*start == ' ' || *start == '\t')) {
		start++;
		len--;
	}
	if (len == 0)
		return chos_fail(why, -ENODATA, "%.400s: the first line is empty", r->path);
	if (len > CHOS_NAME_MAX)
		return chos_fail(why, -ENAMETOOLONG,
				 "%.400s: the first line is longer than %d bytes", r->path,
				 CHOS_NAME_MAX);
	snprintf(name, name_size, "%.*s", (int)len, start);
	return 0;
}

/* Why the child stopped before it read the file (or while reading it). The codes classify only:
 * none of them is ENOENT, which would read as "no request". */
static int describe_failure(const struct chos_context *ctx, const struct reader *r,
			    struct chos_error *why)
{
	switch (r->step) {
	case READ_DROP:
		return chos_fail(why, -EPERM, "cannot take the groups and ids of uid %u: %s",
				 (unsigned)ctx->uid, strerror(r->err));
	case READ_CHECK:
		return chos_fail(why, -EPERM,
				 "filesystem ids are not uid %u gid %u, or capabilities "
				 "remain, after dropping",
				 (unsigned)ctx->uid, (unsigned)ctx->gid);
	case READ_FSTAT:
	case READ_READ:
		return chos_fail(why, -EIO, "%.400s: %s", r->path, strerror(r->err));
	case READ_NOT_REGULAR:
		return chos_fail(why, -EINVAL, "%.400s: not a regular file", r->path);
	case READ_TOO_LARGE:
		return chos_fail(why, -EFBIG, "%.400s: larger than %d bytes", r->path,
				 CHOS_REQUEST_FILE_MAX);
	default:
		return chos_fail(why, -ECHILD, "%.400s: the reader died", r->path);
	}
}

/* Reads the first line of path with the user's file access, into name. Returns 0; -ENOENT or
 * -ENODATA when there is no request (is_no_request); or -errno when the file is refused or
 * cannot be read. why says which, for every return but 0. */
static int read_as_user(const struct chos_context *ctx, const char *path, char *name,
			size_t name_size, struct chos_error *why)
{
	enum reader_end end = READER_EXITED;
	struct reader *r;
	int err, ret;

	if (!ctx->gids || ctx->gid_count == 0)
		return chos_fail(why, -EINVAL, "cannot list the groups of \"%s\"", ctx->user);
	r = reader_map();
	if (!r)
		return chos_fail(why, -errno, "cannot map the reader: %s", strerror(errno));
	*r = (struct reader){ .path = path,
			      .uid = ctx->uid,
			      .gid = ctx->gid,
			      .groups = ctx->gids,
			      .ngroups = ctx->gid_count };
	err = run_reader(r, &end);
	if (err < 0)
		ret = chos_fail(why, err, "cannot start the reader: %s", strerror(-err));
	else if (end != READER_EXITED)
		ret = chos_fail(why, -ETIMEDOUT,
				"%.400s: not read within %d ms; the reader was killed%s", path,
				CHOS_REQUEST_TIMEOUT_MS,
				end == READER_ABANDONED ? " but has not exited (left behind)" : "");
	else if (r->step == READ_DONE)
		ret = first_line(r, name, name_size, why);
	else if (r->step == READ_OPEN && (r->err == ENOENT || r->err == ENOTDIR))
		ret = chos_fail(why, -ENOENT, "%.400s: does not exist", path);
	else if (r->step == READ_OPEN)
		ret = chos_fail(why, -r->err, "%.400s: %s", path,
				r->err == ELOOP ? "is a symbolic link" : strerror(r->err));
	else
		ret = describe_failure(ctx, r, why);
	if (err < 0 || end != READER_ABANDONED)
		reader_unmap(r);
	return ret;
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
	char path[4096]; /* PATH_MAX; a longer home is refused */
	char name[CHOS_NAME_MAX + 1];
	const char *conf = opts->user_conf ? opts->user_conf : CHOS_USER_CONF_DEFAULT;
	struct chos_error why = { 0 };
	int r;

	free(ctx->requested);
	ctx->requested = NULL;
	ctx->requested_from = CHOS_REQUEST_NONE;
	/* The first source that is set is the request, good or bad: a rejected $CHOS does not fall
	 * through to ~/.chos, so the user always gets the answer to what they asked. */
	if (opts->option)
		return accept_name(ctx, opts->option, CHOS_REQUEST_OPTION, "--chos", opts->log);
	if (opts->pam_env)
		return accept_name(ctx, opts->pam_env, CHOS_REQUEST_ENV, "$CHOS (PAM)", opts->log);
	if (opts->process_env)
		return accept_name(ctx, opts->process_env, CHOS_REQUEST_ENV, "$CHOS", opts->log);
	if (opts->skip_file)
		return 0;
	if (!ctx->home || ctx->home[0] != '/' ||
	    snprintf(path, sizeof(path), "%s/%s", ctx->home, conf) >= (int)sizeof(path)) {
		chos_log(opts->log, LOG_WARNING, "user \"%s\": home \"%s\" unusable, ~/%s not read",
			 ctx->user, ctx->home ? ctx->home : "", conf);
		return 0;
	}
	r = read_as_user(ctx, path, name, sizeof(name), &why);
	if (r == 0)
		return accept_name(ctx, name, CHOS_REQUEST_FILE, path, opts->log);
	if (is_no_request(r))
		chos_log(opts->log, LOG_DEBUG, "user \"%s\": no request: %s", ctx->user,
			 why.message);
	else
		chos_log(opts->log, LOG_WARNING, "user \"%s\": request file ignored: %s", ctx->user,
			 why.message);
	return 0;
}
