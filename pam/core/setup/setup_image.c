/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup`'s image step (setup_internal.h): every image of the catalogue (catalogue.h)
 * mounted read-only at the mount point of its generation, ROOT/.chos-images/NAME@GEN (layout.h:
 * GEN is the file's digest), and the name ROOT/.chos-images/NAME pointed at it, before anything
 * is served, so the rest of the run treats that mount point as the entry's tree.
 *
 * An image is mounted only when it passes, in this order: the trust rule for the file and every
 * directory above it (trust.h: only root can replace it after), the superblock check
 * (image.h: the kernel's parser of the image's filesystem sees nothing it rejects), and the
 * pinned digest when the catalogue has one (computed over every byte: neither squashfs nor erofs
 * checks its data). One that fails is a problem line, is not mounted, and leaves the run's
 * catalogue, so nothing is served into it or listed for the kernel module, and sessions refuse
 * it (session.c finds no filesystem of its kind at its mount point).
 *
 * The mount: a loop device configured in one ioctl (LOOP_CONFIGURE) read-only with
 * LO_FLAGS_AUTOCLEAR, so the device is released when the last mount of it goes (no loop device
 * outlives its image's mounts); then the filesystem of the image's kind (squashfs, erofs: the
 * catalogue's suffix says which) made detached (fsopen, fsmount) read-only, nosuid, nodev and
 * moved onto a handle of the mount point. Neither is built into Debian's kernels: the first
 * fsopen of one loads its module. Whether the mount already there is this image is told by the
 * loop device's backing file (device and inode): the same bytes in a new file (renamed over) are
 * mounted fresh at the same generation. A file with new bytes is a new generation: mounted at a
 * mount point of its own, and the name moved to it by a rename (point_current), so a session
 * resolving the name (chos_env_tree) finds the old generation or the new, never neither.
 *
 * kmod: a session's link is resolved inside ROOT, so the mount point must show the image at the
 * same path there too: ROOT/ROOT/.chos-images/NAME@GEN is a bind of the image's mount (kept in
 * step with it), into which setup then serves the files as for any tree seen through ROOT. A
 * ROOT under one of the OS directories (ROOT/var is the tree's) cannot hold that bind: a problem.
 *
 * Generations no listed name leads to any more (replaced or unlisted images) are taken away at
 * the end of the run, each backend when its sessions allow: drop_generation says when. */
#include "setup/setup_internal.h"
#include "common/beneath.h"
#include "common/layout.h"
#include "common/trust.h"
#include "setup/image.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define IMAGE_FIX_TRUST "chown root and chmod go-w the image and every directory above it"
/* Another process may take the free device between LOOP_CTL_GET_FREE and LOOP_CONFIGURE. */
#define LOOP_ATTEMPTS 8
#define LOOP_CONTROL "/dev/loop-control"

/* The loop device number behind a mount's st_dev, as /dev/loopN's N; -1 when it is none. */
static int loop_number(dev_t dev)
{
	char path[64], line[64];
	int n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent", major(dev), minor(dev));
	if (!(f = fopen(path, "re")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "DEVNAME=loop%d", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* True when the mount whose root mp is shows the loop device of the image file st. */
static int shows_image(int mp, const struct stat *image)
{
	struct loop_info64 info;
	struct stat st;
	char dev[32];
	int n, fd, same;

	if (fstat(mp, &st) < 0 || (n = loop_number(st.st_dev)) < 0)
		return 0;
	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	same = ioctl(fd, LOOP_GET_STATUS64, &info) == 0 && info.lo_device == image->st_dev &&
	       info.lo_inode == image->st_ino;
	close(fd);
	return same;
}

/* A read-only, autoclearing loop device over the image at fd: its open fd, and N in *n. */
static int loop_attach(int image, const char *file, int *n)
{
	struct loop_config cfg = { .fd = (unsigned)image,
				   .info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR };
	int ctl = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC), e = -EBUSY;
	char dev[32];

	/* Opening the node loads the loop module; without systemd's static nodes there is none
	 * until the module is loaded. */
	if (ctl < 0 && errno == ENOENT && setup_modprobe("loop") == 0)
		ctl = open(LOOP_CONTROL, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s", file);
	for (int i = 0; i < LOOP_ATTEMPTS && e == -EBUSY; i++) {
		int fd;
		if ((*n = ioctl(ctl, LOOP_CTL_GET_FREE)) < 0) {
			e = -errno;
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", *n);
		if ((fd = open(dev, O_RDONLY | O_CLOEXEC)) < 0) {
			e = -errno;
			break;
		}
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			close(ctl);
			return fd;
		}
		e = -errno;
		close(fd);
	}
	close(ctl);
	return e;
}

/* A detached mount of /dev/loopN as fstype: read-only, nosuid, nodev. */
static int image_fs_mount(int n, const char *fstype)
{
	char dev[32];
	int fs, mnt = -1;

	snprintf(dev, sizeof(dev), "/dev/loop%d", n);
	if ((fs = fsopen(fstype, FSOPEN_CLOEXEC)) < 0)
		return -errno;
	if (fsconfig(fs, FSCONFIG_SET_STRING, "source", dev, 0) == 0 &&
	    fsconfig(fs, FSCONFIG_SET_FLAG, "ro", NULL, 0) == 0 &&
	    fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) == 0)
		mnt = fsmount(fs, FSMOUNT_CLOEXEC,
			      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
	int e = mnt < 0 ? -errno : 0;
	close(fs);
	return mnt < 0 ? e : mnt;
}

/* The handle of ROOT/.chos-images/GEN (a generation, NAME@GEN), made (0755) when missing unless
 * --check. */
static int open_mount_point(struct setup_run *r, const char *name, char *where)
{
	struct chos_beneath_fail fail;
	int rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	snprintf(where, SETUP_PATH_MAX, "%s/%s", CHOS_IMAGES_NAME, name);
	if (rootfd < 0)
		return -errno; /* ensure_root says why */
	fd = chos_beneath_open(rootfd, where, S_IFDIR, !r->o->check, &fail);
	close(rootfd);
	if (fd < 0 && !(fd == -ENOENT && r->o->check))
		setup_problem(r, fd, "move it away and run `chos setup`",
			      "image mount point %s/%s: %s is %s", r->root, where, fail.path,
			      fail.found ? chos_beneath_kind(fail.found) : strerror(-fd));
	return fd;
}

/* Mounts the image open at image onto the mount point, whose handle is *mp: what is mounted
 * there is detached first, and *mp opened again on the directory it covered (the old handle is
 * the detached mount's root). 0 or -errno. */
static int mount_image(struct setup_run *r, const struct chos_env *env, const char *gen, int image,
		       int *mp, int *loop, const char **step)
{
	char where[SETUP_PATH_MAX];
	int dev = loop_attach(image, env->path, loop), mnt, e = 0;

	*step = "setting up a loop device (" LOOP_CONTROL ")";
	if (dev < 0)
		return dev;
	*step = "mounting its filesystem";
	mnt = image_fs_mount(*loop, chos_image_format(env->image)->fstype);
	close(dev); /* the mount holds the device now; without one, autoclear releases it */
	if (mnt < 0)
		return mnt;
	*step = "moving the mount onto its mount point";
	if (chos_is_mount_root(*mp)) {
		e = chos_detach_at(*mp);
		close(*mp);
		*mp = e < 0 ? -1 : open_mount_point(r, gen, where);
		if (*mp < 0 && e == 0)
			e = *mp;
	}
	if (e == 0 &&
	    move_mount(mnt, "", *mp, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		e = -errno;
	close(mnt);
	return e;
}

/* ROOT/ROOT/.chos-images[/NAME] inside buf (the kmod mirror's path beneath ROOT), or "" when
 * it does not fit (said). */
static const char *mirror_path(struct setup_run *r, const char *name, char *buf, size_t size)
{
	if (snprintf(buf, size, "%s/%s%s%s", r->root + 1, CHOS_IMAGES_NAME, name ? "/" : "",
		     name ? name : "") < (int)size)
		return buf;
	setup_problem(r, -ENAMETOOLONG, "use a shorter --root", "%s: path too long", r->root);
	return "";
}

/* kmod: ROOT/ROOT/.chos-images/GEN shows the mount at mp (a bind of it, made or remade). */
static int ensure_kmod_mirror(struct setup_run *r, const char *gen, int mp)
{
	char where[SETUP_PATH_MAX];
	struct chos_beneath_fail fail;
	struct stat want, have;
	int rootfd, fd, e;

	if (!*mirror_path(r, gen, where, sizeof(where)))
		return -ENAMETOOLONG;
	if ((rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno; /* ensure_root says why */
	fd = chos_beneath_open(rootfd, where, S_IFDIR, !r->o->check, &fail);
	close(rootfd);
	if (fd < 0)
		return setup_problem(r, fd,
				     fail.found ? "choose a --root outside the OS directories"
						: "run `chos setup`",
				     "image %s for the kmod backend: %s/%s: %s", gen, r->root,
				     fail.path,
				     fail.found ? chos_beneath_kind(fail.found) : strerror(-fd));
	if (fstat(mp, &want) == 0 && fstat(fd, &have) == 0 && chos_is_mount_root(fd) &&
	    have.st_dev == want.st_dev && have.st_ino == want.st_ino)
		return close(fd), 0;
	if (r->o->check)
		return close(fd),
		       setup_problem(r, -ENOENT, "run `chos setup`",
				     "%s/%s does not show the image %s", r->root, where, gen);
	if (chos_is_mount_root(fd)) {
		e = chos_detach_at(fd);
		close(fd);
		rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		fd = rootfd < 0 ? -errno : chos_beneath_open(rootfd, where, S_IFDIR, 0, &fail);
		if (rootfd >= 0)
			close(rootfd);
		if (e < 0 || fd < 0)
			return setup_problem(r, e < 0 ? e : fd, "check the mounts on it",
					     "%s/%s: %s", r->root, where,
					     strerror(-(e < 0 ? e : fd)));
	}
	e = chos_bind_at(mp, "", fd, 0);
	close(fd);
	if (e < 0)
		return setup_problem(r, e, "check the kernel log (dmesg)",
				     "bind %s/%s/%s on %s/%s: %s", r->root, CHOS_IMAGES_NAME, gen,
				     r->root, where, strerror(-e));
	return setup_done(r, "bound the image %s on %s/%s", gen, r->root, where);
}

/* The checks before mounting; 0, or the problem's -errno (said). hex: the digest. */
static int judge_image(struct setup_run *r, const struct chos_env *env, int fd,
		       char hex[CHOS_SHA256_HEX + 1])
{
	uint8_t digest[CHOS_SHA256_BYTES];
	struct chos_image_info info;
	struct chos_error err = { 0 };
	char pin[CHOS_SHA256_HEX + 1];

	if (chos_image_inspect(fd, env->image, env->path, &info, &err) < 0 ||
	    chos_image_digest(fd, env->path, digest, &err) < 0)
		return setup_problem(r, err.code, "rebuild it with `chos image build`",
				     "image %s of \"%s\" is refused, not mounted: %s", env->path,
				     env->name, err.message);
	chos_sha256_hex(digest, hex);
	if (env->pinned && memcmp(digest, env->sha256, sizeof(digest))) {
		chos_sha256_hex(env->sha256, pin);
		return setup_problem(
			r, -EBADMSG, "install the image the catalogue pins, or pin this one",
			"image %s of \"%s\" is refused, not mounted: its sha256 is %s, "
			"the catalogue pins %s",
			env->path, env->name, hex, pin);
	}
	return 0;
}

/* ROOT/.chos-images, or ROOT/ROOT/.chos-images (kmod's mirror) when mirror: its handle, or -errno
 * (missing: nothing was mounted there yet). */
static int open_images(struct setup_run *r, bool mirror)
{
	char path[SETUP_PATH_MAX];
	struct chos_beneath_fail fail;
	int rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd;

	if (rootfd < 0)
		return -errno; /* ensure_root says why */
	fd = chos_beneath_open(rootfd,
			       mirror ? mirror_path(r, NULL, path, sizeof(path)) : CHOS_IMAGES_NAME,
			       S_IFDIR, 0, &fail);
	close(rootfd);
	return fd;
}

/* The mount at DIR/NAME detached (namespace sessions made earlier keep their copy, and its loop
 * device, until they end) and the directory removed. 0, or -errno. */
static int detach_and_remove(int dir, const char *name)
{
	int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e = 0;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (chos_is_mount_root(fd))
		e = chos_detach_at(fd);
	close(fd);
	if (e == 0 && unlinkat(dir, name, AT_REMOVEDIR) < 0)
		e = -errno;
	return e;
}

/*
 * A directory under ROOT/.chos-images that no listed image leads to: an old generation (its
 * image replaced, or no longer listed), an empty mount point (its image refused), or the
 * previous layout's ROOT/.chos-images/NAME. An empty one is removed (rmdir keeps anything
 * else). A mount: the namespace backend detaches it, since sessions made earlier hold their
 * copy. A kmod session's link is a path resolved at every walk, so there it goes, with its bind
 * inside ROOT, only once /proc/chos/held shows no process whose link leads into it; by then
 * valid no longer lists it either (setup_kmod_valid ran first), so no link can come back.
 * 0 when it is gone, -EBUSY when kept (said), else the problem's -errno.
 */
static int drop_generation(struct setup_run *r, int images, const char *name)
{
	char where[SETUP_PATH_MAX];
	int fd = openat(images, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e, mounted;
	long held = 0;

	snprintf(where, sizeof(where), "%s/%s/%s", r->root, CHOS_IMAGES_NAME, name);
	if (fd < 0)
		return 0; /* not a directory: not a mount point setup made */
	mounted = chos_is_mount_root(fd);
	close(fd);
	if (!mounted) {
		if (!r->o->check && unlinkat(images, name, AT_REMOVEDIR) == 0)
			setup_done(r, "removed mount point %s: no image is mounted there", where);
		return 0;
	}
	if (r->backend == CHOS_BACKEND_KMOD && (held = setup_kmod_held(r, where)) != 0)
		return held < 0
			       ? (int)held
			       : (setup_note(
					  r,
					  "image mount %s: no listed image leads to it; kept while "
					  "%ld processes' links lead into it",
					  where, held),
				  -EBUSY);
	if (r->o->check)
		return setup_problem(r, -ESTALE, "run `chos setup`",
				     "image mount %s: no listed image leads to it", where);
	if (r->backend == CHOS_BACKEND_KMOD && (fd = open_images(r, true)) >= 0) {
		e = detach_and_remove(fd, name);
		close(fd);
		if (e < 0)
			return setup_problem(r, e, "check the mounts on it",
					     "image mount %s, its bind inside the root: %s", where,
					     strerror(-e));
	}
	if ((e = detach_and_remove(images, name)) < 0)
		return setup_problem(r, e, "check the mounts on it", "image mount %s: %s", where,
				     strerror(-e));
	return setup_done(r, "detached image mount %s: no listed image%s leads to it", where,
			  r->backend == CHOS_BACKEND_KMOD ? ", and no process's link," : "");
}

/* ROOT/.chos-images/NAME -> GEN: the generation sessions enter from now on (chos_env_tree).
 * Replaced by a rename, so a session finds the old generation or the new, never neither. */
static int point_current(struct setup_run *r, const char *name, const char *gen)
{
	char have[SETUP_PATH_MAX], tmp[CHOS_NAME_MAX + 8];
	int images = open_images(r, false), e = 0;
	ssize_t n = images < 0 ? -1 : readlinkat(images, name, have, sizeof(have) - 1);

	if (images < 0)
		return images; /* open_mount_point made it: said there if it failed */
	if (n >= 0 && (size_t)n == strlen(gen) && !memcmp(have, gen, n))
		return close(images), 0;
	if (r->o->check)
		e = setup_problem(r, -ESTALE, "run `chos setup`",
				  "%s/%s/%s does not lead to %s, the image's mount", r->root,
				  CHOS_IMAGES_NAME, name, gen);
	/* A directory there (EINVAL): the previous layout's mount point, or an empty one. */
	else if (n < 0 && errno == EINVAL && drop_generation(r, images, name) < 0)
		e = setup_problem(
			r, -EBUSY, "run `chos setup` again once those sessions end",
			"image of \"%s\": %s/%s/%s is still in use, so it cannot lead to %s", name,
			r->root, CHOS_IMAGES_NAME, name, gen);
	if (e) {
		close(images);
		return e;
	}
	snprintf(tmp, sizeof(tmp), ".%s.new", name);
	unlinkat(images, tmp, 0);
	if (symlinkat(gen, images, tmp) < 0 || renameat(images, tmp, images, name) < 0) {
		e = -errno;
		unlinkat(images, tmp, 0);
	}
	close(images);
	if (e < 0)
		return setup_problem(r, e, "check " CHOS_IMAGES_NAME " under the root",
				     "image of \"%s\": %s/%s/%s: %s", name, r->root,
				     CHOS_IMAGES_NAME, name, strerror(-e));
	return setup_done(r, "image of \"%s\": %s/%s/%s leads to %s", name, r->root,
			  CHOS_IMAGES_NAME, name, gen);
}

/* One image: 0 when its generation is mounted (already, or now) at its mount point and is the
 * one its name leads to, else -errno, said. */
static int ensure_image(struct setup_run *r, const struct chos_env *env)
{
	char hex[CHOS_SHA256_HEX + 1], where[SETUP_PATH_MAX];
	char gen[CHOS_NAME_MAX + 2 + CHOS_IMAGE_GENERATION_HEX];
	struct chos_error err = { 0 };
	struct stat st;
	int fd = chos_open_trusted(env->path, 0, &err), mp, e, loop = -1;
	const char *step = "";

	if (fd < 0)
		return setup_problem(r, fd, IMAGE_FIX_TRUST,
				     "image of \"%s\" is refused, not mounted: %s", env->name,
				     err.message);
	if ((e = judge_image(r, env, fd, hex)) < 0 || (e = fstat(fd, &st) < 0 ? -errno : 0) < 0)
		return close(fd), e;
	chos_image_generation(env->name, hex, gen, sizeof(gen)); /* sized to fit */
	if ((mp = open_mount_point(r, gen, where)) < 0) {
		close(fd);
		return mp != -ENOENT ? mp /* said */
				     : setup_problem(r, mp, "run `chos setup`",
						     "image %s of \"%s\" is not mounted at %s/%s",
						     env->path, env->name, r->root, where);
	}
	if (chos_is_mount_root(mp) && shows_image(mp, &st))
		e = setup_note(r, "image %s of \"%s\" (sha256 %s) is mounted at %s/%s", env->path,
			       env->name, hex, r->root, where);
	else if (r->o->check)
		e = setup_problem(r, -ESTALE, "run `chos setup`",
				  "image %s of \"%s\" is %s at %s/%s", env->path, env->name,
				  chos_is_mount_root(mp) ? "replaced since it was mounted"
							 : "not mounted",
				  r->root, where);
	else if ((e = mount_image(r, env, gen, fd, &mp, &loop, &step)) < 0)
		e = setup_problem(r, e, "check the kernel log (dmesg)",
				  "image %s of \"%s\" at %s/%s: %s: %s", env->path, env->name,
				  r->root, where, step, strerror(-e));
	else
		e = setup_done(r, "mounted image %s of \"%s\" (sha256 %s, /dev/loop%d) at %s/%s",
			       env->path, env->name, hex, loop, r->root, where);
	if (e == 0 && r->backend == CHOS_BACKEND_KMOD) {
		/* A fresh handle: the one mounted on shows the directory under the image. */
		if (mp >= 0)
			close(mp);
		mp = open_mount_point(r, gen, where);
		e = mp < 0 ? mp : ensure_kmod_mirror(r, gen, mp);
	}
	if (e == 0)
		e = point_current(r, env->name, gen);
	if (mp >= 0)
		close(mp);
	close(fd);
	return e;
}

/* Listed as an image by the catalogue as loaded (refused ones included: their name still
 * leads to the generation mounted before). */
static bool listed_image(const struct setup_run *r, const char *name)
{
	for (size_t i = 0; i < r->image_count; i++)
		if (!strcmp(r->images[i], name))
			return true;
	return false;
}

/* True when a listed image's name leads to the generation gen. */
static bool current_generation(const struct setup_run *r, int images, const char *gen)
{
	char have[CHOS_NAME_MAX + 2 + CHOS_IMAGE_GENERATION_HEX];

	for (size_t i = 0; i < r->image_count; i++) {
		ssize_t n = readlinkat(images, r->images[i], have, sizeof(have));
		if (n > 0 && (size_t)n == strlen(gen) && !memcmp(have, gen, n))
			return true;
	}
	return false;
}

/* A symlink no listed image has (its entry removed or now a directory, or a rename left
 * half-done): removed, so chos_env_tree never follows it. */
static void drop_stale_name(struct setup_run *r, int images, const char *name)
{
	if (r->o->check) {
		setup_problem(r, -ESTALE, "run `chos setup`",
			      "%s/%s/%s: \"%s\" is no longer listed", r->root, CHOS_IMAGES_NAME,
			      name, name);
		return;
	}
	if (unlinkat(images, name, 0) == 0)
		setup_done(r, "removed %s/%s/%s: \"%s\" is no longer listed", r->root,
			   CHOS_IMAGES_NAME, name, name);
}

void setup_drop_stale_images(struct setup_run *r)
{
	int images = open_images(r, false), list;
	struct dirent *de;
	struct stat st;
	DIR *d;

	if (images < 0)
		return; /* no image mounted yet; a wrong kind there is open_mount_point's to say */
	list = openat(images, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (list < 0 || !(d = fdopendir(list))) {
		if (list >= 0)
			close(list);
		close(images);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(images, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode) && !listed_image(r, de->d_name))
			drop_stale_name(r, images, de->d_name);
		else if (S_ISDIR(st.st_mode) && !current_generation(r, images, de->d_name))
			drop_generation(r, images, de->d_name);
	}
	closedir(d);
	close(images);
}

void setup_images(struct setup_run *r, struct chos_catalogue *cat)
{
	/* Copies: refused entries leave cat below, and setup_drop_stale_images runs last. */
	if ((r->images = calloc(cat->count ? cat->count : 1, sizeof(*r->images))))
		for (size_t i = 0; i < cat->count; i++)
			if (cat->envs[i].image &&
			    (r->images[r->image_count] = strdup(cat->envs[i].name)))
				r->image_count++;
	for (size_t i = 0; i < cat->count;) {
		struct chos_env *env = &cat->envs[i];
		char tree[SETUP_PATH_MAX], *path;

		if (!env->image) {
			i++;
			continue;
		}
		if (ensure_image(r, env) < 0 ||
		    chos_env_tree(env, r->root, tree, sizeof(tree)) < 0 || !(path = strdup(tree))) {
			setup_drop_entry(cat, i);
			continue;
		}
		/* From here on the entry's tree is its mount point, like a directory's path. */
		free(env->path);
		env->path = path;
		env->image = CHOS_IMAGE_NONE;
		i++;
	}
}
