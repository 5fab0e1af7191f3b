/* SPDX-License-Identifier: BSD-3-Clause
 * SHA-256 as FIPS 180-4 specifies it: section 4.1.2 (functions), 4.2.2 (constants), 5.1.1
 * (padding), 5.3.3 (initial hash value), 6.2.2 (computation). Big-endian words are read and
 * written byte by byte, so the code does not depend on the host's byte order or alignment.
 *
 * The computation is portable C (about 300 MB/s here), and on x86-64 processors with the SHA
 * extensions the same compression runs on their SHA256RNDS2/MSG1/MSG2 instructions, written
 * from their definitions in Intel's SDM (about 1.4 GB/s): every login hashes its bundle and
 * bytecode, about 100 KB for a 50 KB bundle, and the portable code alone would add about
 * 0.3 ms to a cold load from bytecode that is meant to stay under 0.5 ms. Which one runs is
 * chosen per hash from what glibc's loader learnt by CPUID at process start (sys/platform/
 * x86.h): CPUID itself traps to the hypervisor in a VM, and every login is a fresh process, so
 * asking it again cost each login about 16 µs. Both are tested against Node's crypto
 * (chos_sha256_portable forces the portable one). */
#include "common/sha256.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#include <sys/platform/x86.h>
#endif

/* 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)(x >> 24);
	p[1] = (uint8_t)(x >> 16);
	p[2] = (uint8_t)(x >> 8);
	p[3] = (uint8_t)x;
}

/* 4.1.2 */
static uint32_t big_sigma0(uint32_t x)
{
	return rotr(x, 2) ^ rotr(x, 13) ^ rotr(x, 22);
}

static uint32_t big_sigma1(uint32_t x)
{
	return rotr(x, 6) ^ rotr(x, 11) ^ rotr(x, 25);
}

static uint32_t small_sigma0(uint32_t x)
{
	return rotr(x, 7) ^ rotr(x, 18) ^ (x >> 3);
}

static uint32_t small_sigma1(uint32_t x)
{
	return rotr(x, 17) ^ rotr(x, 19) ^ (x >> 10);
}

/* 6.2.2: one 64-byte block into the state. */
static void compress_block(uint32_t state[8], const uint8_t block[64])
{
	uint32_t w[64];
	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	uint32_t e = state[4], f = state[5], g = state[6], h = state[7];

	for (int t = 0; t < 16; t++)
		w[t] = load_be32(block + 4 * t);
	for (int t = 16; t < 64; t++)
		w[t] = small_sigma1(w[t - 2]) + w[t - 7] + small_sigma0(w[t - 15]) + w[t - 16];
	for (int t = 0; t < 64; t++) {
		uint32_t t1 = h + big_sigma1(e) + ((e & f) ^ (~e & g)) + K[t] + w[t];
		uint32_t t2 = big_sigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
}

/* Compresses count whole 64-byte blocks into the state. */
typedef void compress_fn(uint32_t state[8], const uint8_t *blocks, size_t count);

static void compress_portable(uint32_t state[8], const uint8_t *p, size_t blocks)
{
	for (; blocks; blocks--, p += 64)
		compress_block(state, p);
}

#if defined(__x86_64__)
/* 6.2.2 on the SHA extensions. SHA256RNDS2 does two rounds on the working variables packed
 * as ABEF (A in the top lane) and CDGH, with W[t] + K[t] of both rounds in the low lanes of
 * its third operand; after it, the old ABEF is the new CDGH, so two calls swap the roles back
 * every four rounds. SHA256MSG1 and MSG2, with the W[t-7] terms added in between, make the
 * next four words of the schedule from the last sixteen. */
__attribute__((target("sha,ssse3"))) static void compress_shani(uint32_t state[8], const uint8_t *p,
								size_t blocks)
{
	/* Reverses the bytes of each 32-bit lane: the message words are big-endian. */
	const __m128i bswap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
	__m128i abef = _mm_set_epi32((int)state[0], (int)state[1], (int)state[4], (int)state[5]);
	__m128i cdgh = _mm_set_epi32((int)state[2], (int)state[3], (int)state[6], (int)state[7]);
	uint32_t lanes[4];

	for (; blocks; blocks--, p += 64) {
		__m128i w[4], saved_abef = abef, saved_cdgh = cdgh;
		/* Rounds 4g..4g+3, w[g % 4] becoming W[4g..4g+3]; unrolled, so that w[] stays in
		 * registers (a quarter less time). */
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			__m128i *m = &w[g % 4], wk;
			if (g < 4) {
				*m = _mm_shuffle_epi8(
					_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
			} else {
				__m128i w9 = _mm_alignr_epi8(w[(g + 3) % 4], w[(g + 2) % 4], 4);
				*m = _mm_add_epi32(_mm_sha256msg1_epu32(*m, w[(g + 1) % 4]), w9);
				*m = _mm_sha256msg2_epu32(*m, w[(g + 3) % 4]);
			}
			wk = _mm_add_epi32(*m, _mm_loadu_si128((const __m128i *)(K + 4 * g)));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, wk);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(wk, 0x0e));
		}
		abef = _mm_add_epi32(abef, saved_abef);
		cdgh = _mm_add_epi32(cdgh, saved_cdgh);
	}
	_mm_storeu_si128((__m128i *)lanes, abef);
	state[0] = lanes[3], state[1] = lanes[2], state[4] = lanes[1], state[5] = lanes[0];
	_mm_storeu_si128((__m128i *)lanes, cdgh);
	state[2] = lanes[3], state[3] = lanes[2], state[6] = lanes[1], state[7] = lanes[0];
}

/* The instructions compress_shani uses: SHA256RNDS2/MSG1/MSG2 and SSSE3's PALIGNR and
 * PSHUFB. "Active" means the processor has them and the kernel lets them run. */
static bool have_shani(void)
{
	return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSSE3);
}
#endif

/* 5.1.1 and 6.2: the whole blocks of data, then the tail padded with a 1 bit, zeros, and the
 * length in bits as a 64-bit big-endian number, in one block or two when the tail leaves
 * less than 9 bytes of room. */
static void hash(compress_fn *compress, const void *data, size_t n,
		 uint8_t digest[CHOS_SHA256_BYTES])
{
	/* 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8
	 * primes. */
	uint32_t state[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
			      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
	const uint8_t *p = data;
	size_t tail = n % 64, blocks = tail < 56 ? 1 : 2;
	uint8_t last[128] = { 0 };
	uint64_t bits = (uint64_t)n * 8;

	compress(state, p, n / 64);
	if (tail) /* data may be NULL when n is 0 */
		memcpy(last, p + n - tail, tail);
	last[tail] = 0x80;
	store_be32(last + 64 * blocks - 8, (uint32_t)(bits >> 32));
	store_be32(last + 64 * blocks - 4, (uint32_t)bits);
	compress(state, last, blocks);
	for (int i = 0; i < 8; i++)
		store_be32(digest + 4 * i, state[i]);
}

void chos_sha256(const void *data, size_t n, uint8_t digest[CHOS_SHA256_BYTES])
{
#if defined(__x86_64__)
	if (have_shani()) {
		hash(compress_shani, data, n, digest);
		return;
	}
#endif
	hash(compress_portable, data, n, digest);
}

void chos_sha256_portable(const void *data, size_t n, uint8_t digest[CHOS_SHA256_BYTES])
{
	hash(compress_portable, data, n, digest);
}

bool chos_sha256_accelerated(void)
{
#if defined(__x86_64__)
	return have_shani();
#else
	return false;
#endif
}

void chos_sha256_hex(const uint8_t digest[CHOS_SHA256_BYTES], char hex[CHOS_SHA256_HEX + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < CHOS_SHA256_BYTES; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[CHOS_SHA256_HEX] = '\0';
}
