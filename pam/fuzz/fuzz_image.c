/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes the OS images' superblock readers (chos_image_inspect: image_squashfs.c and
 * image_erofs.c) with an image file's bytes, judged as each kind in turn: the readers take an fd,
 * so the bytes are a memfd's. Besides what the sanitizers catch, it checks image.h's promises:
 * the only refusals are -EINVAL, -EFBIG and -EIO, each with a message; an accepted image has the
 * kind's filesystem name, a power-of-two block size its reader allows, a NUL-terminated
 * compression name, inodes, and a filesystem no longer than the file, followed by no more than
 * the padding its tool writes. The seeds (corpus/image) are whole images of a few KiB, from
 * `chos image build` and the tools themselves: both readers judge the file's length against the
 * superblock's, so an image's head alone would never get past it. test/chos/image.test.ts checks
 * that they are still good images. */
#include "setup/image.h"
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* What each reader promises of an image it accepts. */
static const struct {
	enum chos_image_kind kind;
	const char *filesystem;
	uint32_t min_block, max_block; /* squashfs 4.0's range; 6.1's only erofs block */
	uint64_t max_padding; /* mksquashfs pads to 4 KiB; mkfs.erofs writes whole blocks */
} kinds[] = {
	{ CHOS_IMAGE_SQUASHFS, "squashfs", 4096, 1u << 20, 4095 },
	{ CHOS_IMAGE_EROFS, "erofs", 4096, 4096, 0 },
};

static void check(int fd, size_t size, size_t k)
{
	struct chos_image_info info;
	struct chos_error err = { 0 };
	int e = chos_image_inspect(fd, kinds[k].kind, "fuzz", &info, &err);

	if (e < 0) {
		if ((e != -EINVAL && e != -EFBIG && e != -EIO) || e != err.code || !err.message[0])
			abort();
		return;
	}
	if (e != 0 || !info.filesystem || strcmp(info.filesystem, kinds[k].filesystem) != 0)
		abort();
	if (info.file_size != size || info.bytes_used > info.file_size ||
	    info.file_size - info.bytes_used > kinds[k].max_padding)
		abort();
	if (info.block_size < kinds[k].min_block || info.block_size > kinds[k].max_block ||
	    (info.block_size & (info.block_size - 1)))
		abort();
	if (!memchr(info.compression, '\0', sizeof(info.compression)) || !info.compression[0] ||
	    info.inodes == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* One file for every input, emptied each time: a memfd per input would cost more. */
	static int fd = -1;

	if (fd < 0 && (fd = memfd_create("fuzz_image", MFD_CLOEXEC)) < 0)
		abort();
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		check(fd, size, k);
	return 0;
}
