/* SPDX-License-Identifier: BSD-3-Clause
 * The bytecode file beside a bundle (BUNDLE.qbc): an indexed pack of each unit's bytecode
 * (policy_units.c), so a login reads, hashes and loads only the base unit and its own groups'
 * units, whatever the number of group files.
 *
 * Layout (host byte order; the file is only ever read on the machine that wrote it, and
 * QuickJS checks its own bytecode version):
 *
 *   header  struct chos_pack_header: magic "CHOSPAK1", the QuickJS version, the bundle's size,
 *           the pack's own size, a build id (the SHA-256 of the whole bundle it was built
 *           from: for tools, never hashed at a login), the group count, entries per index
 *           block, the block count,
 *           the base unit's entry, the SHA-256 of the top table, and the SHA-256 of all that
 *   top     one struct chos_pack_top per index block: the block's first group name and the
 *           block's SHA-256
 *   blocks  the group units' entries (struct chos_pack_unit), sorted by group name, cut into
 *           blocks of block_entries (the last may be shorter)
 *   code    the units' bytecode, where their entries say
 *
 * An entry names where the unit's source lies in the bundle (offset, length, the lines before
 * it) with that source's SHA-256, and where its bytecode lies in the pack with the bytecode's
 * SHA-256. A login checks the header's own digest and the fields that must match (magic,
 * version, the bundle's size and its own), then the top table against the header, then only
 * the blocks it searches against the top table; for each unit it runs, it reads that unit's
 * source region
 * from the bundle and checks it against the entry (the bundle stays the authority for exactly
 * the bytes that run: an edited bundle makes the pack stale) and the bytecode against its
 * SHA-256 before a single byte of it reaches JS_ReadObject. */
#pragma once
#include "common/sha256.h"
#include "facts/catalogue.h"
#include <stddef.h>
#include <stdint.h>

#define CHOS_PACK_MAGIC "CHOSPAK1"
#define CHOS_PACK_NAME 72 /* CHOS_NAME_MAX + NUL, padded to 8 bytes */
/* Caps what a broken pack can make a login look at (a site has thousands of groups, not this). */
#define CHOS_PACK_GROUPS_MAX (1u << 20)

struct chos_pack_unit {
	char group[CHOS_PACK_NAME]; /* NUL-padded; "" for the base unit */
	uint64_t source_offset;	    /* in the bundle */
	uint64_t source_length;
	uint32_t line; /* lines of the bundle before the unit */
	uint32_t reserved;
	uint8_t source_sha256[CHOS_SHA256_BYTES];
	uint64_t bytecode_offset; /* in the pack */
	uint64_t bytecode_length;
	uint8_t bytecode_sha256[CHOS_SHA256_BYTES];
};

struct chos_pack_top {
	char first[CHOS_PACK_NAME]; /* the block's first group */
	uint8_t block_sha256[CHOS_SHA256_BYTES];
};

struct chos_pack_header {
	char magic[8];
	char quickjs[16];
	uint64_t bundle_size;
	uint64_t pack_size; /* of the whole file: a truncated or extended copy is stale */
	uint8_t build_id[CHOS_SHA256_BYTES];
	uint32_t groups;
	uint32_t block_entries;
	uint32_t blocks;
	uint32_t reserved;
	struct chos_pack_unit base;
	uint8_t top_sha256[CHOS_SHA256_BYTES];
	uint8_t header_sha256[CHOS_SHA256_BYTES]; /* of every field above */
};

/* The layout above, without padding: the tests (test/core, test/security) read it. */
_Static_assert(sizeof(struct chos_pack_unit) == 176 && sizeof(struct chos_pack_top) == 104 &&
		       sizeof(struct chos_pack_header) == 328 &&
		       offsetof(struct chos_pack_header, base) == 88,
	       "the pack structs are the documented layout");
_Static_assert(CHOS_PACK_NAME > CHOS_NAME_MAX, "a group name and its NUL fit an entry");
