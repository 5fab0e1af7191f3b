/* SPDX-License-Identifier: BSD-3-Clause
 * SHA-256 (FIPS 180-4), for the bytecode file's header (policy_load.c): a digest of the
 * bundle it was built from and of the bytecode itself, so that no byte of a corrupt file
 * reaches the bytecode reader; and for OS images (setup/image.h), whose digest an admin pins.
 * Written here rather than linked so the PAM module has no crypto library dependency; tested
 * against Node's crypto (test/core/sha256.test.ts). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHOS_SHA256_BYTES 32
#define CHOS_SHA256_HEX (2 * CHOS_SHA256_BYTES) /* digits, as sha256sum prints them */

/* The digest of n bytes at data, on the fastest implementation this processor has. */
void chos_sha256(const void *data, size_t n, uint8_t digest[CHOS_SHA256_BYTES]);
/* The same on the portable implementation (the tests compare both with Node's crypto). */
void chos_sha256_portable(const void *data, size_t n, uint8_t digest[CHOS_SHA256_BYTES]);
/* Whether chos_sha256 runs on the processor's SHA extensions here. */
bool chos_sha256_accelerated(void);
/* digest as CHOS_SHA256_HEX lowercase hex digits and a NUL. */
void chos_sha256_hex(const uint8_t digest[CHOS_SHA256_BYTES], char hex[CHOS_SHA256_HEX + 1]);
