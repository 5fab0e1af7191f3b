/* SPDX-License-Identifier: BSD-3-Clause
 * How `chos image build` shows mkfs.erofs the tree with the served paths replaced by stand-ins
 * (image.c says why they are): image_stage.c, and the mounts below the tree image_submounts.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct image_stage {
	int tree;		   /* the trusted tree (O_PATH) */
	const char *path;	   /* its path */
	const char *dir;	   /* an empty directory of root's, made for this build */
	const char *const *served; /* the served paths, relative, the last a directory */
	size_t n_served;
	unsigned long epoch; /* the stand-ins' time */
	bool epoch_given;    /* SOURCE_DATE_EPOCH set it, and stamps every file (-T) */
};

/* The served paths are the identity files and the site's configuration: ten, at most this. */
#define IMAGE_MAX_SERVED 16

/* The directory under stage->dir that mkfs.erofs reads: "tree". */
#define IMAGE_STAGE_TREE "tree"

/* Run in the child that then executes mkfs.erofs, as root: a private mount namespace in which
 * stage->dir/tree shows the tree with the stand-ins, and the filesystems mounted below the tree
 * as they are. 0, or -errno having said why on stderr. */
int image_stage_erofs(const struct image_stage *stage);

/* Binds onto the overlay open at staged the mounts below the tree, which lower opened in this
 * mount namespace (image_submounts.c): 0, or -errno having said why on stderr. */
int image_stage_submounts(const struct image_stage *stage, int lower, int staged);

/* Says on stderr that staging failed at what and path with e (-errno), and returns e. */
int image_stage_fail(const char *what, const char *path, int e);
