/* SPDX-License-Identifier: BSD-3-Clause
 * `chos image build DIR -o FILE.sqfs` and `chos image check FILE [--sha256 HEX]`: the admin's
 * OS images (pam/core/setup/image.h).
 *
 * build packs the tree with Debian's mksquashfs (squashfs-tools), zstd, and reproducibly: the
 * same tree gives the same bytes. mksquashfs orders entries itself and stamps only the build
 * time, which is fixed here: SOURCE_DATE_EPOCH when the caller sets it (mksquashfs reads it and
 * refuses a second source of times), else 0. The files `chos setup` serves from the host (the
 * identity files and the site's /etc/chos and /etc/chos.d) are left out, and an empty file or
 * directory stands in their place: a read-only image cannot take a mount point later. The tree
 * must pass the trust rule an environment passes at login (an image of a tree a user can write
 * would launder it). The image is written next to FILE and renamed over it once whole, so a
 * mounted image keeps its old file. It prints the size and the SHA-256 to pin in the catalogue.
 *
 * check judges the file with the trust rule, its superblock (chos_image_inspect), and every
 * metadata block (unsquashfs lists the whole tree, decompressing each), prints the same line,
 * and with --sha256 compares the digest: squashfs has no checksum of its data, so only a pinned
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
#include "setup/image.h"

static int usage(const char *what)
{
	fprintf(stderr,
		"chos image: %s\n"
		"usage: chos image build DIR -o FILE%s\n"
		"       chos image check FILE [--sha256 HEX]\n",
		what, CHOS_IMAGE_SUFFIX);
	return 2;
}

/* Non-root callers judge their own files: the owner check is root's. */
static unsigned trust_flags(void)
{
	return geteuid() == 0 ? 0 : CHOS_TRUST_ANY_OWNER;
}

/* Runs argv with stdin from /dev/null and stdout to /dev/null (quiet) or to stderr; keeps fd
 * keep (when >= 0) open in the child as fd 3. Returns the exit status, or -errno. */
static int run(char *const argv[], int keep, int quiet)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(quiet ? null : 2, 1) < 0 ||
		    (keep >= 0 && dup2(keep, 3) < 0))
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

/* The line build and check print: what the image is, its size and its digest. */
static int describe(int fd, const char *file, uint8_t digest[CHOS_SHA256_BYTES])
{
	struct chos_image_info info;
	struct chos_error err = { 0 };
	char hex[CHOS_SHA256_HEX + 1];

	if (chos_image_inspect(fd, file, &info, &err) < 0 ||
	    chos_image_digest(fd, file, digest, &err) < 0) {
		fprintf(stderr, "chos image: %s\n", err.message);
		return -1;
	}
	chos_sha256_hex(digest, hex);
	printf("%s: squashfs %s, %u inodes, %llu bytes, sha256 %s\n", file, info.compression,
	       (unsigned)info.inodes, (unsigned long long)info.file_size, hex);
	return 0;
}

/* What `chos setup` serves in every tree: the identity files, then the site's configuration
 * (the last one a directory). n_served() of them; each gets a stand-in in the image. */
static const char *served(size_t i)
{
	size_t n = 0;

	while (CHOS_HOST_FILES[n])
		n++;
	return i < n ? CHOS_HOST_FILES[i] : i == n ? CHOS_SERVED_CATALOGUE : CHOS_SERVED_POLICY_DIR;
}

static size_t n_served(void)
{
	size_t n = 0;

	while (CHOS_HOST_FILES[n])
		n++;
	return n + 2;
}

#define MAX_SERVED 16

/* Appends "-p DEFINITION" for every served path's stand-in (an empty root-owned file, or
 * directory, stamped with the build time), then "-e PATH..." last: mksquashfs takes the rest
 * of its command line as the paths to leave out. */
static int add_stand_ins(char **argv, int argc, char defs[MAX_SERVED][96], unsigned long epoch)
{
	size_t n = n_served();

	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n)
			snprintf(defs[i], sizeof(defs[i]), "%s F %lu 0644 0 0 true", served(i),
				 epoch);
		else
			snprintf(defs[i], sizeof(defs[i]), "%s D %lu 0755 0 0", served(i), epoch);
		argv[argc++] = "-p";
		argv[argc++] = defs[i];
	}
	argv[argc++] = "-e";
	for (size_t i = 0; i < n; i++)
		argv[argc++] = (char *)served(i);
	return argc;
}

static int build(const char *dir, const char *file)
{
	char tmp[4096], *argv[16 + 3 * MAX_SERVED], defs[MAX_SERVED][96];
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char epoch_arg[24];
	unsigned long epoch = 0;
	struct chos_error err = { 0 };
	uint8_t digest[CHOS_SHA256_BYTES];
	int fd, argc = 0, status;

	if (sde) {
		char *end;
		errno = 0;
		epoch = strtoul(sde, &end, 10);
		if (!*sde || *end || errno || epoch > UINT32_MAX)
			return usage("SOURCE_DATE_EPOCH must be seconds since 1970 (32 bits)");
	}
	fd = chos_open_trusted_dir(dir, trust_flags(), &err);
	if (fd < 0) {
		fprintf(stderr, "chos image: tree %s\n", err.message);
		return 1;
	}
	close(fd);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-%d", file, (int)getpid()) >= (int)sizeof(tmp))
		return usage("FILE is too long");
	snprintf(epoch_arg, sizeof(epoch_arg), "%lu", epoch);
	argv[argc++] = "mksquashfs";
	argv[argc++] = (char *)dir;
	argv[argc++] = tmp;
	argv[argc++] = "-noappend";
	argv[argc++] = "-comp";
	argv[argc++] = CHOS_IMAGE_COMPRESSION;
	argv[argc++] = "-no-progress";
	argv[argc++] = "-quiet";
	if (!sde) {
		argv[argc++] = "-mkfs-time";
		argv[argc++] = epoch_arg;
	}
	argc = add_stand_ins(argv, argc, defs, epoch);
	argv[argc] = NULL;
	status = run(argv, -1, 0);
	if (status != 0) {
		fprintf(stderr, "chos image: mksquashfs failed (%s %d)\n",
			status < 0 ? "error" : "status", status < 0 ? -status : status);
		unlink(tmp);
		return 1;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, 0644) < 0 || rename(tmp, file) < 0) {
		fprintf(stderr, "chos image: %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
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
	char proc_path[32];
	char *argv[] = { "unsquashfs", "-no-progress", "-lls", proc_path, NULL };
	int fd = chos_open_trusted(file, trust_flags(), &err), status;

	if (fd < 0) {
		fprintf(stderr, "chos image: %s\n", err.message);
		return 1;
	}
	if (describe(fd, file, digest) < 0) {
		close(fd);
		return 1;
	}
	/* The descriptor judged above, not the path again: fd 3 in unsquashfs. */
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/3");
	status = run(argv, fd, 1);
	close(fd);
	if (status != 0) {
		fprintf(stderr,
			"chos image: %s: its metadata does not decompress (unsquashfs "
			"status %d): corrupt image\n",
			file, status);
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
