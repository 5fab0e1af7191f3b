/* SPDX-License-Identifier: BSD-3-Clause
 * OS images: a tree packed in one read-only filesystem file, squashfs (mksquashfs) or erofs
 * (mkfs.erofs), made by `chos image build`, which `chos setup` will loop-mount read-only. The
 * catalogue path's suffix says which (catalogue.h). Neither format keeps a checksum of its data,
 * so a file's integrity is its SHA-256 over every byte; what can be judged without trusting the
 * kernel's parser is the superblock: the kernel mounts only what chos_image_inspect accepts.
 *
 * squashfs (image_squashfs.c): version 4.0, the only one Linux mounts; a 96-byte superblock at
 * offset 0 whose tables all lie before bytes_used; mksquashfs pads the file with zeros to a
 * multiple of 4 KiB after that. erofs (image_erofs.c): a 128-byte superblock at offset 1024 in
 * the first 4 KiB block, with a CRC32C of that block; the file is exactly its blocks. */
#pragma once
#include "common/error.h"
#include "facts/catalogue.h"
#include "common/sha256.h"
#include <stdint.h>
#include <sys/types.h>

struct chos_image_info {
	const char *filesystem; /* "squashfs", "erofs" (static) */
	char compression[32];	/* "zstd", "lz4", ... ("+" between several) */
	uint64_t
		bytes_used; /* the filesystem's length; a squashfs file may be up to 4 KiB longer */
	uint64_t file_size;
	uint64_t inodes;
	uint32_t block_size;
};

/* Reads and judges the superblock of the image of that kind open at fd, and its size against
 * the file's: 0, or -EINVAL (not such an image, or a superblock whose fields disagree or that
 * Linux would refuse), -EFBIG (a file longer than the filesystem and its padding) or -EIO
 * (shorter: truncated, or a read failed), with err saying which field. name is the path, for
 * messages. */
int chos_image_inspect(int fd, enum chos_image_kind kind, const char *name,
		       struct chos_image_info *info, struct chos_error *err);
/* The SHA-256 of every byte of the file open at fd: 0 or -errno. */
int chos_image_digest(int fd, const char *name, uint8_t digest[CHOS_SHA256_BYTES],
		      struct chos_error *err);
