/* SPDX-License-Identifier: BSD-3-Clause
 * chos_policy_decide: one evaluation, start to end, as chos_policy_open + evaluate + close (the
 * steps are in the other policy*.c files, listed in policy_internal.h).
 *
 *   sandbox  fresh runtime, limits and deadline, raw context        policy_runtime.c
 *   load     trusted bundle: its base unit, from the pack or source   policy_bundle.c
 *   run      the base unit's top level, which sets globalThis.__chos
 *   groups   the units of the login's groups, each registering itself policy_bundle.c
 *   decide   __chos.decide(ctx), ctx parsed from chos_context_to_json
 *   check    the result's shape and env                              policy_validate.c
 *   faults   exceptions classified, file and position found          policy_fault.c
 *
 * chos_policy_decide frees the runtime at the end, so nothing a policy did (including after a
 * timeout or running out of memory, where its state is not to be trusted) outlives the call.
 * The warm API (open/evaluate/close) keeps __chos and decide in struct chos_policy, owned and
 * freed once in close; other values here are owned locals, each freed once on the way out. */
#include "policy/policy_internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct chos_policy {
	struct chos_sandbox sb; /* first: its address is the interrupt handler's opaque */
	JSValue chos;		/* owned: globalThis.__chos, the `this` of decide */
	JSValue decide;		/* owned: __chos.decide */
	struct chos_bundle bundle;
	unsigned evaluations;
	enum chos_fault broken; /* a limit fault, or a group unit that failed to load: the
				   runtime may not run policy code again */
};

/* __chos.decide and its `this`; LOAD fault when the bundle did not set them. */
static int find_decide(struct chos_policy *p, const struct chos_policy_options *opts,
		       struct chos_decision *out)
{
	JSContext *ctx = p->sb.ctx;
	JSValue global = JS_GetGlobalObject(ctx);

	p->chos = JS_GetPropertyStr(ctx, global, "__chos");
	JS_FreeValue(ctx, global);
	if (JS_IsException(p->chos))
		return chos_policy_fault_from_exception(&p->sb, false, out);
	p->decide = JS_IsObject(p->chos) ? JS_GetPropertyStr(ctx, p->chos, "decide") : JS_UNDEFINED;
	if (JS_IsException(p->decide))
		return chos_policy_fault_from_exception(&p->sb, false, out);
	if (!JS_IsFunction(ctx, p->decide))
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -EINVAL,
					 "%s does not set globalThis.__chos.decide: build it with "
					 "`chos-policy build`",
					 opts->bundle_path);
	return 0;
}

/* Sandbox, load, run the top level, find decide. */
static int load(struct chos_policy *p, const struct chos_policy_options *opts,
		struct chos_decision *out)
{
	struct chos_error err = { 0 };
	int r;

	r = chos_sandbox_open(&p->sb, opts, &err);
	if (r < 0)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, r, "%s", err.message);
	r = chos_bundle_open(&p->sb, opts, &p->bundle, out);
	out->from_bytecode = p->bundle.from_bytecode;
	out->units = p->bundle.loaded;
	if (r < 0)
		return r;
	return find_decide(p, opts, out);
}

static void clear(struct chos_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->outcome = CHOS_OUTCOME_HOST;
	out->layer = CHOS_LAYER_HOST;
}

/* Every failure path names its fault; this keeps it true for the ones that do not. */
static int named(int r, struct chos_decision *out)
{
	if (r < 0 && out->fault == CHOS_FAULT_NONE)
		r = chos_policy_fault(out, CHOS_FAULT_LOAD, r, "internal error %d", r);
	return r;
}

int chos_policy_open(const struct chos_policy_options *opts, struct chos_policy **out,
		     struct chos_decision *fault)
{
	struct chos_policy *p = calloc(1, sizeof(*p));
	int r;

	*out = NULL;
	clear(fault);
	if (!p)
		return chos_policy_fault(fault, CHOS_FAULT_LOAD, -ENOMEM, "out of memory");
	p->chos = p->decide = JS_UNDEFINED;
	p->bundle.fd = p->bundle.pack_fd = -1;
	r = named(load(p, opts, fault), fault);
	if (r < 0) {
		chos_policy_close(p);
		return r;
	}
	*out = p;
	return 0;
}

void chos_policy_leave(struct chos_policy *p)
{
	chos_sandbox_leave(&p->sb);
}

void chos_policy_enter(struct chos_policy *p, const struct chos_log *log, const char *path)
{
	chos_sandbox_enter(&p->sb);
	p->sb.log = log;
	p->bundle.path = path;
}

bool chos_fault_is_limit(enum chos_fault fault)
{
	return fault == CHOS_FAULT_TIMEOUT || fault == CHOS_FAULT_MEMORY ||
	       fault == CHOS_FAULT_STACK;
}

static int call_decide(struct chos_policy *p, const struct chos_catalogue *cat, const char *json,
		       struct chos_decision *out)
{
	JSContext *ctx = p->sb.ctx;
	JSValue arg, ret;
	int r;

	arg = JS_ParseJSON(ctx, json, strlen(json), "<context>");
	if (JS_IsException(arg))
		return chos_policy_fault_from_exception(&p->sb, false, out);
	ret = JS_Call(ctx, p->decide, p->chos, 1, (JSValueConst *)&arg);
	JS_FreeValue(ctx, arg);
	if (JS_IsException(ret))
		return chos_policy_fault_from_exception(&p->sb, false, out);
	r = chos_policy_validate_result(ctx, ret, cat, out);
	JS_FreeValue(ctx, ret);
	return r;
}

int chos_policy_evaluate(struct chos_policy *p, const struct chos_catalogue *cat,
			 const struct chos_context *ctx, struct chos_decision *out)
{
	char *json;
	int r;

	clear(out);
	out->from_bytecode = p->bundle.from_bytecode;
	out->units = p->bundle.loaded;
	if (p->broken != CHOS_FAULT_NONE)
		return chos_policy_fault(out, CHOS_FAULT_LOAD, -EINVAL,
					 "the policy runtime was discarded after a %s fault; open "
					 "the policy again",
					 chos_fault_name(p->broken));
	/* The first evaluation shares the deadline that covered loading. */
	if (p->evaluations++ > 0)
		chos_sandbox_rearm(&p->sb);
	r = chos_bundle_load_groups(&p->sb, &p->bundle, ctx, out);
	out->from_bytecode = p->bundle.from_bytecode;
	out->units = p->bundle.loaded;
	/* A group unit that failed to load is not retried: the runtime holds a policy loaded in
	 * part, which no later evaluation may run. */
	if (r < 0 && out->fault != CHOS_FAULT_NONE)
		p->broken = out->fault;
	json = r < 0 ? NULL : chos_context_to_json(ctx, cat);
	if (r == 0 && !json)
		r = chos_policy_fault(out, CHOS_FAULT_LOAD, -ENOMEM, "out of memory");
	if (r == 0)
		r = call_decide(p, cat, json, out);
	r = named(r, out);
	free(json);
	if (chos_fault_is_limit(out->fault))
		p->broken = out->fault;
	return r;
}

void chos_policy_close(struct chos_policy *p)
{
	if (!p)
		return;
	if (p->sb.ctx) {
		JS_FreeValue(p->sb.ctx, p->decide);
		JS_FreeValue(p->sb.ctx, p->chos);
	}
	chos_sandbox_close(&p->sb);
	chos_bundle_close(&p->bundle);
	free(p);
}

int chos_policy_decide(const struct chos_policy_options *opts, const struct chos_catalogue *cat,
		       const struct chos_context *ctx, struct chos_decision *out)
{
	struct chos_policy *p;
	int r = chos_policy_open(opts, &p, out);

	if (r < 0)
		return r;
	r = chos_policy_evaluate(p, cat, ctx, out);
	chos_policy_close(p);
	return r;
}

const char *chos_fault_name(enum chos_fault fault)
{
	static const char *const names[] = { "none",   "load",	"throw", "timeout",
					     "memory", "stack", "shape", "unlisted" };

	return (unsigned)fault < sizeof(names) / sizeof(names[0]) ? names[fault] : "unknown";
}
