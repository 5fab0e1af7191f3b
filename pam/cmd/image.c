/* SPDX-License-Identifier: BSD-3-Clause
 * `chos image build DIR -o FILE.sqfs|FILE.erofs` and `chos image check FILE [--sha256 HEX]`:
 * the admin's OS images (pam/core/setup/image.h). FILE's suffix says which filesystem, as it
 * does in the catalogue (catalogue.h).
 *
 * build packs the tree reproducibly: the same tree gives the same bytes. The files `chos setup`
 * serves from the host (the identity files and the site's /etc/chos and /etc/chos.d) are left
 * out, and an empty file or directory stands in their place: a read-only image cannot take a
 * mount point later. The tree must pass the trust rule an environment passes at login (an image
 * of a tree a user can write would launder it). The image is written next to FILE and renamed
 * over it once whole, so a mounted image keeps its old file. It prints the size and the SHA-256
 * to pin in the catalogue.
 * - squashfs: Debian's mksquashfs (squashfs-tools), zstd. mksquashfs orders entries itself and
 *   stamps only the build time, which is fixed here: SOURCE_DATE_EPOCH when the caller sets it
 *   (mksquashfs reads it, stamps every file with it, and refuses a second source of times),
 *   else 0. The stand-ins are pseudo files on its command line (-p).
 * - erofs: Debian's mkfs.erofs (erofs-utils 1.5), lz4hc at its highest level (Debian 12's kernel
 *   decompresses lz4 only: CONFIG_EROFS_FS_ZIP_LZMA is off, and erofs-utils 1.5 has no other),
 *   in physical clusters of 64 KiB (the trixie test tree packs 12% smaller than in 4 KiB ones;
 *   metadata is never compressed, so lookups do not pay for it), with no UUID (an all-zero
 *   one: a random one would change every build) and times fixed (image_stage.c). mkfs.erofs
 *   takes no stand-ins, so it reads the tree through an overlay that has them (image_stage.c),
 *   which needs root, with the mounts below the tree bound over it (image_submounts.c): both
 *   kinds pack what mksquashfs reads through. mkfs.erofs sorts each directory's entries
 *   itself, and leaves out names that begin with "lost+found".
 *
 * check judges the file with the trust rule, its superblock (chos_image_inspect), and then the
 * filesystem's own checker: unsquashfs lists the whole tree, decompressing every metadata block;
 * fsck.erofs walks every inode and decompresses every file's data. It prints the same line, and
 * with --sha256 compares the digest: neither format has a checksum of its data, so only a pinned
 * digest proves every byte. Exit status: 0 good, 1 refused or failed, 2 misuse. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "commands.h"
#include "common/layout.h"
#include "common/trust.h"
#include "image_stage.h"
#include "setup/image.h"

#define EROFS_CLUSTER "65536"

static int usage(const char *what)
{
	fprintf(stderr,
		"chos image: %s\n"
		"usage: chos image build DIR -o FILE%s|FILE%s\n"
		"       chos image check FILE [--sha256 HEX]\n",
		what, CHOS_SQUASHFS_SUFFIX, CHOS_EROFS_SUFFIX);
	return 2;
}

/* Non-root callers judge their own files: the owner check is root's. */
static unsigned trust_flags(void)
{
	return geteuid() == 0 ? 0 : CHOS_TRUST_ANY_OWNER;
}

/* Runs argv with stdin from /dev/null and stdout to /dev/null (quiet) or to stderr; keeps fd
 * keep (when >= 0) open in the child as fd 3; calls stage (when set) in the child before the
 * program. Returns the exit status, or -errno. */
static int run(char *const argv[], int keep, int quiet, const struct image_stage *stage)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(quiet ? null : 2, 1) < 0 ||
		    (keep >= 0 && dup2(keep, 3) < 0) || (stage && image_stage_erofs(stage) < 0))
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "chos image: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The kind FILE's suffix names, or CHOS_IMAGE_NONE. */
static enum chos_image_kind kind_of(const char *file)
{
	return chos_image_kind_of(file, strlen(file));
}

/* The line build and check print: what the image is, its size and its digest. */
static int describe(int fd, const char *file, uint8_t digest[CHOS_SHA256_BYTES])
{
	struct chos_image_info info;
	struct chos_error err = { 0 };
	char hex[CHOS_SHA256_HEX + 1];

	if (chos_image_inspect(fd, kind_of(file), file, &info, &err) < 0 ||
	    chos_image_digest(fd, file, digest, &err) < 0) {
		fprintf(stderr, "chos image: %s\n", err.message);
		return -1;
	}
	chos_sha256_hex(digest, hex);
	printf("%s: %s %s, %llu inodes, %llu bytes, sha256 %s\n", file, info.filesystem,
	       info.compression, (unsigned long long)info.inodes,
	       (unsigned long long)info.file_size, hex);
	return 0;
}

/* What `chos setup` serves in every tree: the identity files, then the site's configuration
 * (the last one a directory), into paths; how many. Each gets a stand-in in the image. */
static size_t served_paths(const char *paths[IMAGE_MAX_SERVED])
{
	size_t n = 0;

	for (size_t i = 0; CHOS_HOST_FILES[i] && n < IMAGE_MAX_SERVED - 2; i++)
		paths[n++] = CHOS_HOST_FILES[i];
	paths[n++] = CHOS_SERVED_CATALOGUE;
	paths[n++] = CHOS_SERVED_POLICY_DIR;
	return n;
}

/* One build: the tree, where the image goes while it is made, and the stand-ins. */
struct build {
	const char *dir;
	char tmp[4096];
	int tree; /* the trusted tree, O_PATH */
	const char *served[IMAGE_MAX_SERVED];
	size_t n_served;
	unsigned long epoch; /* the stand-ins' time */
	bool epoch_given;    /* from SOURCE_DATE_EPOCH */
};

/* Appends "-p DEFINITION" for every served path's stand-in (an empty root-owned file, or
 * directory, stamped with the build time), then "-wildcards -e PATH..." last: mksquashfs takes
 * the rest of its command line as the paths to leave out. -wildcards makes it match them as
 * paths from the tree's top: a plain -e leaves out files by their inode, and so every other
 * name hard-linked to a served file too. The served paths hold no wildcard character. */
static int add_stand_ins(char **argv, int argc, char defs[IMAGE_MAX_SERVED][96],
			 const struct build *b)
{
	for (size_t i = 0; i < b->n_served; i++) {
		if (i + 1 < b->n_served)
			snprintf(defs[i], sizeof(defs[i]), "%s F %lu 0644 0 0 true", b->served[i],
				 b->epoch);
		else
			snprintf(defs[i], sizeof(defs[i]), "%s D %lu 0755 0 0", b->served[i],
				 b->epoch);
		argv[argc++] = "-p";
		argv[argc++] = defs[i];
	}
	argv[argc++] = "-wildcards";
	argv[argc++] = "-e";
	for (size_t i = 0; i < b->n_served; i++)
		argv[argc++] = (char *)b->served[i];
	return argc;
}

static int build_squashfs(const struct build *b)
{
	char *argv[16 + 3 * IMAGE_MAX_SERVED], defs[IMAGE_MAX_SERVED][96], epoch_arg[24];
	int argc = 0;

	snprintf(epoch_arg, sizeof(epoch_arg), "%lu", b->epoch);
	argv[argc++] = "mksquashfs";
	argv[argc++] = (char *)b->dir;
	argv[argc++] = (char *)b->tmp;
	argv[argc++] = "-noappend";
	argv[argc++] = "-comp";
	argv[argc++] = "zstd";
	argv[argc++] = "-no-progress";
	argv[argc++] = "-quiet";
	if (!b->epoch_given) {
		argv[argc++] = "-mkfs-time";
		argv[argc++] = epoch_arg;
	}
	argc = add_stand_ins(argv, argc, defs, b);
	argv[argc] = NULL;
	return run(argv, -1, 0, NULL);
}

static int build_erofs(const struct build *b)
{
	char stage_dir[sizeof(b->tmp) + 2], source[sizeof(stage_dir) + sizeof(IMAGE_STAGE_TREE)];
	char epoch_arg[24], *argv[16];
	struct image_stage stage = { .tree = b->tree,
				     .path = b->dir,
				     .dir = stage_dir,
				     .served = b->served,
				     .n_served = b->n_served,
				     .epoch = b->epoch,
				     .epoch_given = b->epoch_given };
	int argc = 0, status;

	snprintf(stage_dir, sizeof(stage_dir), "%s.d", b->tmp);
	snprintf(source, sizeof(source), "%s/%s", stage_dir, IMAGE_STAGE_TREE);
	snprintf(epoch_arg, sizeof(epoch_arg), "%lu", b->epoch);
	argv[argc++] = "mkfs.erofs";
	argv[argc++] = "--quiet";
	argv[argc++] = "-zlz4hc,12";
	argv[argc++] = "-C" EROFS_CLUSTER;
	argv[argc++] = "-U";
	argv[argc++] = "00000000-0000-0000-0000-000000000000";
	if (b->epoch_given) {
		argv[argc++] = "-T";
		argv[argc++] = epoch_arg;
	}
	argv[argc++] = (char *)b->tmp;
	argv[argc++] = source;
	argv[argc] = NULL;
	if (mkdir(stage_dir, 0700) < 0)
		return -errno;
	status = run(argv, -1, 0, &stage);
	rmdir(stage_dir); /* empty again: the tmpfs went with the child's mount namespace */
	return status;
}

static int build(const char *dir, const char *file)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	enum chos_image_kind kind = kind_of(file);
	struct chos_error err = { 0 };
	uint8_t digest[CHOS_SHA256_BYTES];
	struct build b = { .dir = dir, .epoch_given = sde != NULL };
	int fd, status;

	b.n_served = served_paths(b.served);
	if (!kind)
		return usage("FILE must end in " CHOS_IMAGE_SUFFIXES);
	if (kind == CHOS_IMAGE_EROFS && geteuid() != 0) {
		fprintf(stderr, "chos image: an erofs image is built as root: mkfs.erofs reads the "
				"tree through an overlay that holds the stand-ins\n");
		return 1;
	}
	if (sde) {
		char *end;
		errno = 0;
		b.epoch = strtoul(sde, &end, 10);
		if (!*sde || *end || errno || b.epoch > UINT32_MAX)
			return usage("SOURCE_DATE_EPOCH must be seconds since 1970 (32 bits)");
	}
	b.tree = chos_open_trusted_dir(dir, trust_flags(), &err);
	if (b.tree < 0) {
		fprintf(stderr, "chos image: tree %s\n", err.message);
		return 1;
	}
	if (snprintf(b.tmp, sizeof(b.tmp), "%s.tmp-%d", file, (int)getpid()) >=
	    (int)sizeof(b.tmp)) {
		close(b.tree);
		return usage("FILE is too long");
	}
	status = kind == CHOS_IMAGE_EROFS ? build_erofs(&b) : build_squashfs(&b);
	close(b.tree);
	if (status != 0) {
		fprintf(stderr, "chos image: %s failed (%s %d)\n",
			kind == CHOS_IMAGE_EROFS ? "mkfs.erofs" : "mksquashfs",
			status < 0 ? "error" : "status", status < 0 ? -status : status);
		unlink(b.tmp);
		return 1;
	}
	fd = open(b.tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, 0644) < 0 || rename(b.tmp, file) < 0) {
		fprintf(stderr, "chos image: %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(b.tmp);
		return 1;
	}
	status = describe(fd, file, digest);
	close(fd);
	return status < 0 ? 1 : 0;
}

/* 0 when hex is CHOS_SHA256_HEX hex digits naming digest (either case), else 1. */
static int digest_differs(const char *hex, const uint8_t digest[CHOS_SHA256_BYTES])
{
	char have[CHOS_SHA256_HEX + 1];

	chos_sha256_hex(digest, have);
	return strlen(hex) != CHOS_SHA256_HEX || strcasecmp(hex, have) != 0;
}

static int check(const char *file, const char *pinned)
{
	struct chos_error err = { 0 };
	uint8_t digest[CHOS_SHA256_BYTES];
	/* The descriptor judged below, not the path again: fd 3 in the checker. */
	char proc_path[] = "/proc/self/fd/3";
	char *unsquashfs[] = { "unsquashfs", "-no-progress", "-lls", proc_path, NULL };
	char *fsck_erofs[] = { "fsck.erofs", proc_path, NULL };
	enum chos_image_kind kind = kind_of(file);
	char *const *checker = kind == CHOS_IMAGE_EROFS ? fsck_erofs : unsquashfs;
	int fd, status;

	if (!kind)
		return usage("FILE must end in " CHOS_IMAGE_SUFFIXES);
	if ((fd = chos_open_trusted(file, trust_flags(), &err)) < 0) {
		fprintf(stderr, "chos image: %s\n", err.message);
		return 1;
	}
	if (describe(fd, file, digest) < 0) {
		close(fd);
		return 1;
	}
	status = run(checker, fd, 1, NULL);
	close(fd);
	if (status != 0) {
		fprintf(stderr,
			"chos image: %s: its %s does not decompress (%s status %d): corrupt "
			"image\n",
			file, kind == CHOS_IMAGE_EROFS ? "metadata or data" : "metadata",
			checker[0], status);
		return 1;
	}
	if (pinned && digest_differs(pinned, digest)) {
		fprintf(stderr, "chos image: %s: sha256 differs from the pinned %s\n", file,
			pinned);
		return 1;
	}
	printf("%s: good%s\n", file, pinned ? ", sha256 as pinned" : "");
	return 0;
}

int chos_cmd_image(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "build") && !strcmp(argv[3], "-o")) {
		if (argv[2][0] != '/' || argv[4][0] != '/')
			return usage("paths must be absolute");
		return build(argv[2], argv[4]);
	}
	if ((argc == 3 || argc == 5) && !strcmp(argv[1], "check")) {
		if (argv[2][0] != '/')
			return usage("paths must be absolute");
		if (argc == 3)
			return check(argv[2], NULL);
		if (!strcmp(argv[3], "--sha256"))
			return check(argv[2], argv[4]);
	}
	return usage(argc < 2 ? "missing subcommand" : "bad arguments");
}
