/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup`'s kmod steps (setup_internal.h), against the interface of kmod/README.md:
 *   1. load     /proc/chos is the module's mount point (proc_create_mount_point): missing means
 *               not loaded. `modprobe chos` (an installed module, e.g. DKMS), else finit_module
 *               of the file given with --module (a module built but not installed)
 *   2. mount    chosfs on /proc/chos; /proc/chos/valid appears once it is mounted
 *   3. in ROOT  ROOT/.chosfs: the link ROOT/.chos-link -> .chosfs/link resolves there (layout.h
 *               says why not through /proc). ROOT/proc/chos: the seed's control files inside a
 *               session. ROOT/proc is a bind of the host's /proc; bound before chosfs was mounted
 *               (an earlier run without the module, a reload), and on a host whose mounts are
 *               private, that copy lacks chosfs: it is mounted there too. Both are the same
 *               single instance, and rmmod needs every one of them unmounted
 *   4. valid    exactly the catalogue's trusted paths (setup_trust.c drops the others),
 *               rewritten only when the list differs
 *   5. held     asked by setup_image.c before an old image generation is unmounted: whether a
 *               process's link still leads into it
 * Each looks first, so a second run changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "apply/backend.h"
#include "common/layout.h"
#include "common/write.h"
#include "setup/setup_internal.h"

#define KMOD_VALID CHOS_KMOD_DIR "/valid"
#define KMOD_HELD CHOS_KMOD_DIR "/held"
/* held has a line per live link object: the listed ones and what sessions kept of earlier
 * lists. More than this means something else is wrong: a problem, and nothing unmounted. */
#define HELD_MAX_BYTES (16u << 20)
/* /sbin is a link to usr/sbin on merged-/usr Debian and the real place elsewhere. */
#define MODPROBE "/sbin/modprobe"

static int mounted(void)
{
	return access(KMOD_VALID, F_OK) == 0;
}

int setup_modprobe(const char *module)
{
	char *const argv[] = { "modprobe", "-q", (char *)module, NULL };
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	int e, status;
	pid_t pid;

	if ((e = posix_spawn(&pid, MODPROBE, NULL, NULL, argv, envp)))
		return -e;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* finit_module: the module's own file, no parameters. */
static int insmod(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
		e = -errno;
	close(fd);
	return e;
}

int setup_kmod_try_load(struct setup_run *r)
{
	if (chos_backend_kmod_loaded())
		return 1;
	if (setup_modprobe("chos") == 0 && chos_backend_kmod_loaded())
		return setup_done(r, "loaded the chos kernel module (modprobe chos)"), 1;
	return 0;
}

static int ensure_loaded(struct setup_run *r)
{
	int status, e;

	if (chos_backend_kmod_loaded())
		return 0;
	if (r->o->check)
		return setup_problem(
			r, -ENOENT,
			"run `chos setup` (it loads it: modprobe chos, or --module PATH)",
			"the chos kernel module is not loaded (%s is missing)", CHOS_KMOD_DIR);
	status = setup_modprobe("chos");
	if (status == 0 && chos_backend_kmod_loaded())
		return setup_done(r, "loaded the chos kernel module (modprobe chos)");
	if (!r->o->module)
		return setup_problem(
			r, status < 0 ? status : -ENOENT,
			"install it for this kernel (dkms install chos/" CHOS_VERSION
			") or give --module PATH of its chos.ko",
			"the chos kernel module is not loaded and `modprobe chos` failed (%s%d)",
			status < 0 ? "errno " : "exit ", status < 0 ? -status : status);
	if ((e = insmod(r->o->module)) < 0 || !chos_backend_kmod_loaded())
		return setup_problem(
			r, e < 0 ? e : -ENOENT,
			"give the chos.ko built for this kernel (uname -r); dmesg says more",
			"loading %s: %s", r->o->module,
			e < 0 ? strerror(-e) : "no /proc/chos after loading");
	return setup_done(r, "loaded the chos kernel module from %s", r->o->module);
}

static int ensure_mounted(struct setup_run *r)
{
	if (mounted())
		return 0;
	if (r->o->check)
		return setup_problem(
			r, -ENOENT,
			"run `chos setup` (it mounts it: mount -t chosfs chosfs /proc/chos)",
			"the chos filesystem is not mounted on %s", CHOS_KMOD_DIR);
	/* Only control files and a symlink live there: nothing to execute, no devices. */
	if (mount("chosfs", CHOS_KMOD_DIR, "chosfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
	    !mounted())
		return setup_problem(r, -errno, "check the module (dmesg)",
				     "mount chosfs on %s: %s", CHOS_KMOD_DIR, strerror(errno));
	return setup_done(r, "mounted chosfs on %s", CHOS_KMOD_DIR);
}

int setup_kmod_ready(struct setup_run *r)
{
	int e = ensure_loaded(r);

	return e < 0 ? e : ensure_mounted(r);
}

/* chosfs on dir (an existing directory), unless it already shows there. */
static int mount_in_root(struct setup_run *r, const char *dir, const char *why)
{
	char valid[SETUP_PATH_MAX];

	if (snprintf(valid, sizeof(valid), "%s/valid", dir) >= (int)sizeof(valid))
		return setup_problem(r, -ENAMETOOLONG, "use a shorter --root", "%s: path too long",
				     dir);
	if (access(valid, F_OK) == 0)
		return 0;
	if (r->o->check)
		return setup_problem(r, -ENOENT, "run `chos setup`",
				     "%s does not show the chos filesystem: %s", dir, why);
	if (mount("chosfs", dir, "chosfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return setup_problem(r, -errno, "check the module (dmesg)",
				     "mount chosfs on %s: %s", dir, strerror(errno));
	return setup_done(r, "mounted chosfs on %s", dir);
}

int setup_kmod_in_root(struct setup_run *r)
{
	char dir[SETUP_PATH_MAX];
	int e;

	if (!mounted())
		return 0; /* setup_kmod_ready said why */
	if (snprintf(dir, sizeof(dir), "%s/%s", r->root, CHOS_KMOD_MOUNT_NAME) >= (int)sizeof(dir))
		return setup_problem(r, -ENAMETOOLONG, "use a shorter --root", "%s: path too long",
				     r->root);
	if (access(dir, F_OK) < 0) {
		if (r->o->check)
			return setup_problem(r, -ENOENT, "run `chos setup`", "%s is missing", dir);
		if (mkdir(dir, 0755) < 0)
			return setup_problem(r, -errno, "check that ROOT is writable by root",
					     "%s: %s", dir, strerror(errno));
	}
	if ((e = mount_in_root(r, dir, "sessions cannot resolve the link")) < 0)
		return e;
	if (snprintf(dir, sizeof(dir), "%s%s", r->root, CHOS_KMOD_DIR) >= (int)sizeof(dir) ||
	    access(dir, F_OK) < 0)
		return 0; /* ROOT/proc is not bound (reported on its own) */
	return mount_in_root(r, dir, "sessions cannot switch trees");
}

/* The module lists at most 256 paths of PATH_MAX: this holds any list it can serve. */
#define VALID_MAX_BYTES (256u * SETUP_PATH_MAX)

/* The whole of a chosfs file (valid, held), NUL-terminated, in *out (to free): 0, or -errno;
 * -EFBIG when it fills max bytes. */
static int read_control(const char *path, size_t max, char **out)
{
	char *buf = malloc(max + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC), e = 0;
	size_t len = 0;
	ssize_t n;

	if (fd < 0 || !buf)
		e = fd < 0 ? -errno : -ENOMEM;
	while (e == 0 && (n = read(fd, buf + len, max - len)) != 0)
		if (n < 0)
			e = -errno;
		else if ((len += n) == max)
			e = -EFBIG;
	if (fd >= 0)
		close(fd);
	if (e < 0) {
		free(buf);
		return e;
	}
	buf[len] = '\0';
	*out = buf;
	return 0;
}

/* True when path is one line of list (a NUL-terminated copy of /proc/chos/valid). */
static int listed(const char *list, const char *path)
{
	size_t n = strlen(path);

	for (const char *p = list; (p = strstr(p, path)); p++)
		if ((p == list || p[-1] == '\n') && (p[n] == '\n' || !p[n]))
			return 1;
	return 0;
}

/* Lines of list, to notice paths the catalogue no longer has. */
static size_t count_lines(const char *list)
{
	size_t n = 0;

	for (const char *p = list; *p; p++)
		n += *p == '\n';
	return n;
}

/* Each path is one record of its own (write.h): the module takes one path per write(2). */
static int rewrite_valid(struct setup_run *r, const struct chos_catalogue *cat, size_t distinct)
{
	int fd = open(KMOD_VALID, O_WRONLY | O_CLOEXEC);
	int e = fd < 0 ? -errno : chos_write_record(fd, "-", 1);

	for (size_t i = 0; i < cat->count && e == 0; i++)
		e = chos_write_record(fd, cat->envs[i].path, strlen(cat->envs[i].path));
	if (fd >= 0)
		close(fd);
	if (e < 0)
		return setup_problem(r, e, "check the module (dmesg)", "writing %s: %s", KMOD_VALID,
				     strerror(-e));
	return setup_done(r, "listed %zu trees in %s", distinct, KMOD_VALID);
}

int setup_kmod_valid(struct setup_run *r, const struct chos_catalogue *cat)
{
	size_t distinct = 0, missing = 0, lines;
	char *list;
	int e;

	if (!mounted())
		return -ENOENT; /* setup_kmod_ready said why */
	if ((e = read_control(KMOD_VALID, VALID_MAX_BYTES, &list)) < 0)
		return setup_problem(r, e, "run as root; check the module (dmesg)",
				     "reading %s: %s", KMOD_VALID, strerror(-e));
	for (size_t i = 0; i < cat->count; i++) {
		if (!chos_catalogue_first_of_tree(cat, i))
			continue;
		distinct++;
		if (!listed(list, cat->envs[i].path)) {
			missing++;
			if (r->o->check)
				setup_problem(r, -ENOENT, "run `chos setup`",
					      "%s is not listed in %s", cat->envs[i].path,
					      KMOD_VALID);
		}
	}
	lines = count_lines(list);
	free(list);
	if (missing == 0 && lines == distinct)
		return 0;
	if (r->o->check)
		return lines == distinct
			       ? -ENOENT
			       : setup_problem(r, -EINVAL, "run `chos setup`",
					       "%s lists paths the catalogue does not", KMOD_VALID);
	return rewrite_valid(r, cat, distinct);
}

long setup_kmod_held(struct setup_run *r, const char *path)
{
	size_t want = strlen(path);
	long sum = 0;
	char *list, *line, *next;
	int e = mounted() ? read_control(KMOD_HELD, HELD_MAX_BYTES, &list) : -ENOENT;

	if (e < 0)
		return setup_problem(r, e, "check the module (dmesg); kept until then",
				     "reading %s: %s", KMOD_HELD, strerror(-e));
	for (line = list; *line; line = next) {
		char *end;
		long holders = strtol(line, &end, 10);

		next = strchrnul(line, '\n');
		if (*end == ' ' && (size_t)(next - end - 1) == want && !memcmp(end + 1, path, want))
			sum += holders;
		if (*next)
			next++;
	}
	free(list);
	return sum;
}
