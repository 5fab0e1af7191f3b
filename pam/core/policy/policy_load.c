/* SPDX-License-Identifier: BSD-3-Clause
 * Compiling: source to bytecode in memory for a login that falls back to the source, and ahead
 * of time, the bytecode file beside a bundle (chos_policy_compile_file).
 *
 * The bundle (.js) is the authority: a login uses the bytecode file beside it (BUNDLE.qbc, an
 * indexed pack of each unit's bytecode: policy_pack.h) only for units whose source bytes match
 * what the pack was built from (policy_bundle.c). Not its mtime: copying both files (cp,
 * install, a package) must not make the bytecode stale, and the digests already say whether the
 * bytes are the same.
 *
 * The threat is not an attacker: both files are root-owned and trusted, and whoever can write
 * them can write the policy. It is a corrupt disk, a partial write, a bad copy or a stale
 * file, and those must never crash or hang a login. QuickJS's bytecode reader trusts its
 * input (it checks neither offsets nor opcodes), and the code it loads runs unchecked: 1-4
 * bytes changed behind an intact header crashed the process or never returned about one time
 * in eight. So every byte of bytecode is checked by its SHA-256 before a single one reaches
 * JS_ReadObject, and every structure leading to it (header, top table, index block) by a
 * SHA-256 of its own. What passes is, byte for byte, what chos_policy_compile_file wrote for
 * these source bytes (short of a SHA-256 collision). A missing, stale, corrupt, untrusted or
 * unreadable bytecode file is logged and the source is used: the outcome is the same, only
 * slower.
 *
 * Deadline: the sandbox's CPU-time deadline is armed in chos_sandbox_open, before anything
 * loads, so reading, hashing, compiling and JS_ReadObject all spend the policy's budget.
 * But QuickJS calls the interrupt handler only while running code (loop back-edges, calls,
 * the regexp engine), never from its compiler or from JS_ReadObject (QuickJS 2025-04-26), so
 * the deadline cannot stop a load: what bounds the load is the input, capped at
 * CHOS_BUNDLE_MAX, written by root, and for bytecode verified to be our own compiler's output,
 * plus the memory and stack limits, which the reader and the compiler do honour. A load that
 * used up the budget makes the first poll of the code that follows (within QuickJS's poll
 * interval) end the evaluation with a timeout fault.
 *
 * Compiling source needs QuickJS's eval machinery, which the sandbox context must not have
 * (it would hand `eval` and `new Function` to policies). So source is compiled in a second,
 * short-lived context of the same runtime (same limits, same deadline) that has it, written to
 * bytecode in memory and read into the sandbox context: the very path a .qbc unit takes, so
 * source and bytecode run identical code. */
#include "policy/policy_internal.h"
#include "common/trust.h"
#include "common/write.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

JSContext *chos_compiler_context(JSRuntime *rt)
{
	JSContext *ctx = JS_NewContextRaw(rt);

	if (ctx) {
		JS_AddIntrinsicBaseObjects(ctx);
		JS_AddIntrinsicRegExpCompiler(ctx);
		JS_AddIntrinsicEval(ctx);
	}
	return ctx;
}

uint8_t *chos_policy_compile_text(JSContext *ctx, const char *src, size_t len, const char *name,
				  size_t *size)
{
	JSValue fn = JS_Eval(ctx, src, len, name, JS_EVAL_TYPE_GLOBAL | JS_EVAL_FLAG_COMPILE_ONLY);
	uint8_t *bytes;

	if (JS_IsException(fn))
		return NULL;
	bytes = JS_WriteObject(ctx, size, fn, JS_WRITE_OBJ_BYTECODE);
	JS_FreeValue(ctx, fn);
	return bytes;
}

/* Writes data to path, atomically (temporary file, fsync, rename), mode 0644. */
static int write_bytecode(const char *path, const uint8_t *data, size_t size,
			  struct chos_error *err)
{
	char tmp[4096]; /* PATH_MAX */
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return chos_fail(err, -ENAMETOOLONG, "%s: path too long", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return chos_fail(err, -errno, "%s: %s", tmp, strerror(errno));
	r = chos_write_all(fd, data, size);
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

/* The pending compile error as "PATH:LINE:COLUMN: message", the convention editors jump to. */
static int compile_error(JSContext *ctx, const char *bundle_path, struct chos_error *err)
{
	JSValue exc = JS_GetException(ctx);
	JSValue line = JS_GetPropertyStr(ctx, exc, "lineNumber");
	JSValue column = JS_GetPropertyStr(ctx, exc, "columnNumber");
	const char *msg = JS_ToCString(ctx, exc);
	int32_t l = 0, c = 0;
	int r;

	if (JS_IsNumber(line) && JS_IsNumber(column) && JS_ToInt32(ctx, &l, line) == 0 &&
	    JS_ToInt32(ctx, &c, column) == 0 && l > 0)
		r = chos_fail(err, -EINVAL, "%s:%d:%d: %s", bundle_path, l, c,
			      msg ? msg : "does not compile");
	else
		r = chos_fail(err, -EINVAL, "%s: %s", bundle_path, msg ? msg : "does not compile");
	JS_FreeCString(ctx, msg);
	JS_FreeValue(ctx, line);
	JS_FreeValue(ctx, column);
	JS_FreeValue(ctx, exc);
	return r;
}

/* Every unit of src compiled in ctx: code[i] and size[i] (js_free with ctx). */
static int compile_units(JSContext *ctx, const char *bundle_path, const char *src,
			 const struct chos_units *units, uint8_t **code, size_t *size,
			 struct chos_error *err)
{
	for (size_t i = 0; i < units->count; i++) {
		const struct chos_unit *u = &units->v[i];
		code[i] = chos_unit_compile(ctx, src + u->offset, u->length, u->line, bundle_path,
					    &size[i]);
		if (!code[i])
			return compile_error(ctx, bundle_path, err);
	}
	return 0;
}

int chos_policy_compile_file(const char *bundle_path, size_t *bytecode_len, struct chos_error *err)
{
	char path[4096]; /* PATH_MAX */
	struct chos_units units = { 0 };
	uint8_t **code = NULL, *image = NULL;
	size_t *sizes = NULL, len, image_size = 0;
	JSRuntime *rt = NULL;
	JSContext *ctx = NULL;
	char *src;
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s%s", bundle_path, CHOS_BYTECODE_SUFFIX) >=
	    sizeof(path))
		return chos_fail(err, -ENAMETOOLONG, "%s: path too long", bundle_path);
	/* Whoever builds may own the bundle, anywhere: the trust rule applies where it is
	 * loaded. */
	r = chos_read_trusted(bundle_path, CHOS_TRUST_ANY_OWNER | CHOS_TRUST_FILE_ONLY,
			      CHOS_BUNDLE_MAX, &src, &len, err);
	if (r < 0)
		return r;
	if (chos_units_split(src, len, &units) < 0) {
		r = chos_fail(err, -EINVAL,
			      "%s: a `// chos:unit GROUP` line names no valid group or is out of "
			      "order (build it with `chos-policy build`)",
			      bundle_path);
		goto out;
	}
	code = calloc(units.count, sizeof(*code));
	sizes = calloc(units.count, sizeof(*sizes));
	rt = code && sizes ? JS_NewRuntime() : NULL;
	ctx = rt ? chos_compiler_context(rt) : NULL;
	if (!ctx) {
		r = chos_fail(err, -ENOMEM, "%s: cannot create a QuickJS runtime", bundle_path);
		goto out;
	}
	/* The source text goes; line and column tables stay, for fault positions. */
	JS_SetStripInfo(rt, JS_STRIP_SOURCE);
	r = compile_units(ctx, bundle_path, src, &units, code, sizes, err);
	if (r == 0 && chos_pack_image(src, len, &units, code, sizes, &image, &image_size) < 0)
		r = chos_fail(err, -ENOMEM, "%s: out of memory", bundle_path);
	if (r == 0)
		r = write_bytecode(path, image, image_size, err);
	if (r == 0)
		*bytecode_len = image_size;
out:
	for (size_t i = 0; code && i < units.count; i++)
		if (code[i])
			js_free(ctx, code[i]);
	free(image);
	free(code);
	free(sizes);
	chos_units_free(&units);
	if (ctx)
		JS_FreeContext(ctx);
	if (rt)
		JS_FreeRuntime(rt);
	free(src);
	return r;
}
