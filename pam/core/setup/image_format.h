/* SPDX-License-Identifier: BSD-3-Clause
 * What the per-format superblock readers (image_squashfs.c, image_erofs.c) share with the
 * dispatcher (image.c). Every field is read byte by byte, little-endian, whatever the host. */
#pragma once
#include "setup/image.h"

/* The little-endian unsigned integer of that many bytes (at most 8) at p. */
uint64_t image_le(const uint8_t *p, int bytes);

/* Reads the first len bytes of the image into buf: 0, or -EINVAL when the file is shorter (not
 * WHAT image, "a squashfs": err says so), or -errno. */
int image_read_head(int fd, uint8_t *buf, size_t len, const char *name, const char *what,
		    struct chos_error *err);

/* The file's length against the filesystem's (info's bytes_used and file_size): truncated is
 * -EIO; more than max_padding bytes after it is -EFBIG, naming the tool whose output it is not. */
int image_judge_length(const struct chos_image_info *info, uint64_t max_padding, const char *tool,
		       const char *name, struct chos_error *err);

/* Fill info from the superblock of the image at fd (its file_size is set): 0 or -errno. */
int image_inspect_squashfs(int fd, const char *name, struct chos_image_info *info,
			   struct chos_error *err);
int image_inspect_erofs(int fd, const char *name, struct chos_image_info *info,
			struct chos_error *err);
