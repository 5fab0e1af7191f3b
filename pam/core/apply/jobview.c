/* SPDX-License-Identifier: BSD-3-Clause
 * Pinned job views (jobview.h). The directory is reached through the trust rule and every name
 * in it from its handle with O_NOFOLLOW. Not a bind of the namespace onto a file: on this
 * kernel (6.18) binding a step's view (nsfs) into the host's namespace fails with EINVAL, and
 * a descriptor of the live step needs no mount to undo. */
#include "apply/jobview.h"
#include "common/trust.h"
#include "common/write.h"
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

/* A record is seven short lines; anything larger is not one of ours. */
#define RECORD_MAX 8192
/* "JOB.rec.tmp": a job id and the suffix. */
#define PIN_NAME_MAX 40

static void pin_name(char *buf, unsigned long job, const char *suffix)
{
	snprintf(buf, PIN_NAME_MAX, "%lu.%s", job, suffix);
}

/* DIR, made when missing (its parent 0755, itself 0700), trusted and root's only. Returns a
 * handle, readable for flock, or -errno. */
static int prepare_dir(const char *dir, struct chos_error *err)
{
	char parent[4096];
	struct stat st;
	int fd;

	if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
		return chos_fail(err, -ENAMETOOLONG, "job views: path too long");
	if (mkdir(dirname(parent), 0755) < 0 && errno != EEXIST)
		return chos_fail(err, -errno, "job views: mkdir %s: %s", parent, strerror(errno));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return chos_fail(err, -errno, "job views: mkdir %s: %s", dir, strerror(errno));
	if ((fd = chos_open_trusted_dir(dir, 0, err)) < 0)
		return fd;
	if (fstat(fd, &st) < 0 || (st.st_mode & 077)) {
		close(fd);
		return chos_fail(err, -EPERM, "job views: %s must be root's only (mode 0700)", dir);
	}
	return fd;
}

/* DIR's handle, readable for flock, locked: several steps of one job start at once. */
static int lock_dir(int pathfd, struct chos_error *err)
{
	int fd = openat(pathfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	close(pathfd);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return chos_fail(err, -e, "job views: lock: %s", strerror(e));
	}
	return fd;
}

static int read_record(int dfd, const char *name, const char *what, struct chos_job_pin *pin,
		       struct chos_error *err);

int chos_job_view_pin(const char *dir, unsigned long job, uid_t uid, const char *env,
		      const struct chos_view *view, struct chos_error *err)
{
	char tmp[PIN_NAME_MAX], rec[PIN_NAME_MAX], text[RECORD_MAX];
	struct chos_job_pin other;
	struct chos_error ignored;
	struct stat st;
	int dfd, fd, r = 1, n;

	if (view->mntns < 0 || fstat(view->mntns, &st) < 0)
		return chos_fail(err, -EINVAL, "job %lu: no view to pin", job);
	n = snprintf(text, sizeof(text),
		     "uid=%u\nenv=%s\nbackend=%s\ntree=%s\npid=%ld\nfd=%d\nns=%lu\n", (unsigned)uid,
		     env, chos_backend_name(view->backend), view->tree, (long)getpid(), view->mntns,
		     (unsigned long)st.st_ino);
	if (n < 0 || n >= (int)sizeof(text))
		return chos_fail(err, -EINVAL, "job %lu: no view to pin", job);
	if ((dfd = prepare_dir(dir, err)) < 0 || (dfd = lock_dir(dfd, err)) < 0)
		return dfd;
	pin_name(tmp, job, "rec.tmp");
	pin_name(rec, job, "rec");
	/* Another step of the job that still runs pinned first; a record whose step is gone (it
	 * was killed before it could remove it) is replaced. */
	if (read_record(dfd, rec, rec, &other, &ignored) == 0) {
		close(other.view.mntns);
		r = 0;
		goto out;
	}
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || chos_write_all(fd, text, (size_t)n) < 0 || close(fd) < 0 ||
	    renameat(dfd, tmp, dfd, rec) < 0) {
		r = chos_fail(err, -errno, "job %lu: write the record %s/%s: %s", job, dir, rec,
			      strerror(errno));
		unlinkat(dfd, tmp, 0);
	}
out:
	close(dfd);
	return r;
}

int chos_job_view_unpin(const char *dir, unsigned long job, struct chos_error *err)
{
	char name[PIN_NAME_MAX];
	int dfd = chos_open_trusted_dir(dir, 0, err);

	if (dfd == -ENOENT)
		return 0;
	if (dfd < 0 || (dfd = lock_dir(dfd, err)) < 0)
		return dfd;
	pin_name(name, job, "rec");
	unlinkat(dfd, name, 0);
	close(dfd);
	return 0;
}

/* "DIGITS" into *out, at most max; 0 or -1. */
static int number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return *end || errno || *out > max ? -1 : 0;
}

/* "PREFIX_DIGITS" into *out; 0 or -1. */
static int numbered(const char *s, const char *prefix, unsigned long *out)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? -1 : number(s + n, ULONG_MAX, out);
}

/* A freezer path ending in /slurm[_NODE]/uid_UID/job_JOB/step_extern (NODE: slurmd -N). */
static int parse_extern(char *path, unsigned long *job, uid_t *uid)
{
	char *c[4] = { 0 }, *slash;
	unsigned long u;

	for (int i = 3; i >= 0; i--) {
		if (!(slash = strrchr(path, '/')))
			return -ENOENT;
		c[i] = slash + 1;
		*slash = '\0';
	}
	if (strcmp(c[3], "step_extern") || numbered(c[2], "job_", job) ||
	    numbered(c[1], "uid_", &u) || u != (uid_t)u)
		return -ENOENT;
	*uid = (uid_t)u;
	return strcmp(c[0], "slurm") && strncmp(c[0], "slurm_", 6) ? -ENOENT : 0;
}

/* True when CONTROLLERS ("freezer", "cpu,cpuacct") lists freezer. */
static int is_freezer(const char *controllers)
{
	size_t n = strlen("freezer");

	for (const char *p = controllers; (p = strstr(p, "freezer")); p += n)
		if ((p == controllers || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

/* The job of the calling process's extern step: 0, or -ENOENT when it is in none. */
static int job_of_self(unsigned long *job, uid_t *uid)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char *line = NULL, *controllers, *path;
	size_t cap = 0;
	int r = -ENOENT;

	if (!f)
		return -ENOENT;
	while (r == -ENOENT && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if (!(controllers = strchr(line, ':')) || !(path = strchr(++controllers, ':')))
			continue;
		*path++ = '\0';
		if (is_freezer(controllers))
			r = parse_extern(path, job, uid);
	}
	free(line);
	fclose(f);
	return r;
}

/* The record's fields, each once, into pin and where; anything else refuses it. */
struct where {
	unsigned long pid, fd, ns;
};

static int parse_record(char *text, struct chos_job_pin *pin, struct where *w, const char *what,
			struct chos_error *err)
{
	unsigned long uid;
	int seen = 0, bit;
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, "uid=", 4) && number(l + 4, (uid_t)-1 - 1, &uid) == 0)
			pin->uid = (uid_t)uid, bit = 1;
		else if (!strncmp(l, "env=", 4) && chos_name_valid(l + 4, strlen(l + 4)))
			snprintf(pin->env, sizeof(pin->env), "%s", l + 4), bit = 2;
		else if (!strncmp(l, "backend=", 8) &&
			 chos_backend_parse(l + 8, &pin->view.backend) == 0 &&
			 (pin->view.backend == CHOS_BACKEND_KMOD ||
			  pin->view.backend == CHOS_BACKEND_NAMESPACE))
			bit = 4;
		else if (!strncmp(l, "tree=/", 6) &&
			 snprintf(pin->view.tree, sizeof(pin->view.tree), "%s", l + 5) <
				 (int)sizeof(pin->view.tree))
			bit = 8;
		else if (!strncmp(l, "pid=", 4) && number(l + 4, INT32_MAX, &w->pid) == 0)
			bit = 16;
		else if (!strncmp(l, "fd=", 3) && number(l + 3, INT32_MAX, &w->fd) == 0)
			bit = 32;
		else if (!strncmp(l, "ns=", 3) && number(l + 3, ULONG_MAX - 1, &w->ns) == 0)
			bit = 64;
		else
			bit = 0;
		if (!bit || (seen & bit))
			return chos_fail(err, -EINVAL, "%s: bad line \"%.64s\" (refused)", what, l);
		seen |= bit;
	}
	return seen == 127 ? 0 : chos_fail(err, -EINVAL, "%s: incomplete record (refused)", what);
}

/* The view's namespace, held by the pinning step: root's process PID, its descriptor FD, a
 * mount namespace whose inode is NS. A pid reused since, or another descriptor, fails. */
static int open_namespace(const struct where *w, const char *what, struct chos_error *err)
{
	char path[64];
	struct stat st;
	struct statfs fs;
	int fd;

	snprintf(path, sizeof(path), "/proc/%lu", w->pid);
	if (stat(path, &st) < 0 || st.st_uid != 0)
		return chos_fail(err, -ENOENT, "%s: its step (pid %lu) is gone", what, w->pid);
	snprintf(path, sizeof(path), "/proc/%lu/fd/%lu", w->pid, w->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return chos_fail(err, -ENOENT, "%s: its step (pid %lu) holds no view", what,
				 w->pid);
	if (fstat(fd, &st) < 0 || st.st_ino != w->ns || fstatfs(fd, &fs) < 0 ||
	    fs.f_type != NSFS_MAGIC || ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNS) {
		close(fd);
		return chos_fail(err, -EPERM,
				 "%s: pid %lu's descriptor %lu is not the view (refused)", what,
				 w->pid, w->fd);
	}
	return fd;
}

/* A record and its namespace: 0 with pin filled, -ENOENT when the record is missing or its
 * step gone, another -errno when it is refused. */
static int read_record(int dfd, const char *name, const char *what, struct chos_job_pin *pin,
		       struct chos_error *err)
{
	char text[RECORD_MAX + 1];
	struct where w = { 0 };
	struct stat st;
	ssize_t n;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), r;

	chos_view_init(&pin->view);
	if (fd < 0)
		return chos_fail(err, errno == ENOENT ? -ENOENT : -EPERM, "%s: %s", what,
				 strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) ||
	    st.st_size > RECORD_MAX) {
		close(fd);
		return chos_fail(err, -EPERM,
				 "%s: not root's regular file of at most %d bytes (refused)", what,
				 RECORD_MAX);
	}
	n = read(fd, text, RECORD_MAX);
	close(fd);
	if (n < 0)
		return chos_fail(err, -EIO, "%s: %s", what, strerror(errno));
	text[n] = '\0';
	if (strlen(text) != (size_t)n)
		return chos_fail(err, -EINVAL, "%s: NUL byte in the record (refused)", what);
	if ((r = parse_record(text, pin, &w, what, err)) < 0 ||
	    (r = open_namespace(&w, what, err)) < 0)
		return r;
	pin->view.mntns = r;
	return 0;
}

/* The pin of JOB for UID, as of_self says. */
static int no_views(const char *dir, struct chos_error *err)
{
	return chos_fail(err, -ENOENT, "job views: %s does not exist", dir);
}

static int open_pin(const char *dir, unsigned long job, uid_t uid, struct chos_job_pin *pin,
		    struct chos_error *err)
{
	char name[PIN_NAME_MAX], what[4096 + PIN_NAME_MAX];
	int dfd, r;

	pin->job = job;
	if ((dfd = chos_open_trusted_dir(dir, 0, err)) < 0)
		return dfd == -ENOENT ? no_views(dir, err) : dfd;
	pin_name(name, job, "rec");
	snprintf(what, sizeof(what), "job %lu's record %s/%s", job, dir, name);
	r = read_record(dfd, name, what, pin, err);
	close(dfd);
	if (r == 0 && pin->uid != uid) {
		chos_view_close(&pin->view);
		return chos_fail(err, -EPERM, "%s: for uid %u, not uid %u (refused)", what,
				 (unsigned)pin->uid, (unsigned)uid);
	}
	return r;
}

int chos_job_view_of_self(const char *dir, uid_t uid, struct chos_job_pin *pin,
			  struct chos_error *err)
{
	unsigned long job;
	struct stat st;
	uid_t owner;

	memset(pin, 0, sizeof(*pin));
	chos_view_init(&pin->view);
	/* Every login asks, and most are on hosts where no step ever pinned a view (login nodes):
	 * no directory, so no /proc/self/cgroup to read and parse. */
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return no_views(dir, err);
	if (job_of_self(&job, &owner) < 0)
		return chos_fail(err, -ENOENT, "in no job's extern step");
	/* su inside an adopted session: the job is not this user's, nor is its view. */
	if (owner != uid)
		return chos_fail(err, -ENOENT, "in job %lu's extern step, which is uid %u's", job,
				 (unsigned)owner);
	return open_pin(dir, job, uid, pin, err);
}
