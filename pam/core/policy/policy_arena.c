/* SPDX-License-Identifier: BSD-3-Clause
 * The sandbox's allocator: every block of one QuickJS runtime comes from its arena, so closing
 * the sandbox releases the arena's few chunks instead of walking and freeing each of the
 * runtime's thousands of objects (JS_FreeRuntime was a sixth of a cold evaluation), and a
 * block costs a few instructions instead of glibc's malloc plus malloc_usable_size.
 *
 * Small blocks (up to SMALL_MAX bytes) are cut from CHUNK-byte chunks, in classes 16 bytes
 * apart, each with an 8-byte header holding its size just before it: the layout glibc uses, so
 * a runtime touches about as many pages as it did with malloc (in a fresh login process, a
 * page's first touch costs more than all the instructions this file saves on it). A freed
 * block goes onto its class's list and is the next one that class hands out, as the warm API
 * (many evaluations in one runtime) needs. Larger blocks are malloc'd one by one, linked so
 * that the release frees them too.
 *
 * The memory limit is QuickJS's own (JS_SetMemoryLimit sets malloc_limit in the state passed
 * here): a block is refused when the runtime's bytes, each block counted as its usable size
 * plus its header, would pass it, as QuickJS's default allocator counts glibc's blocks.
 *
 * Under AddressSanitizer every block is its own malloc, and chos_arena_frees_each tells the
 * sandbox to free the runtime object by object: ASan then sees an overrun or a use after free
 * of any block, and LeakSanitizer a JSValue the sandbox's code forgot to free (the fuzz
 * targets' point). */
#include "policy/policy_internal.h"
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ARENA_CHECKED: every block its own malloc (the header says why). The default under
 * AddressSanitizer; fuzz_arena builds this file with ARENA_CHECKED=0, to fuzz the arena itself. */
#ifndef ARENA_CHECKED
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ARENA_CHECKED 1
#endif
#endif
#endif
#ifndef ARENA_CHECKED
#define ARENA_CHECKED 0
#endif

#define ALIGN 16u
#define HEADER 8u					       /* a block's size, just before it */
#define SMALL_MAX (1024u - HEADER)			       /* the largest small block */
#define CLASSES ((SMALL_MAX + HEADER + ALIGN - 1) / ALIGN + 1) /* class_of(SMALL_MAX) + 1 */
#define CHUNK (64u << 10) /* under glibc's mmap threshold: a warm heap's pages are reused */
#define LARGE_FLAG 1u	  /* in a header: the block is a struct large's */

struct chunk {
	struct chunk *next;
	/* blocks follow, from the first ALIGN boundary past HEADER */
};

struct large {
	struct large *prev, *next;
	size_t pad;
	size_t header; /* size | LARGE_FLAG, just before the block */
};
_Static_assert(sizeof(struct large) % ALIGN == 0, "a large block starts aligned");

struct chos_arena {
	struct chunk *chunks;
	uintptr_t next, end; /* where the next small block's header goes, and the chunk's end */
	void *free[CLASSES]; /* per class: the freed blocks, linked through their first word */
	struct large large;  /* the list's head (prev, next) */
};

const bool chos_arena_frees_each = ARENA_CHECKED;

static inline size_t *header_of(void *p)
{
	return (size_t *)p - 1;
}

/* What the block counts for against the limit: its usable size and header, as glibc's. */
static inline size_t charge(size_t usable)
{
	return usable + HEADER;
}

/* Usable sizes 8, 24, 40 ... : each block and its header fill a multiple of ALIGN, so blocks cut
 * one after another stay aligned. */
static inline unsigned class_of(size_t size)
{
	return (unsigned)((size + HEADER + ALIGN - 1) / ALIGN);
}

static inline size_t class_size(unsigned c)
{
	return (size_t)c * ALIGN - HEADER;
}

/* size rounded up to ALIGN, which leaves the header's low bit free for LARGE_FLAG. */
static void *large_alloc(struct chos_arena *a, size_t size)
{
	struct large *l;

	size = (size + ALIGN - 1) / ALIGN * ALIGN;
	if (!(l = malloc(sizeof(*l) + size)))
		return NULL;
	l->header = size | LARGE_FLAG;
	l->prev = &a->large;
	l->next = a->large.next;
	l->next->prev = l;
	a->large.next = l;
	return l + 1;
}

static void large_unlink(struct large *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
}

static void *small_alloc(struct chos_arena *a, unsigned c)
{
	size_t stride = (size_t)c * ALIGN;
	void *p = a->free[c];
	struct chunk *k;

	if (p) {
		a->free[c] = *(void **)p;
		return p;
	}
	if (a->end - a->next < stride) {
		if (!(k = malloc(CHUNK)))
			return NULL;
		k->next = a->chunks;
		a->chunks = k;
		/* The first header sits HEADER bytes before the first ALIGN boundary past it. */
		a->next = ((uintptr_t)(k + 1) + HEADER + ALIGN - 1) / ALIGN * ALIGN - HEADER;
		a->end = (uintptr_t)k + CHUNK;
	}
	p = (void *)(a->next + HEADER);
	*header_of(p) = class_size(c);
	a->next += stride;
	return p;
}

static size_t usable_size(const void *p)
{
	if (ARENA_CHECKED)
		return malloc_usable_size((void *)p);
	return p ? ((const size_t *)p)[-1] & ~(size_t)LARGE_FLAG : 0;
}

/* Whether `usable` more bytes stay within the limit (no sum that can wrap). */
static inline bool fits(const JSMallocState *s, size_t usable)
{
	return usable <= SIZE_MAX / 2 && s->malloc_size <= s->malloc_limit &&
	       charge(usable) <= s->malloc_limit - s->malloc_size;
}

static void *arena_malloc(JSMallocState *s, size_t size)
{
	struct chos_arena *a = s->opaque;
	void *p;

	if (ARENA_CHECKED) {
		if (!fits(s, size) || !(p = malloc(size)))
			return NULL;
	} else if (size <= SMALL_MAX) {
		unsigned c = class_of(size);
		if (!fits(s, class_size(c)) || !(p = small_alloc(a, c)))
			return NULL;
	} else if (!fits(s, size + ALIGN) || !(p = large_alloc(a, size))) {
		return NULL;
	}
	s->malloc_count++;
	s->malloc_size += charge(usable_size(p));
	return p;
}

static void arena_free(JSMallocState *s, void *p)
{
	struct chos_arena *a = s->opaque;
	size_t h;

	if (!p)
		return;
	s->malloc_count--;
	s->malloc_size -= charge(usable_size(p));
	if (ARENA_CHECKED) {
		free(p);
		return;
	}
	h = *header_of(p);
	if (h & LARGE_FLAG) {
		struct large *l = (struct large *)p - 1;
		large_unlink(l);
		free(l);
		return;
	}
	*(void **)p = a->free[class_of(h)];
	a->free[class_of(h)] = p;
}

static void *arena_realloc(JSMallocState *s, void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return size ? arena_malloc(s, size) : NULL;
	if (!size) {
		arena_free(s, p);
		return NULL;
	}
	old = usable_size(p);
	if (size <= old && (ARENA_CHECKED || size > old / 2))
		return p; /* fits, and not so much smaller that the rest is worth giving back */
	if (!(q = arena_malloc(s, size)))
		return NULL;
	memcpy(q, p, old < size ? old : size);
	arena_free(s, p);
	return q;
}

const JSMallocFunctions chos_arena_functions = {
	.js_malloc = arena_malloc,
	.js_free = arena_free,
	.js_realloc = arena_realloc,
	.js_malloc_usable_size = usable_size,
};

struct chos_arena *chos_arena_new(void)
{
	struct chos_arena *a = calloc(1, sizeof(*a));

	if (a)
		a->large.prev = a->large.next = &a->large;
	return a;
}

void chos_arena_release(struct chos_arena *a)
{
	struct chunk *k, *next;
	struct large *l, *after;

	if (!a)
		return;
	for (k = a->chunks; k; k = next) {
		next = k->next;
		free(k);
	}
	for (l = a->large.next; l != &a->large; l = after) {
		after = l->next;
		free(l);
	}
	free(a);
}
