/* SPDX-License-Identifier: BSD-3-Clause
 * Writing and reading the pack (the layout is in policy_pack.h). Reading trusts nothing it has
 * not checked: every structure is covered by a SHA-256 that is itself covered, up to the
 * header's own, and every offset and length is checked against the file it points into before
 * it is used. A failure says which check failed, for the one log line the login writes before
 * it uses the source. */
#include "policy/policy_internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries per index block: what keeps the bytes a login hashes smallest, the top table (104
 * bytes a block) and, for a user in a few groups, about 3 blocks (176 bytes an entry), so about
 * the square root of a fifth of the group count (a power of two, at least 16). */
static uint32_t block_entries(size_t groups)
{
	uint32_t n = 16;

	while ((size_t)n * n * 5 < groups)
		n *= 2;
	return n;
}

static void fill_unit(struct chos_pack_unit *e, const char *src, const struct chos_unit *u,
		      uint64_t bytecode_offset, const uint8_t *bytecode, size_t bytecode_length)
{
	memset(e, 0, sizeof(*e));
	snprintf(e->group, sizeof(e->group), "%s", u->group);
	e->source_offset = u->offset;
	e->source_length = u->length;
	e->line = u->line;
	chos_sha256(src + u->offset, u->length, e->source_sha256);
	e->bytecode_offset = bytecode_offset;
	e->bytecode_length = bytecode_length;
	chos_sha256(bytecode, bytecode_length, e->bytecode_sha256);
}

int chos_pack_image(const char *src, size_t len, const struct chos_units *units,
		    uint8_t *const *bytecode, const size_t *bytecode_size, uint8_t **image,
		    size_t *image_size)
{
	const size_t groups = units->count - 1;
	const uint32_t per_block = block_entries(groups);
	const size_t blocks = (groups + per_block - 1) / per_block;
	const size_t top_at = sizeof(struct chos_pack_header);
	const size_t entries_at = top_at + blocks * sizeof(struct chos_pack_top);
	size_t code_at = entries_at + groups * sizeof(struct chos_pack_unit), size = code_at;
	struct chos_pack_header *h;
	struct chos_pack_top *top;
	struct chos_pack_unit *entries;
	uint8_t *out;

	if (groups > CHOS_PACK_GROUPS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < units->count; i++)
		size += bytecode_size[i];
	out = calloc(1, size);
	if (!out)
		return -ENOMEM;
	h = (struct chos_pack_header *)out;
	top = (struct chos_pack_top *)(out + top_at);
	entries = (struct chos_pack_unit *)(out + entries_at);
	for (size_t i = 0; i < units->count; i++) {
		memcpy(out + code_at, bytecode[i], bytecode_size[i]);
		fill_unit(i ? &entries[i - 1] : &h->base, src, &units->v[i], code_at, bytecode[i],
			  bytecode_size[i]);
		code_at += bytecode_size[i];
	}
	for (size_t b = 0; b < blocks; b++) {
		size_t first = b * per_block,
		       n = groups - first < per_block ? groups - first : per_block;
		memcpy(top[b].first, entries[first].group, sizeof(top[b].first));
		chos_sha256(&entries[first], n * sizeof(*entries), top[b].block_sha256);
	}
	memcpy(h->magic, CHOS_PACK_MAGIC, sizeof(h->magic));
	strncpy(h->quickjs, CHOS_QUICKJS_VERSION, sizeof(h->quickjs));
	h->bundle_size = len;
	h->pack_size = size;
	chos_sha256(src, len, h->build_id);
	h->groups = (uint32_t)groups;
	h->block_entries = per_block;
	h->blocks = (uint32_t)blocks;
	chos_sha256(top, blocks * sizeof(*top), h->top_sha256);
	chos_sha256(h, offsetof(struct chos_pack_header, header_sha256), h->header_sha256);
	*image = out;
	*image_size = size;
	return 0;
}

/* Reads exactly n bytes at off into a new buffer with a NUL after them; -errno. */
int chos_pread_all(int fd, uint64_t off, size_t n, char **out)
{
	char *buf = malloc(n + 1);

	if (!buf)
		return -ENOMEM;
	for (size_t done = 0; done < n;) {
		ssize_t got = pread(fd, buf + done, n - done, (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			int r = got < 0 ? -errno : -EIO; /* 0: the file is shorter than it said */
			free(buf);
			return r;
		}
		done += (size_t)got;
	}
	buf[n] = '\0';
	*out = buf;
	return 0;
}

static bool same_sha256(const void *data, size_t n, const uint8_t want[CHOS_SHA256_BYTES])
{
	uint8_t digest[CHOS_SHA256_BYTES];

	chos_sha256(data, n, digest);
	return memcmp(digest, want, sizeof(digest)) == 0;
}

static bool name_terminated(const char name[CHOS_PACK_NAME])
{
	return memchr(name, '\0', CHOS_PACK_NAME) != NULL;
}

int chos_pack_open(struct chos_pack *pk, int fd, uint64_t bundle_size, const char **why)
{
	struct chos_pack_header *h = &pk->header;
	struct stat st;
	char *top = NULL;
	size_t top_size;
	int r;

	memset(pk, 0, sizeof(*pk));
	pk->fd = fd;
	*why = "stale";
	if (fstat(fd, &st) < 0) {
		*why = "unreadable";
		return -errno;
	}
	pk->size = (uint64_t)st.st_size;
	if (pk->size < sizeof(*h))
		return -EINVAL;
	if ((r = chos_pread_all(fd, 0, sizeof(*h), &top)) < 0) {
		*why = "unreadable";
		return r;
	}
	memcpy(h, top, sizeof(*h));
	free(top);
	char version[sizeof(h->quickjs)] = { 0 };
	strncpy(version, CHOS_QUICKJS_VERSION, sizeof(version));
	if (memcmp(h->magic, CHOS_PACK_MAGIC, sizeof(h->magic)) != 0 ||
	    memcmp(h->quickjs, version, sizeof(version)) != 0)
		return -EINVAL;
	*why = "corrupt (its header does not match its SHA-256)";
	if (!same_sha256(h, offsetof(struct chos_pack_header, header_sha256), h->header_sha256))
		return -EINVAL;
	*why = "stale";
	if (h->bundle_size != bundle_size || h->pack_size != pk->size)
		return -EINVAL;
	*why = "corrupt (its index does not fit the file)";
	if (h->groups > CHOS_PACK_GROUPS_MAX || h->block_entries == 0 ||
	    h->blocks != (h->groups + (uint64_t)h->block_entries - 1) / h->block_entries ||
	    sizeof(*h) + (uint64_t)h->blocks * sizeof(struct chos_pack_top) +
			    (uint64_t)h->groups * sizeof(struct chos_pack_unit) >
		    pk->size)
		return -EINVAL;
	top_size = (size_t)h->blocks * sizeof(struct chos_pack_top);
	if ((r = chos_pread_all(fd, sizeof(*h), top_size, &top)) < 0) {
		*why = "unreadable";
		return r;
	}
	*why = "corrupt (its top table does not match its SHA-256)";
	if (!same_sha256(top, top_size, h->top_sha256)) {
		free(top);
		return -EINVAL;
	}
	pk->top = (struct chos_pack_top *)top;
	for (uint32_t b = 0; b < h->blocks; b++)
		if (!name_terminated(pk->top[b].first)) {
			chos_pack_close(pk);
			return -EINVAL;
		}
	*why = NULL;
	return 0;
}

void chos_pack_close(struct chos_pack *pk)
{
	free(pk->top);
	pk->top = NULL;
}

int chos_pack_find(struct chos_pack *pk, const char *group, struct chos_pack_unit *out,
		   const char **why)
{
	const struct chos_pack_header *h = &pk->header;
	const uint64_t entries_at = sizeof(*h) + (uint64_t)h->blocks * sizeof(struct chos_pack_top);
	size_t lo = 0, hi = h->blocks, first, n;
	struct chos_pack_unit *block;
	char *data;
	int r, found = 0;

	*why = NULL;
	/* The last block whose first group is at most `group`. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(pk->top[mid].first, group) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	first = (lo - 1) * (size_t)h->block_entries;
	n = h->groups - first < h->block_entries ? h->groups - first : h->block_entries;
	r = chos_pread_all(pk->fd, entries_at + first * sizeof(*block), n * sizeof(*block), &data);
	if (r < 0) {
		*why = "unreadable";
		return r;
	}
	block = (struct chos_pack_unit *)data;
	if (!same_sha256(block, n * sizeof(*block), pk->top[lo - 1].block_sha256)) {
		*why = "corrupt (an index block does not match its SHA-256)";
		free(data);
		return -EINVAL;
	}
	for (lo = 0, hi = n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		int c = name_terminated(block[mid].group) ? strcmp(block[mid].group, group) : 1;
		if (c == 0) {
			*out = block[mid];
			found = 1;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	free(data);
	return found;
}

int chos_pack_read_unit(const struct chos_pack *pk, int bundle_fd, const struct chos_pack_unit *u,
			char **source, char **bytecode, const char **why)
{
	int r;

	*source = *bytecode = NULL;
	*why = "corrupt (a unit lies outside its files)";
	if (u->source_offset > pk->header.bundle_size ||
	    u->source_length > pk->header.bundle_size - u->source_offset ||
	    u->bytecode_offset > pk->size || u->bytecode_length > pk->size - u->bytecode_offset)
		return -EINVAL;
	*why = "unreadable";
	if ((r = chos_pread_all(bundle_fd, u->source_offset, u->source_length, source)) < 0)
		return r;
	*why = "stale";
	if (!same_sha256(*source, u->source_length, u->source_sha256))
		return -ESTALE;
	/* From here on the source region checked out: -EBADMSG says the bytecode alone is bad. */
	*why = "unreadable bytecode";
	if (chos_pread_all(pk->fd, u->bytecode_offset, u->bytecode_length, bytecode) < 0)
		return -EBADMSG;
	*why = "corrupt (a unit's bytecode does not match its SHA-256)";
	if (!same_sha256(*bytecode, u->bytecode_length, u->bytecode_sha256))
		return -EBADMSG;
	*why = NULL;
	return 0;
}
