/* SPDX-License-Identifier: BSD-3-Clause
 * The erofs superblock (image.h) judged field by field, by the rules Linux applies when it reads
 * one (fs/erofs/super.c, erofs_read_superblock; the layout of fs/erofs/erofs_fs.h), as Debian 12's
 * 6.1 reads them: the block size must be 4 KiB (6.1 reads no other; later kernels also read
 * smaller ones, which mkfs.erofs 1.5 never writes), the checksum covers the superblock's block,
 * and an incompatible feature the kernel does not know refuses the mount. */
#include "setup/image_format.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define EROFS_MAGIC 0xE0F5E1E2u
#define SB_OFFSET 1024 /* the superblock's place in the first block */
#define BLOCK_BITS 12
#define BLOCK_SIZE (1u << BLOCK_BITS)
#define SB_SIZE 128 /* the superblock, before its extension slots */
#define SB_EXTSLOT_SIZE 16
#define INODE_SLOT_SIZE 32 /* a nid counts these from the metadata's first block */
#define COMPAT_SB_CHKSUM 0x1u
#define INCOMPAT_COMPR_CFGS 0x2u /* available_compr_algs is a bitmap of the algorithms used */
#define INCOMPAT_DEVICE_TABLE 0x8u
/* What 6.1 reads: zero padding, compression configurations and big pclusters, chunked files,
 * the device table (and compressed head 2), tail packing, fragments (and deduplication). */
#define INCOMPAT_KNOWN 0x3fu

/* The superblock's fields: offsets from SB_OFFSET. */
enum {
	F_MAGIC = 0,
	F_CHECKSUM = 4,
	F_FEATURE_COMPAT = 8,
	F_BLKSZBITS = 12,
	F_SB_EXTSLOTS = 13,
	F_ROOT_NID = 14,
	F_INOS = 16,
	F_BLOCKS = 36,
	F_META_BLKADDR = 40,
	F_XATTR_BLKADDR = 44,
	F_FEATURE_INCOMPAT = 80,
	F_COMPR_ALGS = 84,
	F_EXTRA_DEVICES = 86,
};

/* CRC32C (Castagnoli, reflected 0x82F63B78) of len bytes, continuing from crc with neither the
 * usual inversion before nor after: the kernel's crc32c(seed, ...), which erofs seeds with ~0. */
static uint32_t crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len--) {
		crc ^= *p++;
		for (int bit = 0; bit < 8; bit++)
			crc = crc >> 1 ^ (0x82F63B78u & -(crc & 1));
	}
	return crc;
}

/* The checksum is of the superblock's block from the superblock on, with the checksum field
 * itself read as zero. */
static int check_checksum(uint8_t *block, const char *name, struct chos_error *err)
{
	uint8_t *sb = block + SB_OFFSET;
	uint32_t want = (uint32_t)image_le(sb + F_CHECKSUM, 4), have;

	memset(sb + F_CHECKSUM, 0, 4);
	have = crc32c(~0u, sb, BLOCK_SIZE - SB_OFFSET);
	if (have != want)
		return chos_fail(err, -EINVAL,
				 "%.300s: superblock checksum 0x%08x, but its block sums to 0x%08x "
				 "(corrupt image)",
				 name, want, have);
	return 0;
}

/* The algorithms of available_compr_algs, by bit, into info->compression. */
static int name_compression(uint64_t algs, struct chos_image_info *info, const char *name,
			    struct chos_error *err)
{
	static const char *const names[] = { "lz4", "lzma", "deflate", "zstd" };
	size_t n = 0;

	if (algs >> (sizeof(names) / sizeof(names[0])))
		return chos_fail(err, -EINVAL,
				 "%.300s: unknown compression algorithms 0x%llx (corrupt image)",
				 name, (unsigned long long)algs);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (algs & 1u << i)
			n += (size_t)snprintf(info->compression + n, sizeof(info->compression) - n,
					      "%s%s", n ? "+" : "", names[i]);
	if (!n)
		snprintf(info->compression, sizeof(info->compression), "uncompressed");
	return 0;
}

int image_inspect_erofs(int fd, const char *name, struct chos_image_info *info,
			struct chos_error *err)
{
	uint8_t block[BLOCK_SIZE], *sb = block + SB_OFFSET;
	uint64_t incompat, blocks, meta, root_inode;
	int e;

	if ((e = image_read_head(fd, block, sizeof(block), name, "an erofs", err)) < 0)
		return e;
	if (image_le(sb + F_MAGIC, 4) != EROFS_MAGIC)
		return chos_fail(err, -EINVAL, "%.300s: not an erofs image (no superblock)", name);
	if (sb[F_BLKSZBITS] != BLOCK_BITS)
		return chos_fail(err, -EINVAL,
				 "%.300s: block size 2^%u, not the 4096 bytes Linux 6.1 reads "
				 "(corrupt image)",
				 name, (unsigned)sb[F_BLKSZBITS]);
	if ((image_le(sb + F_FEATURE_COMPAT, 4) & COMPAT_SB_CHKSUM) &&
	    (e = check_checksum(block, name, err)) < 0)
		return e;
	incompat = image_le(sb + F_FEATURE_INCOMPAT, 4);
	if (incompat & ~INCOMPAT_KNOWN)
		return chos_fail(
			err, -EINVAL,
			"%.300s: incompatible features 0x%llx that Linux 6.1 does not know "
			"(corrupt image)",
			name, (unsigned long long)(incompat & ~INCOMPAT_KNOWN));
	if ((incompat & INCOMPAT_DEVICE_TABLE) && image_le(sb + F_EXTRA_DEVICES, 2))
		return chos_fail(err, -EINVAL,
				 "%.300s: its data lies on %u more devices (not an image of one "
				 "file)",
				 name, (unsigned)image_le(sb + F_EXTRA_DEVICES, 2));
	if (SB_SIZE + sb[F_SB_EXTSLOTS] * SB_EXTSLOT_SIZE > (int)(BLOCK_SIZE - SB_OFFSET))
		return chos_fail(err, -EINVAL,
				 "%.300s: %u superblock extension slots overflow its block "
				 "(corrupt image)",
				 name, (unsigned)sb[F_SB_EXTSLOTS]);
	if (incompat & INCOMPAT_COMPR_CFGS)
		e = name_compression(image_le(sb + F_COMPR_ALGS, 2), info, name, err);
	else /* no configurations: lz4 is the one algorithm such an image can use */
		snprintf(info->compression, sizeof(info->compression), "lz4");
	if (e < 0)
		return e;
	blocks = image_le(sb + F_BLOCKS, 4);
	meta = image_le(sb + F_META_BLKADDR, 4);
	info->bytes_used = blocks * BLOCK_SIZE;
	info->inodes = image_le(sb + F_INOS, 8);
	info->block_size = BLOCK_SIZE;
	if (info->inodes == 0)
		return chos_fail(err, -EINVAL, "%.300s: no inodes (corrupt image)", name);
	if ((e = image_judge_length(info, 0, "mkfs.erofs", name, err)) < 0)
		return e;
	root_inode = meta * BLOCK_SIZE + image_le(sb + F_ROOT_NID, 2) * INODE_SLOT_SIZE;
	if (meta >= blocks || image_le(sb + F_XATTR_BLKADDR, 4) >= blocks ||
	    root_inode + INODE_SLOT_SIZE > info->bytes_used)
		return chos_fail(err, -EINVAL,
				 "%.300s: the superblock's metadata (block %llu), shared xattrs "
				 "(block %llu) or root inode (byte %llu) lie outside the "
				 "filesystem's %llu blocks (corrupt image)",
				 name, (unsigned long long)meta,
				 (unsigned long long)image_le(sb + F_XATTR_BLKADDR, 4),
				 (unsigned long long)root_inode, (unsigned long long)blocks);
	return 0;
}
