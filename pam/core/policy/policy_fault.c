/* SPDX-License-Identifier: BSD-3-Clause
 * Turning what went wrong into a fault: its class, a message for the log line, the bundle
 * line:column (mapped to .ts by the CLI) and the policy file that was running.
 *
 * The class comes from the sandbox, not from anything the policy can fake into a silent pass:
 * the expired deadline means TIMEOUT; an error while compiling the bundle means LOAD; QuickJS's
 * InternalError "out of memory" (or no exception value at all, when even the error could not be
 * allocated) means MEMORY; its "stack overflow" means STACK; anything else thrown is THROW. Reading
 * the exception runs no policy code: only own data properties of the error and of its prototype are
 * read. The file comes from
 * __chos.current, read after the memory limit is raised by a little headroom (an out-of-memory
 * fault leaves none) and, after a timeout, with every poll interrupting. */
#include "policy/policy_internal.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void chos_policy_set_position(struct chos_decision *out, const char *text)
{
	int line, column;
	char end;

	if (sscanf(text, "%d:%d%c", &line, &column, &end) == 2 && line > 0 && column > 0) {
		out->line = line;
		out->column = column;
	}
}

int chos_policy_fault(struct chos_decision *out, enum chos_fault fault, int code, const char *fmt,
		      ...)
{
	va_list ap;

	out->fault = fault;
	out->outcome = CHOS_OUTCOME_HOST;
	out->env[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(out->fault_message, sizeof(out->fault_message), fmt, ap);
	va_end(ap);
	return code;
}

/* Copies own data property `name` of obj when it is a string; 1 when copied. */
static int copy_string_prop(JSContext *ctx, JSValueConst obj, const char *name, char *dst,
			    size_t size)
{
	JSValue v;
	const char *s;
	int found = 0;

	if (chos_get_data_prop(ctx, obj, name, &v) != 1)
		return 0;
	if (JS_IsString(v) && (s = JS_ToCString(ctx, v))) {
		snprintf(dst, size, "%s", s);
		JS_FreeCString(ctx, s);
		found = 1;
	}
	JS_FreeValue(ctx, v);
	return found;
}

/* The first "FILE:LINE:COLUMN" of a QuickJS backtrace: the innermost frame with a position.
 * Every script in the sandbox is the bundle (there is no eval), so any position is in it. */
static void position_from_stack(const char *stack, struct chos_decision *out)
{
	for (const char *line = stack; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		char buf[256]; /* one frame; a longer one (a huge function name) is cut */
		if (n >= sizeof(buf))
			n = sizeof(buf) - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
		if (n && buf[n - 1] == ')')
			buf[--n] = '\0';
		/* The last two colons of the frame hold LINE:COLUMN. */
		char *col = strrchr(buf, ':');
		if (col) {
			*col = '\0';
			char *ln = strrchr(buf, ':');
			if (ln) {
				*col = ':';
				chos_policy_set_position(out, ln + 1);
				if (out->line)
					return;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* "NAME: message" of an Error, or the text of a thrown primitive. */
static void describe(JSContext *ctx, JSValueConst exc, char *msg, size_t size, char *name,
		     size_t name_size)
{
	char text[CHOS_ERROR_MAX] = "";

	name[0] = '\0';
	if (JS_IsError(ctx, exc)) {
		JSValue proto = JS_GetPrototype(ctx, exc);
		if (!JS_IsException(proto))
			copy_string_prop(ctx, proto, "name", name, name_size);
		JS_FreeValue(ctx, proto);
		copy_string_prop(ctx, exc, "message", text, sizeof(text));
		snprintf(msg, size, "%s%s%s", name[0] ? name : "Error", text[0] ? ": " : "", text);
	} else if (JS_IsObject(exc) || JS_IsSymbol(exc)) {
		snprintf(msg, size, "threw a value that is not an Error");
	} else {
		const char *s = JS_ToCString(ctx, exc);
		snprintf(msg, size, "threw %s", s ? s : "a value");
		JS_FreeCString(ctx, s);
		if (!s)
			JS_FreeValue(ctx, JS_GetException(ctx));
	}
}

/* out->file from __chos.current, when it is a string. */
static void read_current(struct chos_sandbox *sb, struct chos_decision *out)
{
	JSContext *ctx = sb->ctx;
	JSValue global = JS_GetGlobalObject(ctx);
	JSValue chos = JS_GetPropertyStr(ctx, global, "__chos");
	JSValue current =
		JS_IsObject(chos) ? JS_GetPropertyStr(ctx, chos, "current") : JS_UNDEFINED;

	if (JS_IsString(current)) {
		const char *s = JS_ToCString(ctx, current);
		if (s)
			snprintf(out->file, sizeof(out->file), "%s", s);
		JS_FreeCString(ctx, s);
	}
	if (JS_IsException(chos) || JS_IsException(current))
		JS_FreeValue(ctx, JS_GetException(ctx));
	JS_FreeValue(ctx, current);
	JS_FreeValue(ctx, chos);
	JS_FreeValue(ctx, global);
}

int chos_policy_fault_from_exception(struct chos_sandbox *sb, bool is_load,
				     struct chos_decision *out)
{
	JSContext *ctx = sb->ctx;
	JSValue exc = JS_GetException(ctx);
	char msg[CHOS_ERROR_MAX], name[64]; /* error class names are short; longer is cut */
	int r;

	/* Headroom to describe the error and read __chos.current after running out of memory;
	 * bounded all the same. */
	JS_SetMemoryLimit(sb->rt, sb->memory_bytes + CHOS_POLICY_FAULT_HEADROOM);
	describe(ctx, exc, msg, sizeof(msg), name, sizeof(name));
	if (JS_IsError(ctx, exc)) {
		char stack[2048] = ""; /* the innermost frames, where the position is */
		copy_string_prop(ctx, exc, "stack", stack, sizeof(stack));
		position_from_stack(stack, out);
	}
	bool internal = strcmp(name, "InternalError") == 0;
	if (sb->expired)
		r = chos_policy_fault(out, CHOS_FAULT_TIMEOUT, -ETIMEDOUT,
				      "the policy ran longer than %u ms", sb->timeout_ms);
	else if (is_load)
		r = chos_policy_fault(out, CHOS_FAULT_LOAD, -EINVAL, "%s", msg);
	else if (JS_IsNull(exc) || JS_IsUninitialized(exc) ||
		 (internal && strcmp(msg, "InternalError: out of memory") == 0))
		r = chos_policy_fault(out, CHOS_FAULT_MEMORY, -ENOMEM,
				      "the policy used more than %zu bytes of memory",
				      sb->memory_bytes);
	else if (internal && strncmp(msg, "InternalError: stack overflow", 29) == 0)
		r = chos_policy_fault(out, CHOS_FAULT_STACK, -E2BIG,
				      "the policy overflowed its %zu-byte stack", sb->stack_bytes);
	else
		r = chos_policy_fault(out, CHOS_FAULT_THROW, -EINVAL, "%s", msg);
	JS_FreeValue(ctx, exc);

	if (!is_load)
		read_current(sb, out);
	return r;
}
