/* SPDX-License-Identifier: BSD-3-Clause
 * `chos setup`'s image step (setup_internal.h): every image of the catalogue (catalogue.h)
 * mounted read-only at its mount point, ROOT/.chos-images/NAME (layout.h), before anything is
 * served, so the rest of the run treats that mount point as the entry's tree.
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
 * fsopen of one loads its module. Whether the mount already there is
 * this image is told by the loop device's backing file (device and inode): a file replaced on
 * disk (renamed over, as install and cp --remove-destination do) is a new inode, and is mounted
 * fresh. The old mount is detached, not unmounted: sessions in a namespace made earlier hold
 * their copy of it, and its loop device, until they end. (With the kmod backend a session's
 * link is a path, resolved at every walk: it sees the new image.) An image rewritten in place
 * keeps its inode; its pinned digest is still checked at every run.
 *
 * kmod: a session's link is resolved inside ROOT, so the mount point must show the image at the
 * same path there too: ROOT/ROOT/.chos-images/NAME is a bind of the image's mount (kept in step
 * with it), into which setup then serves the files as for any tree seen through ROOT. A ROOT
 * under one of the OS directories (ROOT/var is the tree's) cannot hold that bind: a problem.
 *
 * An image the catalogue no longer lists leaves its mount behind: drop_stale_images says what
 * becomes of it on each backend. */
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

/* The handle of ROOT/.chos-images/NAME, made (0755) when missing unless --check. */
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
static int mount_image(struct setup_run *r, const struct chos_env *env, int image, int *mp,
		       int *loop, const char **step)
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
		*mp = e < 0 ? -1 : open_mount_point(r, env->name, where);
		if (*mp < 0 && e == 0)
			e = *mp;
	}
	if (e == 0 &&
	    move_mount(mnt, "", *mp, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		e = -errno;
	close(mnt);
	return e;
}

/* kmod: ROOT/ROOT/.chos-images/NAME shows the mount at mp (a bind of it, made or remade). */
static int ensure_kmod_mirror(struct setup_run *r, const struct chos_env *env, int mp)
{
	char where[SETUP_PATH_MAX];
	struct chos_beneath_fail fail;
	struct stat want, have;
	int rootfd, fd, e;

	if (snprintf(where, sizeof(where), "%s/%s/%s", r->root + 1, CHOS_IMAGES_NAME, env->name) >=
	    (int)sizeof(where))
		return setup_problem(r, -ENAMETOOLONG, "use a shorter --root", "%s: path too long",
				     r->root);
	if ((rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -errno; /* ensure_root says why */
	fd = chos_beneath_open(rootfd, where, S_IFDIR, !r->o->check, &fail);
	close(rootfd);
	if (fd < 0)
		return setup_problem(r, fd,
				     fail.found ? "choose a --root outside the OS directories"
						: "run `chos setup`",
				     "image of \"%s\" for the kmod backend: %s/%s: %s", env->name,
				     r->root, fail.path,
				     fail.found ? chos_beneath_kind(fail.found) : strerror(-fd));
	if (fstat(mp, &want) == 0 && fstat(fd, &have) == 0 && chos_is_mount_root(fd) &&
	    have.st_dev == want.st_dev && have.st_ino == want.st_ino)
		return close(fd), 0;
	if (r->o->check)
		return close(fd), setup_problem(r, -ENOENT, "run `chos setup`",
						"%s/%s does not show the image of \"%s\"", r->root,
						where, env->name);
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
				     "bind %s/%s/%s on %s/%s: %s", r->root, CHOS_IMAGES_NAME,
				     env->name, r->root, where, strerror(-e));
	return setup_done(r, "bound the image of \"%s\" on %s/%s", env->name, r->root, where);
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

/* One image: 0 when it is mounted (already, or now) at its mount point, else -errno, said. */
static int ensure_image(struct setup_run *r, const struct chos_env *env)
{
	char hex[CHOS_SHA256_HEX + 1], where[SETUP_PATH_MAX];
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
	if ((mp = open_mount_point(r, env->name, where)) < 0) {
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
	else if ((e = mount_image(r, env, fd, &mp, &loop, &step)) < 0)
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
		mp = open_mount_point(r, env->name, where);
		e = mp < 0 ? mp : ensure_kmod_mirror(r, env, mp);
	}
	if (mp >= 0)
		close(mp);
	close(fd);
	return e;
}

/* Listed as an image (asked before setup_images turns the entries into mount points). */
static bool listed_image(const struct chos_catalogue *cat, const char *name)
{
	const struct chos_env *e = chos_catalogue_find(cat, name);

	return e && e->image;
}

/* One name under ROOT/.chos-images that the catalogue no longer lists as an image. */
static void drop_stale_image(struct setup_run *r, int images, const char *name)
{
	char where[SETUP_PATH_MAX];
	int fd = openat(images, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), e;

	snprintf(where, sizeof(where), "%s/%s/%s", r->root, CHOS_IMAGES_NAME, name);
	if (fd < 0)
		return; /* not a directory: not a mount point setup made */
	if (!chos_is_mount_root(fd)) {
		/* An empty mount point (its image was refused, then unlisted): rmdir keeps
		 * anything else. */
		close(fd);
		if (!r->o->check && unlinkat(images, name, AT_REMOVEDIR) == 0)
			setup_done(r, "removed mount point %s: \"%s\" is no longer listed", where,
				   name);
		return;
	}
	if (r->backend == CHOS_BACKEND_KMOD) {
		close(fd);
		setup_note(r,
			   "image mount %s: \"%s\" is no longer listed; kept, since kmod sessions "
			   "resolve their link through it: `umount -l` it (and %s%s) once none "
			   "runs",
			   where, name, r->root, where);
		return;
	}
	if (r->o->check) {
		close(fd);
		setup_problem(r, -ESTALE, "run `chos setup`",
			      "image mount %s: \"%s\" is no longer listed", where, name);
		return;
	}
	e = chos_detach_at(fd);
	close(fd);
	if (e == 0 && unlinkat(images, name, AT_REMOVEDIR) < 0)
		e = -errno;
	if (e < 0)
		setup_problem(r, e, "check the mounts on it", "image mount %s: %s", where,
			      strerror(-e));
	else
		setup_done(r, "detached image mount %s: \"%s\" is no longer listed", where, name);
}

/* Mounts of images the catalogue no longer lists (the entry removed, or a directory now). The
 * namespace backend: detached, as a replaced image's is (sessions made earlier keep their copy,
 * and its loop device until they end), and the mount point removed. kmod: a session's link is
 * a path resolved at every walk, so detaching would take the tree from running sessions: kept,
 * and said. */
static void drop_stale_images(struct setup_run *r, const struct chos_catalogue *cat)
{
	struct chos_beneath_fail fail;
	int rootfd = open(r->root, O_PATH | O_DIRECTORY | O_CLOEXEC), images, list;
	struct dirent *de;
	DIR *d;

	if (rootfd < 0)
		return; /* ensure_root says why */
	images = chos_beneath_open(rootfd, CHOS_IMAGES_NAME, S_IFDIR, 0, &fail);
	close(rootfd);
	if (images < 0)
		return; /* no image mounted yet; a wrong kind there is open_mount_point's to say */
	list = openat(images, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (list < 0 || !(d = fdopendir(list))) {
		if (list >= 0)
			close(list);
		close(images);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    !listed_image(cat, de->d_name))
			drop_stale_image(r, images, de->d_name);
	closedir(d);
	close(images);
}

void setup_images(struct setup_run *r, struct chos_catalogue *cat)
{
	drop_stale_images(r, cat);
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
