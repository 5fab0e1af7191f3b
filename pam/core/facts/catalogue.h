/* SPDX-License-Identifier: BSD-3-Clause
 * The catalogue: /etc/chos in the seed's format. Lines `name:path` under `%SHELLS`; `#`
 * comments and blank lines anywhere; other sections (`%ENV`, ...) are ignored here. Names are
 * [A-Za-z0-9._-]+ (not "." or ".."), paths absolute. A malformed line is an error naming its
 * line number; duplicate names are an error. The name `default` is an ordinary entry that the
 * precedence uses as the site default.
 *
 * A path ending in one of the image suffixes (CHOS_IMAGE_SUFFIXES: .sqfs for squashfs, .erofs
 * for erofs) is an OS image (setup/image.h) rather than a directory: `chos setup` mounts it at its
 * mount point under ROOT (chos_env_tree), and that is the tree sessions enter. The suffix alone
 * decides the kind (chos_image_kind_of), and the kind decides everything after: the superblock
 * judged, the filesystem mounted, the one a session finds at the mount point. A path ends at
 * the first blank; after it come options, words of KEY=VALUE, of which there is one:
 * `sha256=HEX` (64 hex digits) pins an image's digest, which setup checks before mounting it.
 * Any other word, or a pin on a directory, is an error. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/error.h"
#include "common/sha256.h"

/* The catalogue file is small; this caps what a hostile or broken file can make us read. */
#define CHOS_CATALOGUE_MAX_BYTES (1u << 20)
#define CHOS_NAME_MAX 64
#define CHOS_SQUASHFS_SUFFIX ".sqfs"
#define CHOS_EROFS_SUFFIX ".erofs"
#define CHOS_IMAGE_SUFFIXES CHOS_SQUASHFS_SUFFIX " or " CHOS_EROFS_SUFFIX /* for messages */

/* What a catalogue path names; CHOS_IMAGE_NONE (a directory) is 0, so `if (env->image)` asks
 * whether it is an image at all. */
enum chos_image_kind {
	CHOS_IMAGE_NONE = 0,
	CHOS_IMAGE_SQUASHFS,
	CHOS_IMAGE_EROFS,
};

/* One kind of image, as the kernel knows it. */
struct chos_image_format {
	const char *suffix;  /* how a catalogue path names it */
	const char *fstype;  /* the filesystem's name for fsopen, and in messages */
	unsigned long magic; /* statfs's f_type on a mount of it (linux/magic.h) */
};

struct chos_env {
	char *name;
	char *path;		    /* the tree's directory, or the image file when image is set */
	enum chos_image_kind image; /* from the path's suffix (chos_image_kind_of) */
	bool pinned; /* sha256= was given: setup mounts only an image with that digest */
	uint8_t sha256[CHOS_SHA256_BYTES];
};

struct chos_catalogue {
	struct chos_env *envs;
	size_t count;
};

/* Parses text (len bytes, need not be NUL-terminated). Used by chos_catalogue_load and the
 * fuzzer. */
int chos_catalogue_parse(const char *text, size_t len, struct chos_catalogue *out,
			 struct chos_error *err);
/* Opens path with the trust rule (see trust.h flags), then parses it. */
int chos_catalogue_load(const char *path, unsigned trust_flags, struct chos_catalogue *out,
			struct chos_error *err);
const struct chos_env *chos_catalogue_find(const struct chos_catalogue *cat, const char *name);
/* True when entry i is the first to name its tree: `default` usually names another entry's,
 * and whatever is done once per tree (serving files, listing it for the module) skips repeats. */
bool chos_catalogue_first_of_tree(const struct chos_catalogue *cat, size_t i);
void chos_catalogue_free(struct chos_catalogue *cat);

/* The directory a session enters for env: its path, or for an image the mount point of its
 * current generation, ROOT/CHOS_IMAGES_NAME/NAME@GEN, as the symlink ROOT/CHOS_IMAGES_NAME/NAME
 * names it (layout.h). Without such a symlink (setup has not mounted the image, or it leads
 * anywhere else), ROOT/CHOS_IMAGES_NAME/NAME@, which is never a mount point: no image is found
 * there, and the session says so. 0, or -ENAMETOOLONG when it does not fit in size. */
int chos_env_tree(const struct chos_env *env, const char *root, char *buf, size_t size);
/* True when tree is env's, or for an image the mount point of any of its generations (a job's
 * view made before the image was replaced). */
bool chos_env_is_tree(const struct chos_env *env, const char *root, const char *tree);
/* The generation of image name whose digest is hex (its first CHOS_IMAGE_GENERATION_HEX
 * digits): NAME@GEN in buf. 0, or -ENAMETOOLONG. */
int chos_image_generation(const char *name, const char *hex, char *buf, size_t size);
/* True when s (len bytes) is a generation of image name, as chos_image_generation makes it. */
bool chos_is_image_generation(const char *name, const char *s, size_t len);

/* The kind of image a catalogue path (or a file `chos image` is given) names, by its suffix;
 * CHOS_IMAGE_NONE for any other path. */
enum chos_image_kind chos_image_kind_of(const char *path, size_t len);
/* The format of an image kind (not CHOS_IMAGE_NONE). */
const struct chos_image_format *chos_image_format(enum chos_image_kind kind);
/* True for a valid environment name: [A-Za-z0-9._-]+, at most CHOS_NAME_MAX, not "." or "..". */
bool chos_name_valid(const char *name, size_t len);
