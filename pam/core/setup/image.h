/* SPDX-License-Identifier: BSD-3-Clause
 * OS images: a tree packed in one squashfs file (mksquashfs, `chos image build`), which `chos
 * setup` will loop-mount read-only. squashfs keeps no checksum of its data, so a file's
 * integrity is its SHA-256 over every byte; what can be judged without trusting the kernel's
 * parser is the superblock: the kernel mounts only what chos_image_inspect accepts.
 *
 * The superblock (squashfs 4.0, the only version Linux mounts) is 96 little-endian bytes at
 * offset 0; the tables it points to all lie before bytes_used, and mksquashfs pads the file
 * with zeros to a multiple of 4 KiB after that. */
#pragma once
#include "common/error.h"
#include "facts/catalogue.h"
#include "common/sha256.h"
#include <stdint.h>
#include <sys/types.h>

/* The compressor `chos image build` asks for; every Debian kernel mounts it. */
#define CHOS_IMAGE_COMPRESSION "zstd"

struct chos_image_info {
	uint64_t bytes_used; /* the filesystem's length; the file may be up to 4 KiB longer */
	uint64_t file_size;
	uint32_t inodes;
	uint32_t block_size;
	const char *compression; /* "zstd", "gzip", ... (static) */
};

/* Reads and judges the superblock of the image open at fd, and its size against the file's:
 * 0, or -EINVAL (not a squashfs 4.0 image, or a superblock whose fields disagree), -EFBIG (a
 * file longer than the filesystem and its padding) or -EIO (shorter: truncated, or a read
 * failed), with err saying which field. name is the path, for messages. */
int chos_image_inspect(int fd, const char *name, struct chos_image_info *info,
		       struct chos_error *err);
/* The SHA-256 of every byte of the file open at fd: 0 or -errno. */
int chos_image_digest(int fd, const char *name, uint8_t digest[CHOS_SHA256_BYTES],
		      struct chos_error *err);
