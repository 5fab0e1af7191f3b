/* SPDX-License-Identifier: BSD-3-Clause
 * SHA-256 (FIPS 180-4), for the bytecode file's header (policy_load.c): a digest of the
 * bundle it was built from and of the bytecode itself, so that no byte of a corrupt file
 * reaches the bytecode reader. Written here rather than linked so the PAM module has no
 * crypto library dependency; tested against Node's crypto (test/core/sha256.test.ts). */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define CHOS_SHA256_BYTES 32

struct chos_sha256 {
	uint32_t state[8]; /* H0..H7 */
	uint64_t length;   /* bytes hashed so far */
	uint8_t block[64]; /* the partial block not yet compressed */
	size_t used;	   /* bytes of block in use, < 64 */
};

void chos_sha256_init(struct chos_sha256 *h);
void chos_sha256_update(struct chos_sha256 *h, const void *data, size_t n);
void chos_sha256_final(struct chos_sha256 *h, uint8_t digest[CHOS_SHA256_BYTES]);
/* The three above over one buffer. */
void chos_sha256(const void *data, size_t n, uint8_t digest[CHOS_SHA256_BYTES]);
