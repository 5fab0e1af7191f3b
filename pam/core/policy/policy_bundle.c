/* SPDX-License-Identifier: BSD-3-Clause
 * Loading the units a login needs: the base unit when the policy opens, then, before each
 * evaluation, the units of the user's groups that have a file and have not run yet, in bundle
 * order. A login thus reads and hashes the pack's header and top table, the index blocks it
 * searches, and its own units' source regions and bytecode: a cost that does not grow with the
 * number of group files.
 *
 * The bundle is opened once, through the trust rule, and is the authority: a unit's bytecode is
 * used only when the unit's source region, read from the bundle, matches the SHA-256 its pack
 * entry holds (policy_pack.h), and only after the bytecode matches its own. When something does
 * not check out, one line says why and the source is used, with the same outcome:
 *   - no pack, an untrusted, stale, foreign or corrupt header or top table, a corrupt index
 *     block, or a unit's source region that differs (the bundle changed): the whole bundle is
 *     read once, split at its unit markers (policy_units.c), and every unit from then on is
 *     compiled from it;
 *   - a unit's bytecode alone corrupt or unreadable: that unit is compiled from its source
 *     region, already read and checked, and the units after it from the whole source.
 * So a login writes at most one such line.
 * Either way the login runs the same units, so a source login and a bytecode login decide alike.
 *
 * With whole_bundle the bundle is compiled and run as one script, every group registering
 * itself: what the WASM harness and explain run, for the tests that compare the two. */
#include "common/log.h"
#include "policy/policy_internal.h"
#include "common/trust.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

static void log_unusable(struct chos_sandbox *sb, const struct chos_bundle *b, const char *why)
{
	if (strcmp(why, "stale") == 0)
		chos_log(sb->log, LOG_NOTICE,
			 "%s%s: stale or foreign (not built from this bundle by QuickJS %s); using "
			 "the source: run `chos-policy build`",
			 b->path, CHOS_BYTECODE_SUFFIX, CHOS_QUICKJS_VERSION);
	else
		chos_log(sb->log, LOG_WARNING,
			 "%s%s: %s; using the source: run `chos-policy build`", b->path,
			 CHOS_BYTECODE_SUFFIX, why);
}

/* Stops using the pack: the whole bundle, read and split, serves every unit from now on. */
static int use_source(struct chos_bundle *b, struct chos_decision *out)
{
	int r;

	if (b->pack_fd >= 0) {
		chos_pack_close(&b->pack);
		close(b->pack_fd);
		b->pack_fd = -1;
	}
	b->from_bytecode = false;
	if (b->source)
		return 0;
	r = chos_pread_all(b->fd, 0, (size_t)b->size, &b->source);
	if (r < 0)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, r, "%s: %s", b->path, strerror(-r));
	/* Not split (a marker out of order or malformed: not a bundle `chos-policy build`
	 * wrote): it is one unit, run whole. */
	if (b->whole || chos_units_split(b->source, (size_t)b->size, &b->units) < 0) {
		b->units.v = calloc(1, sizeof(*b->units.v));
		if (!b->units.v)
			return chos_policy_fault(out, CHOS_FAULT_LOAD, -ENOMEM, "out of memory");
		b->units.v[0].length = (size_t)b->size;
		b->units.count = 1;
	}
	return 0;
}

/* The source unit of group, or NULL. */
static const struct chos_unit *source_unit(const struct chos_bundle *b, const char *group)
{
	size_t lo = 1, hi = b->units.count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(b->units.v[mid].group, group);
		if (c == 0)
			return &b->units.v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int run(struct chos_sandbox *sb, struct chos_bundle *b, JSValue fn,
	       struct chos_decision *out)
{
	JSValue ret = JS_EvalFunction(sb->ctx, fn); /* takes fn */

	if (JS_IsException(ret))
		return chos_policy_fault_from_exception(sb, false, out);
	JS_FreeValue(sb->ctx, ret);
	b->loaded++;
	return 0;
}

/* Compiles text (a unit starting after `line` lines of the bundle) and runs it. The compiler
 * context has eval machinery the sandbox must not have: it only compiles (policy_load.c). */
static int run_source(struct chos_sandbox *sb, struct chos_bundle *b, const char *text, size_t len,
		      unsigned line, struct chos_decision *out)
{
	JSContext *cc = chos_compiler_context(sb->rt);
	uint8_t *bytes;
	JSValue fn;
	size_t size;

	if (!cc)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -ENOMEM,
					 "%s: no memory left to compile it", b->path);
	bytes = chos_unit_compile(cc, text, len, line, b->path, &size);
	if (!bytes) {
		JS_Throw(sb->ctx, JS_GetException(cc));
		JS_FreeContext(cc);
		return chos_policy_fault_from_exception(sb, true, out);
	}
	fn = JS_ReadObject(sb->ctx, bytes, size, JS_READ_OBJ_BYTECODE);
	js_free(cc, bytes);
	JS_FreeContext(cc);
	if (JS_IsException(fn))
		return chos_policy_fault_from_exception(sb, true, out);
	b->from_bytecode = false;
	return run(sb, b, fn, out);
}

static int run_source_unit(struct chos_sandbox *sb, struct chos_bundle *b,
			   const struct chos_unit *u, struct chos_decision *out)
{
	return run_source(sb, b, b->source + u->offset, u->length, u->line, out);
}

/* Runs the unit of pack entry e: from its bytecode when everything checks out, else from the
 * source (its checked region, or the whole bundle's). */
static int run_packed(struct chos_sandbox *sb, struct chos_bundle *b,
		      const struct chos_pack_unit *e, struct chos_decision *out)
{
	char *source, *code;
	const char *why;
	int r = chos_pack_read_unit(&b->pack, b->fd, e, &source, &code, &why);

	if (r == 0) {
		/* Only bytecode our compiler wrote for exactly these source bytes gets here. */
		JSValue fn = JS_ReadObject(sb->ctx, (const uint8_t *)code, e->bytecode_length,
					   JS_READ_OBJ_BYTECODE);
		if (!JS_IsException(fn) && JS_VALUE_GET_TAG(fn) == JS_TAG_FUNCTION_BYTECODE) {
			free(code);
			free(source);
			return run(sb, b, fn, out);
		}
		if (JS_IsException(fn))
			JS_FreeValue(sb->ctx, JS_GetException(sb->ctx));
		JS_FreeValue(sb->ctx, fn);
		why = "unreadable bytecode";
		r = -EBADMSG;
	}
	free(code);
	log_unusable(sb, b, why);
	if (r == -EBADMSG) {
		/* The source region checked out: compile this unit from it. The pack is damaged,
		 * so the units after it come from the source too, without another line. */
		r = run_source(sb, b, source, e->source_length, e->line, out);
		free(source);
		return r < 0 ? r : use_source(b, out);
	}
	free(source);
	r = use_source(b, out);
	if (r < 0)
		return r;
	const struct chos_unit *u = e->group[0] ? source_unit(b, e->group) : &b->units.v[0];
	return u ? run_source_unit(sb, b, u, out) : 0;
}

/* The pack beside the bundle, when it is trusted and its header and top table check out. */
static void open_pack(struct chos_sandbox *sb, struct chos_bundle *b)
{
	char path[4096]; /* PATH_MAX; longer bundle paths simply get no bytecode */
	struct chos_error err = { 0 };
	const char *why;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", b->path, CHOS_BYTECODE_SUFFIX) >=
	    sizeof(path))
		return;
	b->pack_fd = chos_open_trusted(path, b->trust_flags, &err);
	if (b->pack_fd == -ENOENT) {
		chos_log(sb->log, LOG_DEBUG, "%s: no bytecode file; using the source", path);
	} else if (b->pack_fd < 0) {
		chos_log(sb->log, LOG_WARNING, "%s; using the source", err.message);
	} else if (chos_pack_open(&b->pack, b->pack_fd, b->size, &why) < 0) {
		log_unusable(sb, b, why);
		close(b->pack_fd);
	} else {
		b->from_bytecode = true;
		return;
	}
	b->pack_fd = -1;
}

int chos_bundle_open(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		     struct chos_bundle *b, struct chos_decision *out)
{
	struct chos_error err = { 0 };
	struct stat st;
	int r;

	memset(b, 0, sizeof(*b));
	b->fd = b->pack_fd = -1;
	b->path = opts->bundle_path;
	b->trust_flags = opts->trust_flags;
	b->whole = opts->whole_bundle;
	if (!b->path)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -EINVAL,
					 "no policy bundle configured");
	b->fd = chos_open_trusted(b->path, b->trust_flags, &err);
	if (b->fd < 0)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, b->fd, "%s", err.message);
	if (fstat(b->fd, &st) < 0)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -errno, "%s: %s", b->path,
					 strerror(errno));
	if ((uint64_t)st.st_size > CHOS_BUNDLE_MAX)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -EFBIG, "%s: larger than %u bytes",
					 b->path, CHOS_BUNDLE_MAX);
	b->size = (uint64_t)st.st_size;
	if (!opts->prefer_source && !b->whole)
		open_pack(sb, b);
	if (b->pack_fd >= 0) {
		r = run_packed(sb, b, &b->pack.header.base, out);
	} else {
		r = use_source(b, out);
		if (r == 0)
			r = run_source_unit(sb, b, &b->units.v[0], out);
	}
	if (b->from_bytecode)
		chos_log(sb->log, LOG_DEBUG, "%s: base unit loaded from bytecode", b->path);
	return r;
}

/* Marks group as looked up; false when it already was (or there is no memory to remember it,
 * when looking it up again costs only time). */
static bool first_look(struct chos_bundle *b, const char *group)
{
	void *more;

	for (size_t i = 0; i < b->seen_count; i++)
		if (strcmp(b->seen[i], group) == 0)
			return false;
	more = realloc(b->seen, (b->seen_count + 1) * sizeof(*b->seen));
	if (!more)
		return true;
	b->seen = more;
	snprintf(b->seen[b->seen_count++], sizeof(*b->seen), "%s", group);
	return true;
}

/* A group unit to run: its pack entry (pack mode) and where it lies in the bundle. */
struct pending {
	struct chos_pack_unit entry;
	const struct chos_unit *unit; /* source mode */
	uint64_t offset;
};

static int by_offset(const void *a, const void *b)
{
	uint64_t x = ((const struct pending *)a)->offset, y = ((const struct pending *)b)->offset;

	return x < y ? -1 : x > y;
}

/* The user's groups that have a unit and have not run: in *list, *count of them. */
static int collect(struct chos_sandbox *sb, struct chos_bundle *b, const struct chos_context *ctx,
		   struct pending *list, size_t *count, struct chos_decision *out)
{
	const size_t seen_before = b->seen_count;
	const char *why;
	int r;

	*count = 0;
	for (size_t i = 0; i < ctx->group_count; i++) {
		const char *group = ctx->groups[i];
		struct pending *p = &list[*count];
		if (strlen(group) > CHOS_NAME_MAX || !first_look(b, group))
			continue;
		memset(p, 0, sizeof(*p));
		if (b->pack_fd < 0) {
			p->unit = source_unit(b, group);
			if (p->unit) {
				p->offset = p->unit->offset;
				++*count;
			}
			continue;
		}
		r = chos_pack_find(&b->pack, group, &p->entry, &why);
		if (r > 0) {
			p->offset = p->entry.source_offset;
			++*count;
		} else if (r < 0) {
			/* Look every group up again, in the source. */
			log_unusable(sb, b, why);
			b->seen_count = seen_before;
			if ((r = use_source(b, out)) < 0)
				return r;
			return collect(sb, b, ctx, list, count, out);
		}
	}
	return 0;
}

int chos_bundle_load_groups(struct chos_sandbox *sb, struct chos_bundle *b,
			    const struct chos_context *ctx, struct chos_decision *out)
{
	struct pending *list;
	size_t count;
	int r;

	if (b->whole || ctx->group_count == 0)
		return 0;
	list = calloc(ctx->group_count, sizeof(*list));
	if (!list)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -ENOMEM, "out of memory");
	r = collect(sb, b, ctx, list, &count, out);
	/* Bundle order, as when the bundle runs whole. */
	qsort(list, count, sizeof(*list), by_offset);
	for (size_t i = 0; r == 0 && i < count; i++) {
		if (b->pack_fd >= 0 && !list[i].unit) {
			r = run_packed(sb, b, &list[i].entry, out);
		} else {
			const struct chos_unit *u =
				list[i].unit ? list[i].unit : source_unit(b, list[i].entry.group);
			if (u)
				r = run_source_unit(sb, b, u, out);
		}
	}
	free(list);
	return r;
}

void chos_bundle_close(struct chos_bundle *b)
{
	if (b->pack_fd >= 0) {
		chos_pack_close(&b->pack);
		close(b->pack_fd);
	}
	if (b->fd >= 0)
		close(b->fd);
	free(b->source);
	chos_units_free(&b->units);
	free(b->seen);
	memset(b, 0, sizeof(*b));
	b->fd = b->pack_fd = -1;
}
