/* SPDX-License-Identifier: BSD-3-Clause
 * OS images (image.h): the file judged as the regular file of one filesystem, its superblock by
 * the reader of its kind (image_squashfs.c, image_erofs.c), and the file's digest. */
#include "setup/image_format.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t image_le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;

	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

int image_read_head(int fd, uint8_t *buf, size_t len, const char *name, const char *what,
		    struct chos_error *err)
{
	ssize_t n = pread(fd, buf, len, 0);

	if (n < 0)
		return chos_fail(err, -errno, "%.300s: %s", name, strerror(errno));
	if ((size_t)n < len)
		return chos_fail(err, -EINVAL, "%.300s: not %s image (no superblock)", name, what);
	return 0;
}

int image_judge_length(const struct chos_image_info *info, uint64_t max_padding, const char *tool,
		       const char *name, struct chos_error *err)
{
	if (info->bytes_used > info->file_size)
		return chos_fail(err, -EIO,
				 "%.300s: %llu bytes, but its filesystem is %llu bytes long "
				 "(truncated)",
				 name, (unsigned long long)info->file_size,
				 (unsigned long long)info->bytes_used);
	if (info->file_size - info->bytes_used > max_padding)
		return chos_fail(err, -EFBIG,
				 "%.300s: %llu bytes follow its %llu-byte filesystem (not an image "
				 "as %s writes it)",
				 name, (unsigned long long)(info->file_size - info->bytes_used),
				 (unsigned long long)info->bytes_used, tool);
	return 0;
}

int chos_image_inspect(int fd, enum chos_image_kind kind, const char *name,
		       struct chos_image_info *info, struct chos_error *err)
{
	struct stat st;

	memset(info, 0, sizeof(*info));
	if (fstat(fd, &st) < 0)
		return chos_fail(err, -errno, "%.300s: %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return chos_fail(err, -EINVAL, "%.300s: not a regular file", name);
	info->file_size = (uint64_t)st.st_size;
	info->filesystem = chos_image_format(kind)->fstype;
	switch (kind) {
	case CHOS_IMAGE_SQUASHFS:
		return image_inspect_squashfs(fd, name, info, err);
	case CHOS_IMAGE_EROFS:
		return image_inspect_erofs(fd, name, info, err);
	case CHOS_IMAGE_NONE:
		break;
	}
	return chos_fail(err, -EINVAL, "%.300s: not an image (its name ends in neither %s)", name,
			 CHOS_IMAGE_SUFFIXES);
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
