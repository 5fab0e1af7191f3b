/* SPDX-License-Identifier: BSD-3-Clause
 * The sandbox one evaluation runs in: a fresh runtime with its memory limit, stack limit and
 * deadline set before any code runs, and a raw context holding only what a policy needs.
 *
 * What a policy gets is the two tables below: `intrinsics` (added to a raw context) and
 * `console_funcs`. Date is in because site policies legitimately look at the clock (maintenance
 * windows) and esbuild output and the WASM harness both have it; it adds no channel out of the
 * sandbox. Promise is in although decide is synchronous: without it, merely calling an async
 * function leaks the runtime's objects (QuickJS needs the intrinsic to build the result), and
 * an async policy's Promise is then a clear shape fault. Left out: eval (and so `new Function`),
 * Proxy (the validator reads plain data properties and must never run policy code through a
 * trap), typed arrays, WeakRef, and every std/os module. The `eval` global itself is removed,
 * so using it is a ReferenceError rather than a half-present function.
 *
 * `console.log/info/warn/error` write one line each to the log sink ("policy: ..."), at most
 * CHOS_CONSOLE_LINES_MAX lines per evaluation.
 *
 * The deadline counts the CPU time of the evaluating thread (CLOCK_THREAD_CPUTIME_ID), not the
 * wall clock: a policy cannot block (it has no I/O), so CPU time is exactly the work it does,
 * and a login storm that leaves it a fraction of a CPU must not turn every login into a timeout
 * fault. The interrupt handler compares that clock with the deadline; QuickJS polls it on loop
 * back-edges, calls and inside the regexp engine, and its "interrupted" error is uncatchable, so
 * `for(;;){try{for(;;){}}catch(e){}}` ends too. Once expired it keeps interrupting: nothing the
 * policy left behind runs again. */
#include "common/log.h"
#include "policy/policy_internal.h"
#include <errno.h>
#include <string.h>
#include <syslog.h>

/* Bytes of console output kept per line; the sink cuts at 1024 anyway. */
#define CONSOLE_LINE_MAX 1000

static int interrupt_handler(JSRuntime *rt, void *opaque)
{
	struct chos_sandbox *sb = opaque;
	struct timespec now;

	(void)rt;
	if (sb->expired)
		return 1;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	if (now.tv_sec > sb->deadline.tv_sec ||
	    (now.tv_sec == sb->deadline.tv_sec && now.tv_nsec >= sb->deadline.tv_nsec))
		sb->expired = true;
	return sb->expired;
}

/* Appends the text of one console argument: JSON for plain objects and arrays (what an admin
 * debugging a policy wants to see), String() for the rest. Runs policy code (toString,
 * toJSON) under the same limits; its exception propagates. */
static int append_arg(JSContext *ctx, JSValueConst arg, char *line, size_t *len)
{
	JSValue text = JS_UNDEFINED;
	const char *s;
	size_t n;

	if (JS_IsObject(arg) && !JS_IsFunction(ctx, arg)) {
		text = JS_JSONStringify(ctx, arg, JS_UNDEFINED, JS_UNDEFINED);
		if (JS_IsException(text))
			return -1;
	}
	s = JS_ToCStringLen(ctx, &n, JS_IsUndefined(text) ? arg : text);
	JS_FreeValue(ctx, text);
	if (!s)
		return -1;
	if (*len && *len < CONSOLE_LINE_MAX)
		line[(*len)++] = ' ';
	if (n > CONSOLE_LINE_MAX - *len)
		n = CONSOLE_LINE_MAX - *len;
	memcpy(line + *len, s, n);
	*len += n;
	JS_FreeCString(ctx, s);
	return 0;
}

static JSValue console_write(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv,
			     int priority)
{
	struct chos_sandbox *sb = JS_GetContextOpaque(ctx);
	char line[CONSOLE_LINE_MAX + 1];
	size_t len = 0;

	(void)this_val;
	if (sb->console_lines >= CHOS_CONSOLE_LINES_MAX) {
		if (sb->console_lines++ == CHOS_CONSOLE_LINES_MAX)
			chos_log(sb->log, LOG_WARNING,
				 "policy: more than %d console lines; the rest is dropped",
				 CHOS_CONSOLE_LINES_MAX);
		return JS_UNDEFINED;
	}
	for (int i = 0; i < argc; i++)
		if (append_arg(ctx, argv[i], line, &len) < 0)
			return JS_EXCEPTION;
	line[len] = '\0';
	sb->console_lines++;
	chos_log(sb->log, priority, "policy: %s", line);
	return JS_UNDEFINED;
}

static const JSCFunctionListEntry console_funcs[] = {
	JS_CFUNC_MAGIC_DEF("log", 1, console_write, LOG_INFO),
	JS_CFUNC_MAGIC_DEF("info", 1, console_write, LOG_INFO),
	JS_CFUNC_MAGIC_DEF("warn", 1, console_write, LOG_WARNING),
	JS_CFUNC_MAGIC_DEF("error", 1, console_write, LOG_ERR),
};

/* Everything a policy's context is built from (see the header comment for what is left out). */
/* One entry per line, each with what it brings. */
/* clang-format off */
static void (*const intrinsics[])(JSContext *) = {
	JS_AddIntrinsicBaseObjects,     /* Object, Function, Array, String, Number, Boolean,
					   Symbol, BigInt, Math, Reflect, errors, generators */
	JS_AddIntrinsicDate,
	JS_AddIntrinsicStringNormalize,
	JS_AddIntrinsicRegExpCompiler,  /* RegExp literals and constructors compile */
	JS_AddIntrinsicRegExp,
	JS_AddIntrinsicJSON,
	JS_AddIntrinsicMapSet,          /* Map, Set, WeakMap, WeakSet */
	JS_AddIntrinsicPromise,         /* async functions; see the header comment */
};
/* clang-format on */

/* The raw context and its globals; 0 or -ENOMEM. */
static int add_globals(struct chos_sandbox *sb)
{
	JSContext *ctx = sb->ctx;
	JSValue global, console;
	JSAtom eval;
	int r = 0;

	for (size_t i = 0; i < sizeof(intrinsics) / sizeof(intrinsics[0]); i++)
		intrinsics[i](ctx);
	JS_SetContextOpaque(ctx, sb);

	global = JS_GetGlobalObject(ctx);
	eval = JS_NewAtom(ctx, "eval");
	if (eval == JS_ATOM_NULL || JS_DeleteProperty(ctx, global, eval, 0) < 0)
		r = -ENOMEM;
	JS_FreeAtom(ctx, eval);
	console = JS_NewObject(ctx);
	if (JS_IsException(console)) {
		r = -ENOMEM;
	} else {
		JS_SetPropertyFunctionList(ctx, console, console_funcs,
					   sizeof(console_funcs) / sizeof(console_funcs[0]));
		/* Takes console; a failure here is the only way to see the list failed too. */
		if (r == 0 && JS_SetPropertyStr(ctx, global, "console", console) < 0)
			r = -ENOMEM;
		else if (r < 0)
			JS_FreeValue(ctx, console);
	}
	JS_FreeValue(ctx, global);
	return r;
}

int chos_sandbox_open(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		      struct chos_error *err)
{
	memset(sb, 0, sizeof(*sb));
	sb->log = opts->log;
	sb->memory_bytes = opts->memory_bytes ? opts->memory_bytes : CHOS_POLICY_MEMORY_DEFAULT;
	sb->stack_bytes = opts->stack_bytes ? opts->stack_bytes : CHOS_POLICY_STACK_DEFAULT;
	sb->timeout_ms = opts->timeout_ms ? opts->timeout_ms : CHOS_POLICY_TIMEOUT_MS_DEFAULT;
	chos_sandbox_rearm(sb);

	sb->arena = chos_arena_new();
	sb->rt = sb->arena ? JS_NewRuntime2(&chos_arena_functions, sb->arena) : NULL;
	if (!sb->rt) {
		chos_sandbox_close(sb);
		return chos_fail(err, -ENOMEM, "cannot create a QuickJS runtime");
	}
	/* Limits first: nothing, not even the intrinsics, is allocated without them. */
	JS_SetMemoryLimit(sb->rt, sb->memory_bytes);
	JS_SetMaxStackSize(sb->rt, sb->stack_bytes);
	JS_SetInterruptHandler(sb->rt, interrupt_handler, sb);
	/* The runtime lives for one evaluation: reference counting frees most garbage, and a cycle
	 * collection while the bundle loads only costs time. Collect when half the limit is used.
	 */
	JS_SetGCThreshold(sb->rt, sb->memory_bytes / 2);
	sb->ctx = JS_NewContextRaw(sb->rt);
	if (!sb->ctx || add_globals(sb) < 0) {
		chos_sandbox_close(sb);
		return chos_fail(
			err, -ENOMEM,
			"cannot create the policy context within the memory limit (%zu bytes)",
			sb->memory_bytes);
	}
	return 0;
}

void chos_sandbox_rearm(struct chos_sandbox *sb)
{
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &sb->deadline);
	sb->deadline.tv_sec += sb->timeout_ms / 1000;
	sb->deadline.tv_nsec += (long)(sb->timeout_ms % 1000) * 1000000L;
	if (sb->deadline.tv_nsec >= 1000000000L) {
		sb->deadline.tv_sec++;
		sb->deadline.tv_nsec -= 1000000000L;
	}
	sb->expired = false;
	sb->console_lines = 0;
	if (sb->rt)
		JS_SetMemoryLimit(sb->rt, sb->memory_bytes);
}

void chos_sandbox_leave(struct chos_sandbox *sb)
{
	struct timespec now;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
	sb->left.tv_sec = sb->deadline.tv_sec - now.tv_sec;
	sb->left.tv_nsec = sb->deadline.tv_nsec - now.tv_nsec;
	if (sb->left.tv_nsec < 0) {
		sb->left.tv_sec--;
		sb->left.tv_nsec += 1000000000L;
	}
	if (sb->left.tv_sec < 0)
		sb->left.tv_sec = sb->left.tv_nsec = 0; /* spent: the next poll interrupts */
}

void chos_sandbox_enter(struct chos_sandbox *sb)
{
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &sb->deadline);
	sb->deadline.tv_sec += sb->left.tv_sec;
	sb->deadline.tv_nsec += sb->left.tv_nsec;
	if (sb->deadline.tv_nsec >= 1000000000L) {
		sb->deadline.tv_sec++;
		sb->deadline.tv_nsec -= 1000000000L;
	}
	JS_UpdateStackTop(sb->rt);
}

/* Every block of the runtime is the arena's: releasing it is the whole of freeing them. */
void chos_sandbox_close(struct chos_sandbox *sb)
{
	if (chos_arena_frees_each && sb->ctx)
		JS_FreeContext(sb->ctx);
	if (chos_arena_frees_each && sb->rt)
		JS_FreeRuntime(sb->rt);
	chos_arena_release(sb->arena);
	sb->arena = NULL;
	sb->ctx = NULL;
	sb->rt = NULL;
}
