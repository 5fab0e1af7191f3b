/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup` (setup.h). One pass over the layout of layout.h, in this order:
 *   ROOT itself -> ROOT/.chos-link (kind depends on the backend) -> OS directories (relative
 *   symlinks through the link) -> site directories (bind mounts of the host's) -> per tree: the
 *   host's identity files bound over the tree's copy -> kmod: the catalogue's paths listed in
 *   /proc/chos/valid -> the policy bundle passes the trust rule (checked only).
 * Each step looks first and changes only what is wrong, so a second run is a no-op. Under
 * --check nothing changes and everything wrong is a problem line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "layout.h"
#include "setup.h"
#include "trust.h"
#if __has_include("kmod_backend.h")
#include "kmod_backend.h"
#define CHOS_HAVE_KMOD 1
#else
#define CHOS_HAVE_KMOD 0
#endif

/* PATH_MAX: a longer path under ROOT is reported, not cut. */
#define SETUP_PATH_MAX 4096

struct run {
	const struct chos_setup_options *o;
	const char *root;
	enum chos_backend backend;
	int problems;
};

/* Returns -1, so a step writes `return problem(...)`. */
static __attribute__((format(printf, 3, 4))) int problem(struct run *r, const char *fix,
							  const char *fmt, ...)
{
	va_list ap;

	fputs("problem: ", r->o->out);
	va_start(ap, fmt);
	vfprintf(r->o->out, fmt, ap);
	va_end(ap);
	fprintf(r->o->out, "; fix: %s\n", fix);
	r->problems++;
	return -1;
}

static __attribute__((format(printf, 2, 3))) int done(struct run *r, const char *fmt, ...)
{
	va_list ap;

	fputs("done: ", r->o->out);
	va_start(ap, fmt);
	vfprintf(r->o->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->o->out);
	return 0;
}

static int join(char *buf, const char *a, const char *b)
{
	return snprintf(buf, SETUP_PATH_MAX, "%s/%s", a, b[0] == '/' ? b + 1 : b) <
			       SETUP_PATH_MAX ? 0 : -ENAMETOOLONG;
}

/* True when path is the root of a mount (a bind made earlier): the idempotence test. */
static int is_mount_root(const char *path)
{
	struct statx stx;

	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS, &stx) < 0)
		return 0;
	return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[SETUP_PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, mode) < 0 && errno != EEXIST ? -errno : 0;
}

static int ensure_root(struct run *r)
{
	struct stat st;

	if (!r->o->check && mkdir_p(r->root, 0755) == 0 && stat(r->root, &st) == 0 &&
	    S_ISDIR(st.st_mode) && !(st.st_mode & 022))
		return 0;
	if (stat(r->root, &st) < 0 || !S_ISDIR(st.st_mode))
		return problem(r, "run `chos setup`", "%s is not a directory", r->root);
	if (st.st_uid != 0 || (st.st_mode & 022))
		return problem(r, "chown root and chmod 755 it", "%s is not root-owned mode 755",
			       r->root);
	return 0;
}

/* True when path is dir (absolute) or below it. */
static int is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

/* ROOT under a directory it binds (ROOT in /tmp, say) would contain a copy of itself. */
static int ensure_outside_site_dirs(struct run *r, const struct chos_bindmounts *b)
{
	char dir[SETUP_PATH_MAX];

	for (size_t i = 0; CHOS_SITE_DIRS[i]; i++) {
		snprintf(dir, sizeof(dir), "/%s", CHOS_SITE_DIRS[i]);
		if (is_under(r->root, dir))
			return problem(r, "choose a --root outside the directories it binds",
				       "%s is inside %s, which is bound into it", r->root, dir);
	}
	for (size_t i = 0; i < b->count; i++)
		if (is_under(r->root, b->paths[i]))
			return problem(r, "choose a --root outside the directories it binds",
				       "%s is inside %s, which is bound into it", r->root, b->paths[i]);
	return 0;
}

static int ensure_link(struct run *r)
{
	char link[SETUP_PATH_MAX], target[SETUP_PATH_MAX];
	int want_symlink = r->backend == CHOS_BACKEND_KMOD;
	struct stat st;
	ssize_t n;

	if (join(link, r->root, CHOS_LINK_NAME) < 0)
		return problem(r, "use a shorter --root", "%s: path too long", r->root);
	if (lstat(link, &st) == 0) {
		n = S_ISLNK(st.st_mode) ? readlink(link, target, sizeof(target) - 1) : -1;
		if (n >= 0)
			target[n] = '\0';
		if (want_symlink ? n >= 0 && !strcmp(target, CHOS_KMOD_LINK) : S_ISDIR(st.st_mode))
			return 0;
		if (r->o->check)
			return problem(r, "run `chos setup` with the backend you use",
				       "%s is laid out for the %s backend", link,
				       want_symlink ? "namespace" : "kmod");
		if ((S_ISDIR(st.st_mode) ? rmdir(link) : unlink(link)) < 0)
			return problem(r, "move it away and run `chos setup` again", "%s: %s", link,
				       strerror(errno));
	} else if (r->o->check) {
		return problem(r, "run `chos setup`", "%s is missing", link);
	}
	if (want_symlink ? symlink(CHOS_KMOD_LINK, link) : mkdir(link, 0755))
		return problem(r, "check that ROOT is writable by root", "%s: %s", link,
			       strerror(errno));
	return done(r, "%s %s", link, want_symlink ? "-> " CHOS_KMOD_LINK : "(directory)");
}

static int ensure_os_dir(struct run *r, const char *name)
{
	char path[SETUP_PATH_MAX], want[SETUP_PATH_MAX], have[SETUP_PATH_MAX];
	struct stat st;
	ssize_t n;

	join(path, r->root, name);
	join(want, CHOS_LINK_NAME, name);
	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode))
			return problem(r, "move it away: OS directories come from the tree",
				       "%s is not a symlink to %s", path, want);
		n = readlink(path, have, sizeof(have) - 1);
		if (n >= 0 && (have[n] = '\0', !strcmp(have, want)))
			return 0;
		if (r->o->check)
			return problem(r, "run `chos setup`", "%s does not point to %s", path, want);
		unlink(path);
	} else if (r->o->check) {
		return problem(r, "run `chos setup`", "%s is missing", path);
	}
	if (symlink(want, path) < 0)
		return problem(r, "check that ROOT is writable by root", "%s: %s", path,
			       strerror(errno));
	return done(r, "%s -> %s", path, want);
}

/* host: an absolute host directory, bound at the same path under ROOT. */
static int ensure_site_dir(struct run *r, const char *host)
{
	char path[SETUP_PATH_MAX];
	struct stat st;

	if (join(path, r->root, host) < 0)
		return problem(r, "use a shorter path", "%s: path too long", host);
	for (size_t i = 0; CHOS_OS_DIRS[i]; i++) {
		char os[SETUP_PATH_MAX];
		snprintf(os, sizeof(os), "/%s", CHOS_OS_DIRS[i]);
		if (is_under(host, os))
			return problem(r, "remove it from BINDMOUNT: OS directories come from the tree",
				       "site directory %s is inside the OS directory %s", host, os);
	}
	if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
		return problem(r, "create it on the host, or remove it from BINDMOUNT",
			       "site directory %s is not a directory on the host", host);
	if (is_mount_root(path))
		return 0;
	if (r->o->check)
		return problem(r, "run `chos setup` (binds do not survive a reboot)",
			       "%s is not bound from the host's %s", path, host);
	int e = mkdir_p(path, 0755);
	/* Recursive: mounts under the host's directory (dev/pts, an NFS home) come along. */
	if (e < 0 || mount(host, path, NULL, MS_BIND | MS_REC, NULL) < 0)
		return problem(r, "check the path and that you are root", "bind %s on %s: %s", host,
			       path, strerror(e < 0 ? -e : errno));
	return done(r, "bound %s on %s", host, path);
}

static int ensure_host_file(struct run *r, const char *tree, const char *file)
{
	char host[SETUP_PATH_MAX], path[SETUP_PATH_MAX];
	struct stat st;

	snprintf(host, sizeof(host), "/%s", file);
	if (stat(host, &st) < 0)
		return 0;   /* the host has none (no gshadow, say): nothing to serve */
	if (join(path, tree, file) < 0)
		return problem(r, "use a shorter tree path", "%s: path too long", tree);
	if (lstat(path, &st) == 0) {
		if (S_ISLNK(st.st_mode))
			return problem(r, "replace the symlink with a regular file",
				       "%s is a symlink: the host's %s cannot be bound over it", path,
				       host);
		if (!S_ISREG(st.st_mode))
			return problem(r, "replace it with a regular file", "%s is not a regular file",
				       path);
		if (is_mount_root(path))
			return 0;
	}
	if (r->o->check)
		return problem(r, "run `chos setup`", "%s does not show the host's %s", path, host);
	int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) < 0 || mount(host, path, NULL, MS_BIND, NULL) < 0)
		return problem(r, "check the tree's etc directory", "bind %s on %s: %s", host, path,
			       strerror(errno));
	return done(r, "bound %s on %s", host, path);
}

static int ensure_tree(struct run *r, const struct chos_env *env)
{
	struct stat st;

	if (stat(env->path, &st) < 0 || !S_ISDIR(st.st_mode))
		return problem(r, "create the tree (debootstrap, scripts/make-trees) or fix the catalogue",
			       "tree %s of \"%s\" is not a directory", env->path, env->name);
	for (size_t i = 0; CHOS_HOST_FILES[i]; i++)
		ensure_host_file(r, env->path, CHOS_HOST_FILES[i]);
#if CHOS_HAVE_KMOD
	struct chos_error err = {0};
	if (r->backend == CHOS_BACKEND_KMOD && chos_kmod_check_visible(r->root, env->path, &err) < 0)
		problem(r, "bind the trees' parent directory into ROOT with BINDMOUNT", "%s",
			err.message);
#endif
	return 0;
}

/* The module lists at most 256 paths of PATH_MAX: this holds any list it can serve. */
#define VALID_MAX_BYTES (256u * SETUP_PATH_MAX)

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

/* kmod: setchos accepts only paths listed in /proc/chos/valid; list exactly the catalogue's. */
static int ensure_valid(struct run *r, const struct chos_catalogue *cat)
{
	char valid[SETUP_PATH_MAX], *list;
	size_t distinct = 0, missing = 0;
	ssize_t n;
	int fd;

	join(valid, CHOS_KMOD_DIR, "valid");
	if (access(valid, F_OK) < 0)
		return problem(r, "load the module (modprobe chos) or use --backend namespace",
			       "%s is missing: the chos kernel module is not loaded", valid);
	if (!(list = calloc(1, VALID_MAX_BYTES + 1)))
		return problem(r, "retry", "out of memory");
	fd = open(valid, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, list, VALID_MAX_BYTES);
	if (fd >= 0)
		close(fd);
	if (n < 0) {
		free(list);
		return problem(r, "run as root; check the module (dmesg)", "reading %s: %s", valid,
			       strerror(errno));
	}
	for (size_t i = 0; i < cat->count; i++) {
		int dup = 0;   /* `default` usually names another entry's tree */
		for (size_t j = 0; j < i && !dup; j++)
			dup = !strcmp(cat->envs[j].path, cat->envs[i].path);
		distinct += !dup;
		if (!dup && !listed(list, cat->envs[i].path)) {
			missing++;
			if (r->o->check)
				problem(r, "run `chos setup`", "%s is not listed in %s", cat->envs[i].path,
					valid);
		}
	}
	n = (ssize_t)count_lines(list);
	free(list);
	if (missing == 0 && (size_t)n == distinct)
		return 0;
	if (r->o->check)
		return (size_t)n == distinct ? -1 : problem(r, "run `chos setup`",
			"%s lists paths the catalogue does not", valid);
	fd = open(valid, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "-", 1) != 1)
		goto fail;
	for (size_t i = 0; i < cat->count; i++) {
		size_t len = strlen(cat->envs[i].path);
		if (write(fd, cat->envs[i].path, len) != (ssize_t)len)
			goto fail;
	}
	close(fd);
	return done(r, "listed %zu trees in %s", distinct, valid);
fail:
	problem(r, "check the module (dmesg)", "writing %s: %s", valid, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static int load_binds(struct run *r, struct chos_bindmounts *b)
{
	const char *path = r->o->sysconfig ? r->o->sysconfig : CHOS_DEFAULT_SYSCONFIG;
	struct chos_error err = {0};
	char *text = NULL;
	size_t len = 0;
	int e = chos_read_trusted(path, 0, CHOS_SYSCONFIG_MAX_BYTES, &text, &len, &err);

	if (e == -ENOENT)
		return 0;
	if (e < 0 || chos_bindmounts_parse(text, len, b, &err) < 0)
		problem(r, "fix the file (root-owned, mode 644, BINDMOUNT=/dir lines)", "%s: %s",
			path, err.message);
	free(text);
	return 0;
}

int chos_setup_run(const struct chos_setup_options *opts)
{
	struct run r = {.o = opts, .root = opts->root ? opts->root : CHOS_ROOT_DEFAULT};
	const char *policy = opts->policy ? opts->policy : CHOS_DEFAULT_POLICY;
	struct chos_catalogue cat = {0};
	struct chos_bindmounts binds = {0};
	struct chos_error err = {0};
	struct stat st;
	int have_cat, fd;

	if (r.root[0] != '/' || !chos_site_path_valid(r.root, strlen(r.root)))
		return -EINVAL;
	r.backend = opts->backend;
	if (r.backend == CHOS_BACKEND_AUTO)
		r.backend = stat(CHOS_KMOD_DIR, &st) == 0 ? CHOS_BACKEND_KMOD : CHOS_BACKEND_NAMESPACE;
	have_cat = chos_catalogue_load(opts->catalogue ? opts->catalogue : CHOS_DEFAULT_CATALOGUE,
				       0, &cat, &err) == 0;
	if (!have_cat)
		problem(&r, "make it root-owned, not group/world-writable, with `name:/path` lines "
			"under %SHELLS", "catalogue: %s", err.message);
	load_binds(&r, &binds);

	ensure_root(&r);
	ensure_outside_site_dirs(&r, &binds);
	ensure_link(&r);
	for (size_t i = 0; CHOS_OS_DIRS[i]; i++)
		ensure_os_dir(&r, CHOS_OS_DIRS[i]);
	for (size_t i = 0; CHOS_SITE_DIRS[i]; i++) {
		char host[SETUP_PATH_MAX];
		snprintf(host, sizeof(host), "/%s", CHOS_SITE_DIRS[i]);
		ensure_site_dir(&r, host);
	}
	for (size_t i = 0; i < binds.count; i++)
		ensure_site_dir(&r, binds.paths[i]);
	for (size_t i = 0; have_cat && i < cat.count; i++)
		ensure_tree(&r, &cat.envs[i]);
	if (have_cat && r.backend == CHOS_BACKEND_KMOD)
		ensure_valid(&r, &cat);

	fd = chos_open_trusted(policy, 0, &err);
	if (fd < 0)
		problem(&r, "build it with `chos-policy build` and install it root-owned, mode 644",
			"policy: %s", err.message);
	else
		close(fd);

	chos_bindmounts_free(&binds);
	chos_catalogue_free(&cat);
	return r.problems;
}
