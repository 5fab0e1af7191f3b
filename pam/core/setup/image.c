/* SPDX-License-Identifier: BSD-3-Clause
 * OS images (image.h): the squashfs 4.0 superblock judged field by field, and the file's
 * digest. Offsets and the compressor ids are those of the format Linux reads (fs/squashfs/
 * squashfs_fs.h); every field is read byte by byte, little-endian, whatever the host. */
#include "setup/image.h"
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUPERBLOCK_SIZE 96
#define SQUASHFS_MAGIC 0x73717368u /* "hsqs" on disk */
#define PADDING 4096u		   /* mksquashfs pads the file to a multiple of this */
#define NO_TABLE UINT64_MAX	   /* a table the image does not have */

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

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
		uint64_t start = le(sb + tables[i].offset, 8);
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

int chos_image_inspect(int fd, const char *name, struct chos_image_info *info,
		       struct chos_error *err)
{
	uint8_t sb[SUPERBLOCK_SIZE];
	struct stat st;
	ssize_t n;
	uint64_t block_size, block_log;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0)
		return chos_fail(err, -errno, "%.300s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return chos_fail(err, -EINVAL, "%.300s: not a regular file", name);
	n = pread(fd, sb, sizeof(sb), 0);
	if (n < 0)
		return chos_fail(err, -errno, "%.300s: %s", name, strerror(errno));
	if (n < (ssize_t)sizeof(sb) || le(sb, 4) != SQUASHFS_MAGIC)
		return chos_fail(err, -EINVAL, "%.300s: not a squashfs image (no superblock)",
				 name);
	if (le(sb + 28, 2) != 4 || le(sb + 30, 2) != 0)
		return chos_fail(err, -EINVAL, "%.300s: squashfs %u.%u, not 4.0", name,
				 (unsigned)le(sb + 28, 2), (unsigned)le(sb + 30, 2));
	block_size = le(sb + 12, 4);
	block_log = le(sb + 22, 2);
	if (block_log < 12 || block_log > 20 || block_size != 1ull << block_log)
		return chos_fail(err, -EINVAL,
				 "%.300s: block size %llu does not match its log %llu (corrupt "
				 "image)",
				 name, (unsigned long long)block_size,
				 (unsigned long long)block_log);
	info->compression = compression_name(le(sb + 20, 2));
	if (!info->compression)
		return chos_fail(err, -EINVAL, "%.300s: unknown compressor id %u (corrupt image)",
				 name, (unsigned)le(sb + 20, 2));
	info->bytes_used = le(sb + 40, 8);
	info->file_size = (uint64_t)st.st_size;
	info->inodes = (uint32_t)le(sb + 4, 4);
	info->block_size = (uint32_t)block_size;
	if (info->inodes == 0)
		return chos_fail(err, -EINVAL, "%.300s: no inodes (corrupt image)", name);
	if (info->bytes_used > info->file_size)
		return chos_fail(err, -EIO,
				 "%.300s: %llu bytes, but its filesystem is %llu bytes long "
				 "(truncated)",
				 name, (unsigned long long)info->file_size,
				 (unsigned long long)info->bytes_used);
	if (info->file_size - info->bytes_used >= PADDING)
		return chos_fail(err, -EFBIG,
				 "%.300s: %llu bytes follow its %llu-byte filesystem (not an image "
				 "as mksquashfs writes it)",
				 name, (unsigned long long)(info->file_size - info->bytes_used),
				 (unsigned long long)info->bytes_used);
	return check_tables(sb, info->bytes_used, name, err);
}

int chos_image_digest(int fd, const char *name, uint8_t digest[CHOS_SHA256_BYTES],
		      struct chos_error *err)
{
	struct stat st;
	void *data;

	if (fstat(fd, &st) < 0)
		return chos_fail(err, -errno, "%.300s: %s", name, strerror(errno));
	if (st.st_size == 0) {
		chos_sha256("", 0, digest);
		return 0;
	}
	/* One mapping, read once in order: the page cache reads ahead, and an image of a few GB
	 * costs address space, not memory. A file cut shorter meanwhile would end us with SIGBUS:
	 * setup hashes only images that passed the trust rule, which only root could cut. */
	data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return chos_fail(err, -errno, "%.300s: cannot map it: %s", name, strerror(errno));
	madvise(data, (size_t)st.st_size, MADV_SEQUENTIAL);
	chos_sha256(data, (size_t)st.st_size, digest);
	munmap(data, (size_t)st.st_size);
	return 0;
}
