/* SPDX-License-Identifier: BSD-3-Clause
 * The tree as `chos image build` has mkfs.erofs read it (image_stage.h). mksquashfs takes the
 * stand-ins on its command line (-p); mkfs.erofs 1.5 (Debian 12's erofs-utils) reads one
 * directory and can only leave paths out, so the tree is shown to it through an overlay whose
 * upper layer, in memory, holds the changes: each served path removed (whiteouts: the tree is
 * never written) and its stand-in made. An overlay does not show what is mounted below its lower
 * directory, which mksquashfs packs, so those mounts are bound over it (image_submounts.c). All
 * of it in a mount namespace of this process alone, which ends with mkfs.erofs, taking the
 * overlay, the binds and the tmpfs with it.
 *
 * An overlay shows its upper layer's attributes for every directory there, so the root (the
 * upper directory itself) is given the tree's owner, mode and extended attributes first, and the
 * times of the directories the stand-ins change (the root, their parents) are put back after:
 * the image shows the tree's directories as they are.
 *
 * mkfs.erofs stamps the superblock with its build time unless SOURCE_DATE_EPOCH (clamping every
 * file's time to it) or -T (every file at that time) fixes it. Without a SOURCE_DATE_EPOCH of the
 * caller's, the build time is one second after the newest file of the staged tree: a time the
 * tree itself decides, which changes no file's. */
#include "image_stage.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* An extended attribute's name list or value: the kernel caps both at 64 KiB. */
#define XATTR_MAX 65536

int image_stage_fail(const char *what, const char *path, int e)
{
	fprintf(stderr, "chos image: staging the tree for mkfs.erofs: %s %s: %s\n", what, path,
		strerror(-e));
	return e;
}

/* Removes name under dir, and everything in it when it is a directory. */
static int remove_all(int dir, const char *name)
{
	struct dirent *de;
	DIR *d;
	int fd;

	if (unlinkat(dir, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR)
		return -errno;
	if ((fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return -errno;
	if (!(d = fdopendir(fd)))
		return close(fd), -ENOMEM;
	while ((de = readdir(d))) {
		int e;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((e = remove_all(fd, de->d_name)) < 0)
			return closedir(d), e;
	}
	closedir(d);
	return unlinkat(dir, name, AT_REMOVEDIR) < 0 ? -errno : 0;
}

/* The tree's root's owner, mode and extended attributes on the overlay's upper directory. */
static int copy_root(int tree, int upper)
{
	static char names[XATTR_MAX], value[XATTR_MAX];
	int root = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	ssize_t len, n;

	if (root < 0 || fstat(root, &st) < 0)
		return -errno;
	if ((len = flistxattr(root, names, sizeof(names))) < 0)
		return close(root), -errno;
	for (char *name = names; name < names + len; name += strlen(name) + 1)
		if ((n = fgetxattr(root, name, value, sizeof(value))) < 0 ||
		    fsetxattr(upper, name, value, (size_t)n, 0) < 0)
			return close(root),
			       image_stage_fail("copying the tree's attribute", name, -errno);
	close(root);
	return fchown(upper, st.st_uid, st.st_gid) < 0 || fchmod(upper, st.st_mode & 07777) < 0
		       ? -errno
		       : 0;
}

/* The stand-in for a served path: an empty file or directory of root's, stamped with when. */
static int stand_in(int tree, const char *path, bool directory, unsigned long when)
{
	const struct timespec times[2] = { { .tv_sec = (time_t)when }, { .tv_sec = (time_t)when } };
	int fd, e;

	if ((e = remove_all(tree, path)) < 0)
		return image_stage_fail("removing", path, e);
	if (directory)
		fd = mkdirat(tree, path, 0755) < 0
			     ? -1
			     : openat(tree, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	else
		fd = openat(tree, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fchown(fd, 0, 0) < 0 || fchmod(fd, directory ? 0755 : 0644) < 0 ||
	    futimens(fd, times) < 0)
		e = image_stage_fail("making the stand-in", path, -errno);
	if (fd >= 0)
		close(fd);
	return e;
}

/* The newest modification time under the directory open at dir (seconds), into *newest. */
static int newest_time(int dir, long long *newest)
{
	struct dirent *de;
	struct stat st;
	DIR *d = fdopendir(dir);
	int e = 0;

	if (!d)
		return close(dir), -errno;
	while (e == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			e = -errno;
			break;
		}
		if (st.st_mtim.tv_sec > *newest)
			*newest = st.st_mtim.tv_sec;
		if (S_ISDIR(st.st_mode) && strcmp(de->d_name, ".")) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			e = sub < 0 ? -errno : newest_time(sub, newest);
		}
	}
	closedir(d);
	return e;
}

/* The directories the stand-ins change: each one's parent, and the root (which the upper
 * layer's copy of etc changes); and their times as the tree has them. */
struct touched {
	char dir[IMAGE_MAX_SERVED + 1][256];
	struct timespec mtime[IMAGE_MAX_SERVED + 1];
	size_t n;
};

static int list_touched(const struct image_stage *stage, struct touched *t)
{
	struct stat st;

	t->n = 0;
	for (size_t i = 0; i < stage->n_served && i < IMAGE_MAX_SERVED; i++) {
		const char *path = stage->served[i], *slash = strrchr(path, '/');
		snprintf(t->dir[t->n++], sizeof(t->dir[0]), "%.*s", slash ? (int)(slash - path) : 1,
			 slash ? path : ".");
	}
	snprintf(t->dir[t->n++], sizeof(t->dir[0]), ".");
	for (size_t i = 0; i < t->n; i++) {
		if (fstatat(stage->tree, t->dir[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return image_stage_fail("the tree has no directory", t->dir[i], -errno);
		if (!S_ISDIR(st.st_mode))
			return image_stage_fail("the tree has no directory", t->dir[i], -ENOTDIR);
		t->mtime[i] = st.st_mtim;
	}
	return 0;
}

static int make_stand_ins(int tree, const struct image_stage *stage)
{
	struct touched t;
	int e;

	if ((e = list_touched(stage, &t)) < 0)
		return e;
	for (size_t i = 0; i < stage->n_served; i++)
		if ((e = stand_in(tree, stage->served[i], i + 1 == stage->n_served, stage->epoch)) <
		    0)
			return e;
	for (size_t i = 0; i < t.n; i++) {
		const struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, t.mtime[i] };
		if (utimensat(tree, t.dir[i], times, AT_SYMLINK_NOFOLLOW) < 0)
			return image_stage_fail("restoring the time of", t.dir[i], -errno);
	}
	return 0;
}

/* SOURCE_DATE_EPOCH for mkfs.erofs: the caller's goes to -T instead; else the tree's newest
 * time, plus one. */
static int fix_build_time(int tree, const struct image_stage *stage)
{
	long long newest = 0;
	char value[24];
	int dir, e;

	if (stage->epoch_given)
		return unsetenv("SOURCE_DATE_EPOCH") < 0 ? -errno : 0;
	if ((dir = openat(tree, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    (e = newest_time(dir, &newest)) < 0)
		return image_stage_fail("reading the times of", "the tree", dir < 0 ? -errno : e);
	snprintf(value, sizeof(value), "%lld", newest + 1);
	return setenv("SOURCE_DATE_EPOCH", value, 1) < 0 ? -errno : 0;
}

int image_stage_erofs(const struct image_stage *stage)
{
	struct stat judged, again;
	char options[128];
	int dir, upper, lower, tree, e;

	/* Private, so neither the tmpfs nor the overlay is seen outside this process. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return image_stage_fail("making a private mount namespace for", stage->dir, -errno);
	if (mount("chos-image-build", stage->dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") < 0)
		return image_stage_fail("mounting a tmpfs on", stage->dir, -errno);
	if ((dir = open(stage->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fchdir(dir) < 0 ||
	    mkdir("upper", 0700) < 0 || mkdir("work", 0700) < 0 ||
	    mkdir(IMAGE_STAGE_TREE, 0700) < 0)
		return image_stage_fail("making the overlay's directories in", stage->dir, -errno);
	if ((upper = open("upper", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return image_stage_fail("opening", "upper", -errno);
	e = copy_root(stage->tree, upper);
	close(upper);
	if (e < 0)
		return image_stage_fail("copying the tree's root onto", "upper", e);
	/* The lower layer must be a mount of this namespace (overlayfs clones it): the tree's
	 * path opened again here, which must be the directory the trust rule judged. */
	if ((lower = open(stage->path, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return image_stage_fail("opening", stage->path, -errno);
	if (fstat(lower, &again) < 0 || fstat(stage->tree, &judged) < 0 ||
	    again.st_dev != judged.st_dev || again.st_ino != judged.st_ino)
		return image_stage_fail("opening", stage->path, -ESTALE);
	snprintf(options, sizeof(options), "lowerdir=/proc/self/fd/%d,upperdir=upper,workdir=work",
		 lower);
	if (mount("chos-image-build", IMAGE_STAGE_TREE, "overlay", MS_NOSUID | MS_NODEV, options) <
	    0)
		return image_stage_fail("mounting an overlay of the tree on", IMAGE_STAGE_TREE,
					-errno);
	if ((tree = open(IMAGE_STAGE_TREE, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return image_stage_fail("opening", IMAGE_STAGE_TREE, -errno);
	/* The stand-ins first: a mount laid over the overlay is the tree's own, never written. */
	e = make_stand_ins(tree, stage);
	if (e == 0)
		e = image_stage_submounts(stage, lower, tree);
	if (e == 0)
		e = fix_build_time(tree, stage);
	close(tree);
	close(dir);
	return e;
}
