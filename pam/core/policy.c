/* SPDX-License-Identifier: BSD-3-Clause
 * chos_policy_decide: one evaluation, start to end (the steps are in the other policy*.c
 * files, listed in policy_internal.h).
 *
 *   sandbox  fresh runtime, limits and deadline, raw context        policy_runtime.c
 *   load     trusted bundle, fresh bytecode or source                policy_load.c
 *   run      the bundle's top level, which sets globalThis.__chos
 *   decide   __chos.decide(ctx), ctx parsed from chos_context_to_json
 *   check    the result's shape and env                              policy_validate.c
 *   faults   exceptions classified, file and position found          policy_fault.c
 *
 * The runtime is always freed at the end, so nothing a policy did (including after a timeout
 * or running out of memory, where its state is not to be trusted) outlives the call. Values
 * here are owned locals, each freed once on the way out. */
#include "policy_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* __chos.decide and its `this`, both owned; LOAD fault when the bundle did not set them. */
static int find_decide(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		       JSValue *chos, JSValue *decide, struct chos_decision *out)
{
	JSContext *ctx = sb->ctx;
	JSValue global = JS_GetGlobalObject(ctx);

	*chos = JS_GetPropertyStr(ctx, global, "__chos");
	JS_FreeValue(ctx, global);
	if (JS_IsException(*chos))
		return chos_policy_fault_from_exception(sb, false, out);
	*decide = JS_IsObject(*chos) ? JS_GetPropertyStr(ctx, *chos, "decide") : JS_UNDEFINED;
	if (JS_IsException(*decide))
		return chos_policy_fault_from_exception(sb, false, out);
	if (!JS_IsFunction(ctx, *decide))
		return chos_policy_fault(
		    out, CHOS_FAULT_LOAD, -EINVAL,
		    "%s does not set globalThis.__chos.decide: build it with `chos-policy build`",
		    opts->bundle_path);
	return 0;
}

static int evaluate(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		    const struct chos_catalogue *cat, const char *json, struct chos_decision *out)
{
	JSContext *ctx = sb->ctx;
	JSValue fn, ret, chos = JS_UNDEFINED, decide = JS_UNDEFINED, arg = JS_UNDEFINED;
	int r;

	r = chos_policy_load(sb, opts, &fn, out);
	if (r < 0)
		return r;
	ret = JS_EvalFunction(ctx, fn); /* takes fn */
	if (JS_IsException(ret))
		return chos_policy_fault_from_exception(sb, false, out);
	JS_FreeValue(ctx, ret);

	r = find_decide(sb, opts, &chos, &decide, out);
	if (r < 0)
		goto free;
	arg = JS_ParseJSON(ctx, json, strlen(json), "<context>");
	if (JS_IsException(arg)) {
		r = chos_policy_fault_from_exception(sb, false, out);
		goto free;
	}
	ret = JS_Call(ctx, decide, chos, 1, (JSValueConst *)&arg);
	if (JS_IsException(ret)) {
		r = chos_policy_fault_from_exception(sb, false, out);
		goto free;
	}
	r = chos_policy_validate_result(ctx, ret, cat, out);
	JS_FreeValue(ctx, ret);
free:
	JS_FreeValue(ctx, arg);
	JS_FreeValue(ctx, decide);
	JS_FreeValue(ctx, chos);
	return r;
}

int chos_policy_decide(const struct chos_policy_options *opts, const struct chos_catalogue *cat,
		       const struct chos_context *ctx, struct chos_decision *out)
{
	struct chos_sandbox sb;
	struct chos_error err = {0};
	char *json;
	int r;

	memset(out, 0, sizeof(*out));
	out->outcome = CHOS_OUTCOME_HOST;
	out->layer = CHOS_LAYER_HOST;
	json = chos_context_to_json(ctx, cat);
	if (!json)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -ENOMEM, "out of memory");
	r = chos_sandbox_open(&sb, opts, &err);
	if (r < 0) {
		free(json);
		return chos_policy_fault(out, CHOS_FAULT_LOAD, r, "%s", err.message);
	}
	r = evaluate(&sb, opts, cat, json, out);
	chos_sandbox_close(&sb);
	free(json);
	if (r < 0 && out->fault == CHOS_FAULT_NONE) /* every failure path names its fault */
		r = chos_policy_fault(out, CHOS_FAULT_LOAD, r, "internal error %d", r);
	return r;
}

const char *chos_layer_name(enum chos_layer layer)
{
	static const char *const names[] = {"site", "group", "request", "default", "host"};

	return (unsigned)layer < sizeof(names) / sizeof(names[0]) ? names[layer] : "unknown";
}

const char *chos_fault_name(enum chos_fault fault)
{
	static const char *const names[] = {"none",   "load",  "throw", "timeout",
					    "memory", "stack", "shape", "unlisted"};

	return (unsigned)fault < sizeof(names) / sizeof(names[0]) ? names[fault] : "unknown";
}
