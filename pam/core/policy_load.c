/* SPDX-License-Identifier: BSD-3-Clause
 * Getting the bundle into the sandbox, and compiling it ahead of time.
 *
 * The bundle (.js) is always read, through the trust rule: it is the authority, and its bytes
 * decide whether the bytecode file beside it (BUNDLE.qbc) may stand in for it. That file is
 * used only when it passes the trust rule too and its header matches: magic, the QuickJS
 * version it was compiled by, and the bundle's size and content hash as compiled. Not its
 * mtime: copying both files (cp, install, a package) must not make the bytecode stale, and the
 * hash already says whether the bytes are the same. The hash guards against accidents (a
 * bundle edited or replaced without rebuilding), not attackers: both files are root-owned, so
 * it is a fast 64-bit hash, not a cryptographic one (a 50 KB bundle hashes in microseconds;
 * the whole cold load from bytecode is meant to stay under 0.5 ms). A missing, stale,
 * untrusted or unreadable bytecode file is logged and the source is used: the outcome is the
 * same, only slower.
 *
 * Compiling source needs QuickJS's eval machinery, which the sandbox context must not have
 * (it would hand `eval` and `new Function` to policies). So source is compiled in a second,
 * short-lived context of the same runtime (same limits, same deadline) that has it, written to
 * bytecode in memory and read into the sandbox context: the very path a .qbc file takes, so
 * source and bytecode run identical code.
 *
 * Header layout (host byte order; the file is only ever read on the machine that wrote it, and
 * QuickJS checks its own bytecode version):
 *   "CHOSQBC2" | QuickJS version, 16 bytes NUL-padded | bundle size u64 | bundle hash u64 |
 *   bytecode size u64 | bytecode */
#include "log.h"
#include "policy_internal.h"
#include "trust.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* A site bundle is tens of KB; this caps what a broken build can make a login read. */
#define BUNDLE_MAX (16u << 20)
#define QBC_MAGIC "CHOSQBC2"

struct qbc_header {
	char magic[8];
	char quickjs[16];
	uint64_t bundle_size;
	uint64_t bundle_hash;
	uint64_t bytecode_size;
};

/* 64-bit multiply-xorshift over words, then bytes: a fingerprint, not a MAC (see above). */
static uint64_t content_hash(const char *data, size_t n)
{
	const unsigned char *p = (const unsigned char *)data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n;

	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	for (; n; p++, n--)
		h = (h ^ *p) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 33);
}

static void fill_header(struct qbc_header *h, const char *src, size_t len, size_t bytecode_size)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, QBC_MAGIC, sizeof(h->magic));
	strncpy(h->quickjs, CHOS_QUICKJS_VERSION, sizeof(h->quickjs));
	h->bundle_size = len;
	h->bundle_hash = content_hash(src, len);
	h->bytecode_size = bytecode_size;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Reads the bytecode file into *fn when fresh; 1 used, 0 not (logged why). */
static int try_bytecode(struct chos_sandbox *sb, const struct chos_policy_options *opts,
			const char *src, size_t len, JSValue *fn)
{
	char path[4096]; /* PATH_MAX; longer bundle paths simply get no bytecode */
	struct chos_error err = {0};
	struct qbc_header want, *have;
	char *data;
	size_t size;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", opts->bundle_path, CHOS_BYTECODE_SUFFIX) >=
	    sizeof(path))
		return 0;
	r = chos_read_trusted(path, opts->trust_flags, BUNDLE_MAX, &data, &size, &err);
	if (r == -ENOENT) {
		chos_log(sb->log, LOG_DEBUG, "%s: no bytecode file; using the source", path);
		return 0;
	}
	if (r < 0) {
		chos_log(sb->log, LOG_WARNING, "%s; using the source", err.message);
		return 0;
	}
	have = (struct qbc_header *)data;
	if (size >= sizeof(want))
		fill_header(&want, src, len, size - sizeof(want));
	if (size < sizeof(want) || memcmp(have, &want, sizeof(want)) != 0) {
		chos_log(sb->log, LOG_NOTICE,
			 "%s: stale or foreign (not built from this bundle by QuickJS %s); using "
			 "the source: run `chos-policy build`",
			 path, CHOS_QUICKJS_VERSION);
		free(data);
		return 0;
	}
	*fn = JS_ReadObject(sb->ctx, (const uint8_t *)data + sizeof(want), size - sizeof(want),
			    JS_READ_OBJ_BYTECODE);
	free(data);
	if (JS_IsException(*fn) || JS_VALUE_GET_TAG(*fn) != JS_TAG_FUNCTION_BYTECODE) {
		if (JS_IsException(*fn))
			JS_FreeValue(sb->ctx, JS_GetException(sb->ctx));
		JS_FreeValue(sb->ctx, *fn);
		*fn = JS_UNDEFINED;
		chos_log(sb->log, LOG_WARNING, "%s: unreadable bytecode; using the source", path);
		return 0;
	}
	return 1;
}

/* A context that can compile (eval machinery, regexp compiler) but never runs anything. */
static JSContext *compiler_context(JSRuntime *rt)
{
	JSContext *ctx = JS_NewContextRaw(rt);

	if (ctx) {
		JS_AddIntrinsicBaseObjects(ctx);
		JS_AddIntrinsicRegExpCompiler(ctx);
		JS_AddIntrinsicEval(ctx);
	}
	return ctx;
}

/* Compiles src in ctx; the bytecode in *out (js_free with ctx), or NULL with the exception
 * pending in ctx. */
static uint8_t *compile(JSContext *ctx, const char *src, size_t len, const char *name, size_t *size)
{
	JSValue fn = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
	uint8_t *bytes;

	if (JS_IsException(fn))
		return NULL;
	bytes = JS_WriteObject(ctx, size, fn, JS_WRITE_OBJ_BYTECODE);
	JS_FreeValue(ctx, fn);
	return bytes;
}

/* Moves the compiler context's pending exception into the sandbox context. */
static void move_exception(JSContext *from, JSContext *to)
{
	JS_Throw(to, JS_GetException(from));
}

static int load_source(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		       const char *src, size_t len, JSValue *fn, struct chos_decision *out)
{
	JSContext *cc = compiler_context(sb->rt);
	uint8_t *bytes;
	size_t size;

	if (!cc)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -ENOMEM,
					 "%s: no memory left to compile it", opts->bundle_path);
	bytes = compile(cc, src, len, base_name(opts->bundle_path), &size);
	if (!bytes) {
		move_exception(cc, sb->ctx);
		JS_FreeContext(cc);
		return chos_policy_fault_from_exception(sb, true, out);
	}
	*fn = JS_ReadObject(sb->ctx, bytes, size, JS_READ_OBJ_BYTECODE);
	js_free(cc, bytes);
	JS_FreeContext(cc);
	if (JS_IsException(*fn))
		return chos_policy_fault_from_exception(sb, true, out);
	return 0;
}

int chos_policy_load(struct chos_sandbox *sb, const struct chos_policy_options *opts, JSValue *fn,
		     struct chos_decision *out)
{
	struct chos_error err = {0};
	char *src;
	size_t len;
	int r;

	*fn = JS_UNDEFINED;
	if (!opts->bundle_path)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -EINVAL,
					 "no policy bundle configured");
	r = chos_read_trusted(opts->bundle_path, opts->trust_flags, BUNDLE_MAX, &src, &len, &err);
	if (r < 0)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, r, "%s", err.message);
	if (!opts->prefer_source && try_bytecode(sb, opts, src, len, fn)) {
		out->from_bytecode = 1;
		chos_log(sb->log, LOG_DEBUG, "%s: loaded from bytecode", opts->bundle_path);
		r = 0;
	} else {
		r = load_source(sb, opts, src, len, fn, out);
	}
	free(src);
	return r;
}

static int write_all(int fd, const void *buf, size_t n)
{
	for (const char *p = buf; n;) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes header + bytes to path, atomically (temporary file, fsync, rename), mode 0644. */
static int write_bytecode(const char *path, const struct qbc_header *h, const uint8_t *bytes,
			  size_t size, struct chos_error *err)
{
	char tmp[4096]; /* PATH_MAX */
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return chos_fail(err, -ENAMETOOLONG, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return chos_fail(err, -errno, "%s: %s", tmp, strerror(errno));
	r = write_all(fd, h, sizeof(*h));
	if (r == 0)
		r = write_all(fd, bytes, size);
	if (r == 0 && fchmod(fd, 0644) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		return chos_fail(err, r, "%s: %s", path, strerror(-r));
	}
	return 0;
}

int chos_policy_compile_file(const char *bundle_path, size_t *bytecode_len, struct chos_error *err)
{
	char path[4096]; /* PATH_MAX */
	struct qbc_header h;
	JSRuntime *rt;
	JSContext *ctx;
	uint8_t *bytes;
	size_t len, size;
	char *src;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", bundle_path, CHOS_BYTECODE_SUFFIX) >=
	    sizeof(path))
		return chos_fail(err, -ENAMETOOLONG, "%s: path too long", bundle_path);
	/* Whoever builds may own the bundle, anywhere; the trust rule applies where it is loaded. */
	r = chos_read_trusted(bundle_path, CHOS_TRUST_ANY_OWNER | CHOS_TRUST_FILE_ONLY, BUNDLE_MAX,
			      &src, &len, err);
	if (r < 0)
		return r;
	rt = JS_NewRuntime();
	ctx = rt ? compiler_context(rt) : NULL;
	if (!ctx) {
		r = chos_fail(err, -ENOMEM, "%s: cannot create a QuickJS runtime", bundle_path);
		goto free_rt;
	}
	/* The source text goes; line and column tables stay, for fault positions. */
	JS_SetStripInfo(rt, JS_STRIP_SOURCE);
	bytes = compile(ctx, src, len, base_name(bundle_path), &size);
	if (!bytes) {
		JSValue exc = JS_GetException(ctx);
		JSValue line = JS_GetPropertyStr(ctx, exc, "lineNumber");
		JSValue column = JS_GetPropertyStr(ctx, exc, "columnNumber");
		const char *msg = JS_ToCString(ctx, exc);
		int32_t l = 0, c = 0;
		/* "PATH:LINE:COLUMN: message", the compiler convention editors jump to. */
		if (JS_IsNumber(line) && JS_IsNumber(column) && JS_ToInt32(ctx, &l, line) == 0 &&
		    JS_ToInt32(ctx, &c, column) == 0 && l > 0)
			r = chos_fail(err, -EINVAL, "%s:%d:%d: %s", bundle_path, l, c,
				      msg ? msg : "does not compile");
		else
			r = chos_fail(err, -EINVAL, "%s: %s", bundle_path,
				      msg ? msg : "does not compile");
		JS_FreeCString(ctx, msg);
		JS_FreeValue(ctx, line);
		JS_FreeValue(ctx, column);
		JS_FreeValue(ctx, exc);
		goto free_ctx;
	}
	fill_header(&h, src, len, size);
	r = write_bytecode(path, &h, bytes, size, err);
	js_free(ctx, bytes);
	if (r == 0)
		*bytecode_len = sizeof(h) + size;
free_ctx:
	JS_FreeContext(ctx);
free_rt:
	if (rt)
		JS_FreeRuntime(rt);
	free(src);
	return r;
}
