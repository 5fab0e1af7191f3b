/* SPDX-License-Identifier: BSD-3-Clause
 * The filesystems mounted below the tree, laid over the overlay mkfs.erofs reads (image_stage.h).
 * mksquashfs walks the tree with readdir and stat, so it packs whatever is mounted below it. An
 * overlay shows its lower directory's own filesystem alone: overlayfs looks names up in that one
 * superblock, even when the lower layer is a recursive bind of the tree. So each mount below the
 * tree is bound again onto its path in the overlay, once the stand-ins are made, and mkfs.erofs
 * reads what mksquashfs reads.
 *
 * The mounts are those /proc/self/mountinfo lists below the tree's path. Only the outermost are
 * bound: a recursive bind brings the mounts below it along as the path shows them (of two
 * stacked on one place the top one, and nothing a mount hides). A mount at or below a served
 * path stays under its stand-in, as mksquashfs leaves that path out (-e). A mount above one (the
 * tree's etc a filesystem of its own) is refused: the stand-in would have to be made in it, and
 * the tree is never written. */
#include "image_stage.h"
#include "common/beneath.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when path is dir or lies below it (both relative to the tree, or both absolute). */
static bool within(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* The mount point of a mountinfo line (its fifth field, with the kernel's \ooo escapes of space,
 * tab, newline and backslash undone), in place; NULL when the line has none. */
static char *mount_point(char *line)
{
	char *p = line, *out;

	for (int field = 0; field < 4 && p; field++)
		if ((p = strchr(p, ' ')))
			p++;
	if (!p)
		return NULL;
	p[strcspn(p, " \n")] = '\0';
	out = p;
	for (char *in = p; *in; out++)
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out = (char)((in[1] - '0') << 6 | (in[2] - '0') << 3 | (in[3] - '0'));
			in += 4;
		} else {
			*out = *in++;
		}
	*out = '\0';
	return p;
}

/* The mounts strictly below the absolute path tree, as paths relative to it, into a list of n
 * (each entry and the list malloc'd), leaving out the staging tmpfs at staging (FILE may lie in
 * the tree): 0 or -errno. */
static int list_mounts(const char *tree, const char *staging, char ***list, size_t *n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	size_t len = strlen(tree), cap = 0, size = 0;
	char *line = NULL, *mp;
	int e = 0;

	*list = NULL;
	*n = 0;
	if (!f)
		return -errno;
	while (getline(&line, &size, f) >= 0) {
		const char *rel;
		if (!(mp = mount_point(line)) || within(mp, staging))
			continue;
		if (len == 1) /* the tree is / */
			rel = mp + 1;
		else if (strncmp(mp, tree, len) == 0 && mp[len] == '/')
			rel = mp + len + 1;
		else
			continue;
		if (!*rel)
			continue;
		if (*n == cap) {
			char **grown = realloc(*list, (cap * 2 + 8) * sizeof(**list));
			if (!grown) {
				e = -ENOMEM;
				break;
			}
			*list = grown;
			cap = cap * 2 + 8;
		}
		if (!((*list)[*n] = strdup(rel))) {
			e = -ENOMEM;
			break;
		}
		(*n)++;
	}
	free(line);
	fclose(f);
	return e;
}

/* An O_PATH handle on rel beneath dir, of whatever kind: its directories walked without
 * following a symlink (beneath.h), the mount on its last component followed as a path would. */
static int open_beneath(int dir, const char *rel)
{
	struct chos_beneath_fail fail;
	const char *slash = strrchr(rel, '/');
	char parent[CHOS_BENEATH_PATH_MAX];
	int at = dir, fd;

	if (slash) {
		if ((size_t)(slash - rel) >= sizeof(parent))
			return -ENAMETOOLONG;
		snprintf(parent, sizeof(parent), "%.*s", (int)(slash - rel), rel);
		if ((at = chos_beneath_open(dir, parent, S_IFDIR, 0, &fail)) < 0)
			return at;
	}
	fd = openat(at, slash ? slash + 1 : rel, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	if (at != dir)
		close(at);
	return fd;
}

/* What becomes of the i-th mount of the list of n: 1 bind it, 0 leave it (under a served path,
 * below another mount of the list, or on the place of an earlier one), or -EBUSY having said why
 * (above a served path). */
static int judge(const struct image_stage *stage, char **list, size_t n, size_t i)
{
	const char *rel = list[i];

	for (size_t s = 0; s < stage->n_served; s++) {
		if (within(rel, stage->served[s]))
			return 0;
		if (within(stage->served[s], rel)) {
			fprintf(stderr,
				"chos image: staging the tree for mkfs.erofs: %s is a mount of its "
				"own, so the stand-in for %s would have to be made in it (copy it "
				"into the tree, or build a squashfs)\n",
				rel, stage->served[s]);
			return -EBUSY;
		}
	}
	for (size_t j = 0; j < n; j++)
		if (j != i && within(rel, list[j]) && (j < i || strcmp(rel, list[j]) != 0))
			return 0;
	return 1;
}

/* The mount at rel beneath the tree (lower), and every mount below it, bound onto rel in the
 * overlay (staged). Read-only, nosuid and nodev: mkfs.erofs only reads it. */
static int bind_over(int lower, int staged, const char *rel)
{
	int src = open_beneath(lower, rel), target, e;

	if (src < 0)
		return image_stage_fail("opening the mount at", rel, src);
	if ((target = open_beneath(staged, rel)) < 0) {
		close(src);
		return image_stage_fail("opening in the overlay the mount point", rel, target);
	}
	e = chos_bind_at(src, "", target, CHOS_BIND_RECURSIVE | CHOS_BIND_READ_ONLY);
	close(target);
	close(src);
	return e < 0 ? image_stage_fail("binding onto the overlay the mount at", rel, e) : 0;
}

int image_stage_submounts(const struct image_stage *stage, int lower, int staged)
{
	char proc[32]; /* "/proc/self/fd/" and an int */
	char tree[PATH_MAX], staging[PATH_MAX];
	char **list;
	size_t n;
	ssize_t len;
	int e;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", lower);
	if ((len = readlink(proc, tree, sizeof(tree))) < 0 || (size_t)len == sizeof(tree))
		return image_stage_fail("finding the real path of", stage->path,
					len < 0 ? -errno : -ENAMETOOLONG);
	tree[len] = '\0';
	if (!realpath(stage->dir, staging))
		return image_stage_fail("finding the real path of", stage->dir, -errno);
	if ((e = list_mounts(tree, staging, &list, &n)) < 0)
		return image_stage_fail("reading the mounts below", stage->path, e);
	for (size_t i = 0; i < n && e == 0; i++)
		if ((e = judge(stage, list, n, i)) > 0)
			e = bind_over(lower, staged, list[i]);
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
	return e;
}
