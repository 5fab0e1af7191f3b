/* SPDX-License-Identifier: BSD-3-Clause
 * The squashfs 4.0 superblock (image.h) judged field by field. Offsets and the compressor ids
 * are those of the format Linux reads (fs/squashfs/squashfs_fs.h). */
#include "setup/image_format.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define SUPERBLOCK_SIZE 96
#define SQUASHFS_MAGIC 0x73717368u /* "hsqs" on disk */
#define PADDING 4096u		   /* mksquashfs pads the file to a multiple of this */
#define NO_TABLE UINT64_MAX	   /* a table the image does not have */

static const char *compression_name(uint64_t id)
{
	static const char *const names[] = { NULL, "gzip", "lzma", "lzo", "xz", "lz4", "zstd" };

	return id < sizeof(names) / sizeof(names[0]) ? names[id] : NULL;
}

/* The tables' starts, in the order mksquashfs writes them; each before bytes_used. */
static int check_tables(const uint8_t *sb, uint64_t bytes_used, const char *name,
			struct chos_error *err)
{
	/* clang-format off */
	static const struct {
		int offset;
		const char *what;
		int optional;
	} tables[] = {
		{ 64, "inode table", 0 },
		{ 72, "directory table", 0 },
		{ 80, "fragment table", 1 },
		{ 88, "export table", 1 },
		{ 48, "id table", 0 },
		{ 56, "xattr table", 1 },
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		uint64_t start = image_le(sb + tables[i].offset, 8);
		if (start == NO_TABLE && tables[i].optional)
			continue;
		if (start < SUPERBLOCK_SIZE || start >= bytes_used)
			return chos_fail(err, -EINVAL,
					 "%.300s: the superblock's %s starts at %llu, outside the "
					 "filesystem's %llu bytes (corrupt image)",
					 name, tables[i].what, (unsigned long long)start,
					 (unsigned long long)bytes_used);
	}
	return 0;
}

int image_inspect_squashfs(int fd, const char *name, struct chos_image_info *info,
			   struct chos_error *err)
{
	uint8_t sb[SUPERBLOCK_SIZE];
	uint64_t block_size, block_log;
	const char *compression;
	int e;

	if ((e = image_read_head(fd, sb, sizeof(sb), name, "a squashfs", err)) < 0)
		return e;
	if (image_le(sb, 4) != SQUASHFS_MAGIC)
		return chos_fail(err, -EINVAL, "%.300s: not a squashfs image (no superblock)",
				 name);
	if (image_le(sb + 28, 2) != 4 || image_le(sb + 30, 2) != 0)
		return chos_fail(err, -EINVAL, "%.300s: squashfs %u.%u, not 4.0", name,
				 (unsigned)image_le(sb + 28, 2), (unsigned)image_le(sb + 30, 2));
	block_size = image_le(sb + 12, 4);
	block_log = image_le(sb + 22, 2);
	if (block_log < 12 || block_log > 20 || block_size != 1ull << block_log)
		return chos_fail(err, -EINVAL,
				 "%.300s: block size %llu does not match its log %llu (corrupt "
				 "image)",
				 name, (unsigned long long)block_size,
				 (unsigned long long)block_log);
	if (!(compression = compression_name(image_le(sb + 20, 2))))
		return chos_fail(err, -EINVAL, "%.300s: unknown compressor id %u (corrupt image)",
				 name, (unsigned)image_le(sb + 20, 2));
	snprintf(info->compression, sizeof(info->compression), "%s", compression);
	info->bytes_used = image_le(sb + 40, 8);
	info->inodes = image_le(sb + 4, 4);
	info->block_size = (uint32_t)block_size;
	if (info->inodes == 0)
		return chos_fail(err, -EINVAL, "%.300s: no inodes (corrupt image)", name);
	if ((e = image_judge_length(info, PADDING - 1, "mksquashfs", name, err)) < 0)
		return e;
	return check_tables(sb, info->bytes_used, name, err);
}
