/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup` (setup.h). One pass over the layout of layout.h, in this order:
 *   kmod: the module loaded and mounted (setup_kmod.c) -> ROOT itself -> the catalogue's images
 *   mounted at ROOT/.chos-images/NAME, each then that entry's tree (setup_image.c) -> trees that
 *   fail the trust rule dropped (setup_trust.c) -> ROOT/.chos-link (kind
 *   depends on the backend) -> OS directories (relative symlinks through the link; kmod: straight
 *   through .chosfs/link, layout.h) -> per tree:
 *   the host's files served (below) -> site directories (recursive binds of the host's) ->
 *   kmod: chosfs mounted at ROOT/.chosfs and seen in ROOT/proc, per tree the same files seen
 *   through ROOT, the catalogue's paths listed in /proc/chos/valid -> the policy bundle and its
 *   bytecode pass the trust rule (checked only). Trees that fail the trust rule, and images
 *   refused, are left out of every later step.
 *
 * Served files, bound from the host over each tree's copy: the identity files (CHOS_HOST_FILES,
 * read-write as the seed had them), and read-only the site's chos configuration, so the `chos`
 * command inside a session, whose /etc is the tree's, reads the host's: the catalogue setup
 * reads (--catalogue, default /etc/chos) at the tree's /etc/chos, and the policy bundle's
 * directory (--policy's, default /etc/chos.d) at the tree's /etc/chos.d. A directory, not the
 * bundle's file: `chos-policy build` replaces the file, which a bind of the old one would hide.
 * A tree that lacks the mount point (an empty file or directory) gets one, as for identity
 * files: trees are the admin's, and a tree that cannot take one (read-only image) is a problem.
 * A bind whose source was replaced since (useradd renames /etc/passwd, editors rename the
 * catalogue) still shows the old file: --check reports it, and setup binds the current one.
 *
 * Why trees before site directories: the kmod link resolves a tree at its catalogue path inside
 * ROOT, through a BINDMOUNT directory bound recursively. On a host whose mounts are private (no
 * systemd), a bind made on the tree after that copy does not propagate into it; made before, the
 * recursive bind carries it along. Trees added later are served through ROOT directly.
 *
 * Inside a tree nothing is followed: its owner may plant any symlink there. Every mount point in
 * it is reached from a handle on the tree and bound onto that handle (beneath.h); a symlink, or
 * a file where a directory is expected (or the reverse), on the way is one problem line naming
 * the tree and the path, and nothing is made or bound there. The same holds for site
 * directories below ROOT, some of which are binds of directories users write (/tmp). The rest
 * of that tree and the other trees are still served; the problems make the exit status 1.
 *
 * Each step looks first and changes only what is wrong, so a second run is a no-op. Under
 * --check nothing changes and everything wrong is a problem line. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "common/beneath.h"
#include "apply/kmod_backend.h"
#include "common/layout.h"
#include "setup/setup_internal.h"
#include "common/trust.h"

int setup_problem(struct setup_run *r, int code, const char *fix, const char *fmt, ...)
{
	va_list ap;

	fputs("problem: ", r->o->out);
	va_start(ap, fmt);
	vfprintf(r->o->out, fmt, ap);
	va_end(ap);
	fprintf(r->o->out, "; fix: %s\n", fix);
	r->problems++;
	return code;
}

int setup_done(struct setup_run *r, const char *fmt, ...)
{
	va_list ap;

	fputs("done: ", r->o->out);
	va_start(ap, fmt);
	vfprintf(r->o->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->o->out);
	return 0;
}

int setup_note(struct setup_run *r, const char *fmt, ...)
{
	va_list ap;

	fputs("ok: ", r->o->out);
	va_start(ap, fmt);
	vfprintf(r->o->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->o->out);
	return 0;
}

static int join(char *buf, const char *a, const char *b)
{
	return snprintf(buf, SETUP_PATH_MAX, "%s/%s", a, b[0] == '/' ? b + 1 : b) < SETUP_PATH_MAX
		       ? 0
		       : -ENAMETOOLONG;
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

static int ensure_root(struct setup_run *r)
{
	struct stat st;

	if (!r->o->check && mkdir_p(r->root, 0755) == 0 && stat(r->root, &st) == 0 &&
	    S_ISDIR(st.st_mode) && st.st_uid == 0 && !(st.st_mode & 022))
		return 0;
	if (stat(r->root, &st) < 0 || !S_ISDIR(st.st_mode))
		return setup_problem(r, -ENOTDIR, "run `chos setup`", "%s is not a directory",
				     r->root);
	if (st.st_uid != 0 || (st.st_mode & 022))
		return setup_problem(r, -EPERM, "chown root and chmod 755 it",
				     "%s is not root-owned mode 755", r->root);
	return 0;
}

/* True when path is dir (absolute) or below it. */
static int is_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n]);
}

/* ROOT under a directory it binds (ROOT in /tmp, say) would contain a copy of itself. */
static int ensure_outside_site_dirs(struct setup_run *r, const struct chos_bindmounts *b)
{
	char dir[SETUP_PATH_MAX];

	for (size_t i = 0; CHOS_SITE_DIRS[i]; i++) {
		snprintf(dir, sizeof(dir), "/%s", CHOS_SITE_DIRS[i]);
		if (is_under(r->root, dir))
			return setup_problem(
				r, -EINVAL, "choose a --root outside the directories it binds",
				"%s is inside %s, which is bound into it", r->root, dir);
	}
	for (size_t i = 0; i < b->count; i++)
		if (is_under(r->root, b->paths[i]))
			return setup_problem(
				r, -EINVAL, "choose a --root outside the directories it binds",
				"%s is inside %s, which is bound into it", r->root, b->paths[i]);
	return 0;
}

static int ensure_link(struct setup_run *r)
{
	char link[SETUP_PATH_MAX], target[SETUP_PATH_MAX];
	int want_symlink = r->backend == CHOS_BACKEND_KMOD;
	struct stat st;
	ssize_t n;

	if (join(link, r->root, CHOS_LINK_NAME) < 0)
		return setup_problem(r, -ENAMETOOLONG, "use a shorter --root", "%s: path too long",
				     r->root);
	if (lstat(link, &st) == 0) {
		n = S_ISLNK(st.st_mode) ? readlink(link, target, sizeof(target) - 1) : -1;
		if (n >= 0)
			target[n] = '\0';
		if (want_symlink ? n >= 0 && !strcmp(target, CHOS_KMOD_LINK_TARGET)
				 : S_ISDIR(st.st_mode))
			return 0;
		if (r->o->check && want_symlink && n >= 0) /* an older kmod layout: via /proc */
			return setup_problem(r, -EINVAL, "run `chos setup`",
					     "%s does not point to %s", link,
					     CHOS_KMOD_LINK_TARGET);
		if (r->o->check && !S_ISLNK(st.st_mode) && !S_ISDIR(st.st_mode))
			return setup_problem(r, -EINVAL, "move it away and run `chos setup`",
					     "%s is neither the kmod backend's symlink nor the "
					     "namespace backend's directory",
					     link);
		if (r->o->check)
			return setup_problem(
				r, -EINVAL, "run `chos setup` with the backend you use",
				"%s is laid out for the %s backend", link,
				chos_backend_name(S_ISLNK(st.st_mode) ? CHOS_BACKEND_KMOD
								      : CHOS_BACKEND_NAMESPACE));
		if ((S_ISDIR(st.st_mode) ? rmdir(link) : unlink(link)) < 0)
			return setup_problem(r, -errno, "move it away and run `chos setup` again",
					     "%s: %s", link, strerror(errno));
	} else if (r->o->check) {
		return setup_problem(r, -ENOENT, "run `chos setup`", "%s is missing", link);
	}
	if (want_symlink ? symlink(CHOS_KMOD_LINK_TARGET, link) : mkdir(link, 0755))
		return setup_problem(r, -errno, "check that ROOT is writable by root", "%s: %s",
				     link, strerror(errno));
	return setup_done(r, "%s %s", link,
			  want_symlink ? "-> " CHOS_KMOD_LINK_TARGET : "(directory)");
}

static int ensure_os_dir(struct setup_run *r, const char *name)
{
	char path[SETUP_PATH_MAX], want[SETUP_PATH_MAX], have[SETUP_PATH_MAX];
	struct stat st;
	ssize_t n;

	join(path, r->root, name);
	join(want, r->backend == CHOS_BACKEND_KMOD ? CHOS_KMOD_LINK_TARGET : CHOS_LINK_NAME, name);
	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode))
			return setup_problem(r, -EINVAL,
					     "move it away: OS directories come from the tree",
					     "%s is not a symlink to %s", path, want);
		n = readlink(path, have, sizeof(have) - 1);
		if (n >= 0 && (have[n] = '\0', !strcmp(have, want)))
			return 0;
		if (r->o->check)
			return setup_problem(r, -EINVAL, "run `chos setup`",
					     "%s does not point to %s", path, want);
		unlink(path);
	} else if (r->o->check) {
		return setup_problem(r, -ENOENT, "run `chos setup`", "%s is missing", path);
	}
	if (symlink(want, path) < 0)
		return setup_problem(r, -errno, "check that ROOT is writable by root", "%s: %s",
				     path, strerror(errno));
	return setup_done(r, "%s -> %s", path, want);
}

/* One problem line for a walk beneath a tree (what: "tree") or ROOT ("root") that stopped at
 * fail->path: the wrong kind there (a symlink, whatever it points to), else the system's error.
 * from: what was to be bound at the end of the walk. Nothing was created or bound past it. */
static int beneath_problem(struct setup_run *r, const char *what, const char *dir, int code,
			   const struct chos_beneath_fail *fail, mode_t want, const char *from)
{
	const char *kind = fail->last && !S_ISDIR(want) ? "regular file" : "directory";

	if (fail->found && (code == -ELOOP || code == -ENOTDIR || code == -EINVAL)) {
		if (fail->last)
			return setup_problem(
				r, code,
				kind[0] == 'd' ? "replace it with a directory"
					       : "replace it with a regular file",
				"%s %s: %s is %s, where a %s is expected: the host's %s is "
				"not bound over it",
				what, dir, fail->path, chos_beneath_kind(fail->found), kind, from);
		return setup_problem(r, code, "replace it with a directory",
				     "%s %s: %s is %s, where a directory is expected: nothing is "
				     "created or bound through it",
				     what, dir, fail->path, chos_beneath_kind(fail->found));
	}
	return setup_problem(r, code, "check that it is writable by root",
			     "%s %s: %s: %s (binding %s)", what, dir, fail->path, strerror(-code),
			     from);
}

/* host: an absolute host directory, bound at the same path under ROOT. */
static int ensure_site_dir(struct setup_run *r, const char *host)
{
	char path[SETUP_PATH_MAX];
	struct stat st;

	if (join(path, r->root, host) < 0)
		return setup_problem(r, -ENAMETOOLONG, "use a shorter path", "%s: path too long",
				     host);
	for (size_t i = 0; CHOS_OS_DIRS[i]; i++) {
		char os[SETUP_PATH_MAX];
		snprintf(os, sizeof(os), "/%s", CHOS_OS_DIRS[i]);
		if (is_under(host, os))
			return setup_problem(
				r, -EINVAL,
				"remove it from BINDMOUNT: OS directories come from the tree",
				"site directory %s is inside the OS directory %s", host, os);
	}
	if (stat(host, &st) < 0 || !S_ISDIR(st.st_mode))
		return setup_problem(r, -ENOTDIR,
				     "create it on the host, or remove it from BINDMOUNT",
				     "site directory %s is not a directory on the host", host);
	/* Beneath ROOT too: a site directory under another one (BINDMOUNT=/tmp/x) is reached
	 * through a bind of a directory users write. */
	int rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, e;
	struct chos_beneath_fail fail;

	if (rootfd < 0 && !r->o->check)
		return -errno; /* ensure_root said why */
	fd = rootfd < 0 ? -ENOENT
			: chos_beneath_open(rootfd, host + 1, S_IFDIR, !r->o->check, &fail);
	if (rootfd >= 0)
		close(rootfd);
	if (fd == -ENOENT && r->o->check)
		return setup_problem(r, -ENOENT, "run `chos setup` (binds do not survive a reboot)",
				     "%s is not bound from the host's %s", path, host);
	if (fd < 0)
		return beneath_problem(r, "root", r->root, fd, &fail, S_IFDIR, host);
	if (chos_is_mount_root(fd))
		return close(fd), 0;
	if (r->o->check)
		return close(fd),
		       setup_problem(r, -ENOENT, "run `chos setup` (binds do not survive a reboot)",
				     "%s is not bound from the host's %s", path, host);
	/* Recursive: mounts under the host's directory (dev/pts, an NFS home) come along. */
	e = chos_bind_at(AT_FDCWD, host, fd, CHOS_BIND_RECURSIVE);
	close(fd);
	if (e < 0)
		return setup_problem(r, e, "check the path and that you are root",
				     "bind %s on %s: %s", host, path, strerror(-e));
	return setup_done(r, "bound %s on %s", host, path);
}

/* A file or directory of the host served at the same place in every tree. */
struct served {
	const char *where; /* relative to a tree */
	const char *host;  /* absolute, on the host; NULL: the same path ("/" where) */
	int read_only;
};

/* True when the handle already shows host's very file (a bind of it, made earlier). */
static int shows(int fd, const struct stat *host)
{
	struct stat st;
	return chos_is_mount_root(fd) && fstat(fd, &st) == 0 && st.st_dev == host->st_dev &&
	       st.st_ino == host->st_ino;
}

static int is_read_only(int fd)
{
	struct statvfs vfs;
	return fstatvfs(fd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY);
}

/* The handle of f's mount point in the tree (made when missing, unless --check): a fresh walk
 * from the tree's handle, so a stale bind detached before is not what gets bound over. */
static int open_served(struct setup_run *r, int treefd, const char *tree, const struct served *f,
		       const char *from, mode_t want, char *blocked)
{
	struct chos_beneath_fail fail;
	int fd = chos_beneath_open(treefd, f->where, want, !r->o->check, &fail);

	if (fd == -ENOENT && r->o->check)
		return setup_problem(r, -ENOENT, "run `chos setup`",
				     "%s/%s does not show the host's %s", tree, f->where, from);
	if (fd >= 0)
		return fd;
	if (!fail.last) /* the next files under it would report it again */
		snprintf(blocked, CHOS_BENEATH_PATH_MAX, "%s", fail.path);
	return beneath_problem(r, "tree", tree, fd, &fail, want, from);
}

static int bind_served(struct setup_run *r, int fd, const char *path, const char *from,
		       int read_only)
{
	int e = chos_bind_at(AT_FDCWD, from, fd, read_only ? CHOS_BIND_READ_ONLY : 0);

	close(fd);
	if (e < 0)
		return setup_problem(r, e, "check the tree's etc directory", "bind %s on %s: %s",
				     from, path, strerror(-e));
	return setup_done(r, "bound %s on %s%s", from, path, read_only ? " (read-only)" : "");
}

/* True when where lies under the directory blocked (a walk that stopped there already). */
static int is_blocked(const char *where, const char *blocked)
{
	size_t n = strlen(blocked);
	return n && !strncmp(where, blocked, n) && where[n] == '/';
}

/* tree: where the tree is seen (its catalogue path, or that path inside ROOT); treefd its
 * handle, from which every path inside it is reached. */
static int ensure_served(struct setup_run *r, int treefd, const char *tree, const struct served *f,
			 char *blocked)
{
	char path[SETUP_PATH_MAX], from[SETUP_PATH_MAX];
	struct stat host;
	mode_t want;
	int fd, e;

	snprintf(from, sizeof(from), "%s%s", f->host ? "" : "/", f->host ? f->host : f->where);
	if (stat(from, &host) < 0)
		return 0; /* the host has none (no gshadow, say): nothing to serve */
	if (is_blocked(f->where, blocked))
		return -ENOTDIR; /* the walk to a directory above stopped, and said why */
	if (join(path, tree, f->where) < 0)
		return setup_problem(r, -ENAMETOOLONG, "use a shorter tree path",
				     "%s: path too long", tree);
	want = S_ISDIR(host.st_mode) ? S_IFDIR : S_IFREG;
	if ((fd = open_served(r, treefd, tree, f, from, want, blocked)) < 0)
		return fd;
	if (shows(fd, &host) && (!f->read_only || is_read_only(fd)))
		return close(fd), 0;
	if (chos_is_mount_root(fd)) {
		if (r->o->check)
			return close(fd), setup_problem(r, -ESTALE, "run `chos setup`",
							"%s is not the host's current %s (replaced "
							"since it was bound, "
							"or bound from elsewhere)",
							path, from);
		/* Detached, not unmounted: a session may hold the old copy open. */
		e = chos_detach_at(fd);
		close(fd);
		if (e < 0)
			return setup_problem(r, e, "check the mounts on it", "unmount %s: %s", path,
					     strerror(-e));
		if ((fd = open_served(r, treefd, tree, f, from, want, blocked)) < 0)
			return fd;
	} else if (r->o->check) {
		return close(fd), setup_problem(r, -ENOENT, "run `chos setup`",
						"%s does not show the host's %s", path, from);
	}
	return bind_served(r, fd, path, from, f->read_only);
}

/* Every served file of this run, NULL-where-terminated: identity files, then the site's chos
 * configuration (policy_dir NULL: none to serve). */
static struct served *served_list(struct setup_run *r, const char *policy_dir)
{
	size_t n = 0, i = 0;
	struct served *list;

	while (CHOS_HOST_FILES[n])
		n++;
	if (!(list = calloc(n + 3, sizeof(*list))))
		return NULL;
	for (; i < n; i++)
		list[i] = (struct served){ CHOS_HOST_FILES[i], NULL, 0 };
	list[i++] =
		(struct served){ CHOS_SERVED_CATALOGUE,
				 r->o->catalogue ? r->o->catalogue : CHOS_CATALOGUE_DEFAULT, 1 };
	if (policy_dir)
		list[i++] = (struct served){ CHOS_SERVED_POLICY_DIR, policy_dir, 1 };
	return list;
}

/* Serves the list in one tree: at its catalogue path, or (kmod) at that path inside ROOT. That
 * path is the admin's (the catalogue's, which may go through a symlink); below it, nothing is
 * followed (beneath.h). */
static void serve_tree(struct setup_run *r, const char *tree, const struct served *list)
{
	char blocked[CHOS_BENEATH_PATH_MAX] = "";
	int treefd = open(tree, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (treefd < 0) {
		setup_problem(r, -errno, "create the tree or fix the catalogue", "tree %s: %s",
			      tree, strerror(errno));
		return;
	}
	for (const struct served *f = list; f->where; f++)
		ensure_served(r, treefd, tree, f, blocked);
	close(treefd);
}

static int tree_exists(struct setup_run *r, const struct chos_env *env)
{
	struct stat st;

	if (stat(env->path, &st) == 0 && S_ISDIR(st.st_mode))
		return 1;
	setup_problem(r, -ENOTDIR,
		      "create the tree (debootstrap, scripts/make-trees) or fix the catalogue",
		      "tree %s of \"%s\" is not a directory", env->path, env->name);
	return 0;
}

/* kmod: the link's target resolves inside ROOT, so the tree must show there, served too. */
static void serve_tree_in_root(struct setup_run *r, const struct chos_env *env,
			       const struct served *list)
{
	char seen[SETUP_PATH_MAX];
	struct chos_error err = { 0 };

	if (chos_kmod_check_visible(r->root, env->path, &err) < 0) {
		setup_problem(r, err.code,
			      "bind the trees' parent directory into ROOT with BINDMOUNT", "%s",
			      err.message);
		return;
	}
	if (join(seen, r->root, env->path) == 0)
		serve_tree(r, seen, list);
}

/* The bundle's directory, served at /etc/chos.d; NULL (and a problem) when it is not one of its
 * own: serving / or /etc there would put the whole host's configuration in every tree. */
static char *policy_dir(struct setup_run *r, const char *policy)
{
	char *dir = strdup(policy), *slash;

	if (!dir)
		return setup_problem(r, -ENOMEM, "retry", "out of memory"), NULL;
	if (!(slash = strrchr(dir, '/')))
		return free(dir), NULL;
	*slash = '\0';
	if (!dir[0] || !strcmp(dir, "/etc")) {
		setup_problem(
			r, -EINVAL,
			"keep the bundle in a directory of its own, such as /etc/chos.d",
			"policy %s: its directory %s is not served at /etc/chos.d: every tree "
			"would see all of it",
			policy, dir[0] ? dir : "/");
		return free(dir), NULL;
	}
	return dir;
}

static int load_binds(struct setup_run *r, struct chos_bindmounts *b)
{
	const char *path = r->o->sysconfig ? r->o->sysconfig : CHOS_SYSCONFIG_DEFAULT;
	struct chos_error err = { 0 };
	char *text = NULL;
	size_t len = 0;
	int e = chos_read_trusted(path, 0, CHOS_SYSCONFIG_MAX_BYTES, &text, &len, &err);

	if (e == -ENOENT)
		return 0;
	if (e < 0 || chos_bindmounts_parse(text, len, b, &err) < 0)
		setup_problem(r, err.code,
			      "fix the file (root-owned, mode 644, BINDMOUNT=/dir lines)", "%s: %s",
			      path, err.message);
	free(text);
	return 0;
}

/* auto's probe for an installed module (chos_backend_for_setup); --check loads nothing. */
static bool try_load(void *run)
{
	return setup_kmod_try_load(run);
}

static void ensure_policy(struct setup_run *r, const char *policy)
{
	struct chos_error err = { 0 };
	int fd = chos_open_trusted(policy, 0, &err);

	if (fd < 0) {
		setup_problem(
			r, fd,
			"build it with `chos-policy build` and install it root-owned, mode 644",
			"policy: %s", err.message);
		return;
	}
	close(fd);
	setup_check_bytecode(r, policy);
}

int chos_setup_run(const struct chos_setup_options *opts, struct chos_error *failed)
{
	struct setup_run r = { .o = opts, .root = opts->root ? opts->root : CHOS_ROOT_DEFAULT };
	const char *policy = opts->policy ? opts->policy : CHOS_POLICY_DEFAULT;
	struct chos_catalogue cat = { 0 };
	struct chos_bindmounts binds = { 0 };
	struct chos_error err = { 0 };
	struct served *served = NULL;
	char *pdir;

	if (r.root[0] != '/' || !chos_site_path_valid(r.root, strlen(r.root)))
		return chos_fail(failed, -EINVAL,
				 "--root must be an absolute path without . or .. (not /)");
	if (chos_catalogue_load(opts->catalogue ? opts->catalogue : CHOS_CATALOGUE_DEFAULT, 0, &cat,
				&err) < 0)
		setup_problem(
			&r, err.code,
			"make it root-owned, not group/world-writable, with `name:/path` lines "
			"under %SHELLS",
			"catalogue: %s", err.message);
	load_binds(&r, &binds);
	pdir = policy_dir(&r, policy);
	if (!(served = served_list(&r, pdir))) {
		free(pdir);
		chos_bindmounts_free(&binds);
		chos_catalogue_free(&cat);
		return chos_fail(failed, -ENOMEM, "out of memory");
	}

	r.backend = chos_backend_for_setup(opts->backend, r.root, opts->module != NULL,
					   opts->check ? NULL : try_load, &r);
	if (r.backend == CHOS_BACKEND_KMOD)
		setup_kmod_ready(&r);
	ensure_root(&r);
	ensure_outside_site_dirs(&r, &binds);
	setup_images(&r, &cat);
	setup_drop_untrusted_trees(&r, &cat);
	ensure_link(&r);
	for (size_t i = 0; CHOS_OS_DIRS[i]; i++)
		ensure_os_dir(&r, CHOS_OS_DIRS[i]);
	/* Trees before site directories: see the header comment. */
	for (size_t i = 0; i < cat.count; i++)
		if (chos_catalogue_first_of_tree(&cat, i) && tree_exists(&r, &cat.envs[i]))
			serve_tree(&r, cat.envs[i].path, served);
	for (size_t i = 0; CHOS_SITE_DIRS[i]; i++) {
		char host[SETUP_PATH_MAX];
		snprintf(host, sizeof(host), "/%s", CHOS_SITE_DIRS[i]);
		ensure_site_dir(&r, host);
	}
	for (size_t i = 0; i < binds.count; i++)
		ensure_site_dir(&r, binds.paths[i]);
	if (r.backend == CHOS_BACKEND_KMOD) {
		setup_kmod_in_root(&r);
		for (size_t i = 0; i < cat.count; i++)
			if (chos_catalogue_first_of_tree(&cat, i) &&
			    access(cat.envs[i].path, F_OK) == 0)
				serve_tree_in_root(&r, &cat.envs[i], served);
		if (cat.count)
			setup_kmod_valid(&r, &cat);
	}
	setup_drop_stale_images(&r);
	ensure_policy(&r, policy);

	for (size_t i = 0; i < r.image_count; i++)
		free(r.images[i]);
	free(r.images);
	free(served);
	free(pdir);
	chos_bindmounts_free(&binds);
	chos_catalogue_free(&cat);
	return r.problems;
}
