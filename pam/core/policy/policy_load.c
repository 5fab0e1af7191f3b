/* SPDX-License-Identifier: BSD-3-Clause
 * Getting the bundle into the sandbox, and compiling it ahead of time.
 *
 * The bundle (.js) is always read, through the trust rule: it is the authority, and its bytes
 * decide whether the bytecode file beside it (BUNDLE.qbc) may stand in for it. That file is
 * used only when it passes the trust rule too, its header matches (magic, the QuickJS version
 * it was compiled by, the bundle's size and SHA-256 as compiled, the bytecode's size), and the
 * bytecode's own SHA-256 matches the one in the header. Not its mtime: copying both files (cp,
 * install, a package) must not make the bytecode stale, and the digest already says whether
 * the bytes are the same.
 *
 * The threat is not an attacker: both files are root-owned and trusted, and whoever can write
 * them can write the policy. It is a corrupt disk, a partial write, a bad copy or a stale
 * file, and those must never crash or hang a login. QuickJS's bytecode reader trusts its
 * input (it checks neither offsets nor opcodes), and the code it loads runs unchecked: 1-4
 * bytes changed behind an intact header crashed the process or never returned about one time
 * in eight. So every byte of the file is checked before a single one reaches JS_ReadObject:
 * the header field by field, the bytecode by its SHA-256. What passes is, byte for byte, what
 * chos_policy_compile_file wrote for this bundle (short of a SHA-256 collision). The bundle's
 * fingerprint is SHA-256 too: one hash, and no doubt about it. For a 50 KB bundle (and 46 KB
 * of bytecode) both take about 70 us on the SHA extensions, 0.3 ms in portable C. A missing, stale,
 * corrupt, untrusted or unreadable bytecode file is logged and the source is used: the outcome is
 * the same, only slower.
 *
 * Deadline: the sandbox's CPU-time deadline is armed in chos_sandbox_open, before anything
 * here runs, so reading, hashing, compiling and JS_ReadObject all spend the policy's budget.
 * But QuickJS calls the interrupt handler only while running code (loop back-edges, calls,
 * the regexp engine), never from its compiler or from JS_ReadObject (QuickJS 2025-04-26), so
 * the deadline cannot stop a load: what bounds the load is the input, capped at BUNDLE_MAX,
 * written by root, and for bytecode verified to be our own compiler's output, plus the
 * memory and stack limits, which the reader and the compiler do honour. A load that used up
 * the budget makes the first poll of the code that follows (within QuickJS's poll interval)
 * end the evaluation with a timeout fault.
 *
 * Compiling source needs QuickJS's eval machinery, which the sandbox context must not have
 * (it would hand `eval` and `new Function` to policies). So source is compiled in a second,
 * short-lived context of the same runtime (same limits, same deadline) that has it, written to
 * bytecode in memory and read into the sandbox context: the very path a .qbc file takes, so
 * source and bytecode run identical code.
 *
 * Header layout (host byte order; the file is only ever read on the machine that wrote it, and
 * QuickJS checks its own bytecode version):
 *   "CHOSQBC3" | QuickJS version, 16 bytes NUL-padded | bundle size u64 | bundle SHA-256 |
 *   bytecode size u64 | bytecode SHA-256 | bytecode */
#include "common/log.h"
#include "policy/policy_internal.h"
#include "common/sha256.h"
#include "common/trust.h"
#include "common/write.h"
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

/* A site bundle is tens of KB; this caps what a broken build can make a login read. */
#define BUNDLE_MAX (16u << 20)
#define QBC_MAGIC "CHOSQBC3"

struct qbc_header {
	char magic[8];
	char quickjs[16];
	uint64_t bundle_size;
	uint8_t bundle_sha256[CHOS_SHA256_BYTES];
	uint64_t bytecode_size;
	uint8_t bytecode_sha256[CHOS_SHA256_BYTES];
};
/* The layout above, without padding: the bytecode tests (test/core, test/security) read it. */
_Static_assert(offsetof(struct qbc_header, bytecode_sha256) == 72 &&
		       sizeof(struct qbc_header) == 104,
	       "struct qbc_header is the documented layout");

/* Everything but the bytecode's digest: what a fresh file for this bundle must hold. */
static void fill_header(struct qbc_header *h, const char *src, size_t len, size_t bytecode_size)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, QBC_MAGIC, sizeof(h->magic));
	strncpy(h->quickjs, CHOS_QUICKJS_VERSION, sizeof(h->quickjs));
	h->bundle_size = len;
	chos_sha256(src, len, h->bundle_sha256);
	h->bytecode_size = bytecode_size;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* Whether data (size bytes, a whole .qbc file) is the fresh bytecode of the bundle src; logs
 * why not. */
static bool bytecode_fresh(struct chos_sandbox *sb, const char *path, const char *src, size_t len,
			   const char *data, size_t size)
{
	struct qbc_header want, have;
	uint8_t digest[CHOS_SHA256_BYTES];

	if (size >= sizeof(have)) {
		memcpy(&have, data, sizeof(have));
		fill_header(&want, src, len, size - sizeof(have));
	}
	if (size < sizeof(have) ||
	    memcmp(&have, &want, offsetof(struct qbc_header, bytecode_sha256))) {
		chos_log(sb->log, LOG_NOTICE,
			 "%s: stale or foreign (not built from this bundle by QuickJS %s); using "
			 "the source: run `chos-policy build`",
			 path, CHOS_QUICKJS_VERSION);
		return false;
	}
	chos_sha256(data + sizeof(have), size - sizeof(have), digest);
	if (memcmp(digest, have.bytecode_sha256, sizeof(digest)) != 0) {
		chos_log(sb->log, LOG_WARNING,
			 "%s: corrupt (its bytecode does not match the SHA-256 in its header); "
			 "using "
			 "the source: run `chos-policy build`",
			 path);
		return false;
	}
	return true;
}

/* Reads the bytecode file into *fn when fresh; 1 used, 0 not (logged why). */
static int try_bytecode(struct chos_sandbox *sb, const struct chos_policy_options *opts,
			const char *src, size_t len, JSValue *fn)
{
	char path[4096]; /* PATH_MAX; longer bundle paths simply get no bytecode */
	struct chos_error err = { 0 };
	const size_t skip = sizeof(struct qbc_header);
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
	if (!bytecode_fresh(sb, path, src, len, data, size)) {
		free(data);
		return 0;
	}
	/* Only our own compiler's output, verified above, gets here. */
	*fn = JS_ReadObject(sb->ctx, (const uint8_t *)data + skip, size - skip,
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
	struct chos_error err = { 0 };
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
	r = chos_write_all(fd, h, sizeof(*h));
	if (r == 0)
		r = chos_write_all(fd, bytes, size);
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
	/* Whoever builds may own the bundle, anywhere: the trust rule applies where it is
	 * loaded. */
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
	chos_sha256(bytes, size, h.bytecode_sha256);
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
