/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes the sandbox's allocator (policy_arena.c) itself: the input is a sequence of malloc,
 * realloc and free calls over a few slots, under a memory limit it also chooses. Under ASan the
 * sandbox would give every block its own malloc, so this target builds the allocator with
 * ARENA_CHECKED=0 (CMakeLists.txt): ASan then watches the chunks and large blocks as wholes,
 * and the target checks what ASan cannot see inside a chunk. Every live block keeps the bytes
 * last written to it (no two blocks overlap, realloc moves what it must), is 16-byte aligned
 * and has at least the usable size asked for; the count of bytes never passes the limit, and
 * it is back to zero, as is the count of blocks, once all are freed. The release frees the
 * rest (LeakSanitizer). */
#include "policy/policy_internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 64
#define ALIGN 16u	 /* as malloc's: QuickJS stores doubles and 16-byte JSValues */
#define SMALL_SIZES 1032 /* a little past the arena's largest small block */

static const JSMallocFunctions *const f = &chos_arena_functions;

struct slot {
	uint8_t *p;
	size_t size;
	uint8_t fill;
};

static void check_slot(const struct slot *s)
{
	for (size_t i = 0; i < s->size; i++)
		if (s->p[i] != s->fill)
			abort();
}

static void fill_slot(struct slot *s, uint8_t *p, size_t size, uint8_t fill)
{
	if (size) {
		if (!p || (uintptr_t)p % ALIGN || f->js_malloc_usable_size(p) < size)
			abort();
		memset(p, fill, size);
	}
	s->p = p, s->size = size, s->fill = fill;
}

/* Sizes mostly small, some past the small blocks, a few large enough to meet the limit. */
static size_t size_of(const uint8_t *op)
{
	size_t n = (size_t)op[2] | (size_t)op[3] << 8;

	switch (op[0] >> 6) {
	case 0:
	case 1:
		return n % SMALL_SIZES;
	case 2:
		return n;
	default:
		return n << 6;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct slot slots[SLOTS] = { 0 };
	struct chos_arena *a = chos_arena_new();
	JSMallocState s = { .opaque = a };

	if (!a)
		abort();
	s.malloc_limit = len ? (size_t)(data[0] + 1) << 14 : 1u << 20; /* 16 KiB to 4 MiB */
	for (size_t at = 1; at + 4 <= len; at += 4) {
		const uint8_t *op = data + at;
		struct slot *sl = &slots[op[1] % SLOTS];
		size_t size = size_of(op);
		uint8_t *p;

		check_slot(sl);
		switch (op[0] % 3) {
		case 0:
			f->js_free(&s, sl->p);
			fill_slot(sl, NULL, 0, 0);
			break;
		case 1:
			if (!sl->p && size && (p = f->js_malloc(&s, size)))
				fill_slot(sl, p, size, op[1]);
			break;
		default:
			if (!sl->p)
				break;
			if (!size) {
				f->js_realloc(&s, sl->p, 0);
				fill_slot(sl, NULL, 0, 0);
			} else if ((p = f->js_realloc(&s, sl->p, size))) {
				sl->p = p;
				sl->size = sl->size < size ? sl->size : size;
				check_slot(sl);
				fill_slot(sl, p, size, sl->fill + 1);
			}
			break;
		}
		if (s.malloc_size > s.malloc_limit)
			abort();
	}
	for (int i = 0; i < SLOTS; i++) {
		check_slot(&slots[i]);
		f->js_free(&s, slots[i].p);
	}
	if (s.malloc_size || s.malloc_count)
		abort();
	chos_arena_release(a);
	return 0;
}
