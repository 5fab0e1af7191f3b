/* SPDX-License-Identifier: BSD-3-Clause
 * Checking what a policy returned, strictly, against the contract of policy/sdk/contract.ts:
 *
 *   Decision = { env: string; reason?: string } | { deny: string } | null | undefined
 *
 * plus the envelope __chos.decide wraps it in ({ layer, group?, file?, value }). Any enumerable
 * own key the shape does not name, symbol keys included, is rejected by name (non-enumerable
 * ones, like the SDK's `__at`, are ignored). Fields are read as own data properties: a getter
 * is a shape fault and is never called, so validation runs no policy code and cannot be
 * steered by it. An env must be a valid name listed in the catalogue. The SDK helpers'
 * non-enumerable
 * `__at` ("LINE:COLUMN" in the bundle) gives the position, when present. */
#include "facts/catalogue.h"
#include "policy/policy_internal.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* How much of a policy-supplied string a fault message quotes. */
#define QUOTE_MAX 64

int chos_get_data_prop(JSContext *ctx, JSValueConst obj, const char *name, JSValue *val)
{
	JSPropertyDescriptor desc;
	JSAtom atom = JS_NewAtom(ctx, name);
	int r;

	if (atom == JS_ATOM_NULL)
		return -2;
	r = JS_GetOwnProperty(ctx, &desc, obj, atom);
	JS_FreeAtom(ctx, atom);
	if (r < 0)
		return -2;
	if (r == 0)
		return 0;
	JS_FreeValue(ctx, desc.getter);
	JS_FreeValue(ctx, desc.setter);
	if (desc.flags & JS_PROP_GETSET) {
		JS_FreeValue(ctx, desc.value);
		return -1;
	}
	*val = desc.value;
	return 1;
}

/* Copies at most size-1 bytes, cutting before a partial UTF-8 sequence. */
static void copy_cut(char *dst, size_t size, const char *s, size_t n)
{
	if (n >= size) {
		n = size - 1;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static const char *type_name(JSContext *ctx, JSValueConst v)
{
	if (JS_IsNull(v))
		return "null";
	if (JS_IsString(v))
		return "a string";
	if (JS_IsNumber(v))
		return "a number";
	if (JS_IsBool(v))
		return "a boolean";
	if (JS_IsSymbol(v))
		return "a symbol";
	if (JS_IsBigInt(ctx, v))
		return "a bigint";
	if (JS_IsFunction(ctx, v))
		return "a function";
	if (JS_IsArray(ctx, v) > 0)
		return "an array";
	if ((int)JS_PromiseState(ctx, (JSValue)v) >= 0)
		return "a Promise (policies are synchronous: no async)";
	if (JS_IsObject(v))
		return "an object";
	return "undefined";
}

/* Reads string field `key` of obj into dst. 0 ok, 1 absent (or undefined), -EINVAL shape fault. */
static int get_string(JSContext *ctx, JSValueConst obj, const char *key, char *dst, size_t size,
		      bool whole, size_t *len, struct chos_decision *out)
{
	JSValue v;
	const char *s;
	size_t n;
	int r = chos_get_data_prop(ctx, obj, key, &v);

	if (r == -1)
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "`%s` is a getter; return a plain object", key);
	if (r == -2) {
		JS_FreeValue(ctx, JS_GetException(ctx));
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL, "cannot read `%s`", key);
	}
	if (r == 0 || JS_IsUndefined(v))
		return 1;
	if (!JS_IsString(v)) {
		r = chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
				      "`%s` must be a string, got %s", key, type_name(ctx, v));
		JS_FreeValue(ctx, v);
		return r;
	}
	s = JS_ToCStringLen(ctx, &n, v);
	JS_FreeValue(ctx, v);
	if (!s) {
		JS_FreeValue(ctx, JS_GetException(ctx));
		return chos_policy_fault(out, CHOS_FAULT_MEMORY, -ENOMEM,
					 "out of memory reading `%s`", key);
	}
	/* Names are compared whole: a longer one must not match after a cut. */
	if (whole && n >= size) {
		char q[QUOTE_MAX + 4];
		chos_error_excerpt(q, sizeof(q), s, n);
		JS_FreeCString(ctx, s);
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL, "`%s` is too long: \"%s\"",
					 key, q);
	}
	copy_cut(dst, size, s, n);
	*len = n;
	JS_FreeCString(ctx, s);
	return 0;
}

/* Rejects any enumerable own key not in allowed (NULL-terminated), by name. */
static int check_keys(JSContext *ctx, JSValueConst obj, const char *const *allowed,
		      const char *what, struct chos_decision *out)
{
	JSPropertyEnum *tab;
	uint32_t count;
	int r = 0;

	if (JS_GetOwnPropertyNames(ctx, &tab, &count, obj,
				   JS_GPN_STRING_MASK | JS_GPN_SYMBOL_MASK | JS_GPN_ENUM_ONLY) <
	    0) {
		JS_FreeValue(ctx, JS_GetException(ctx));
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "cannot list the keys of %s", what);
	}
	for (uint32_t i = 0; i < count && r == 0; i++) {
		const char *key = JS_AtomToCString(ctx, tab[i].atom);
		bool ok = false;
		JSValue v = JS_AtomToValue(ctx, tab[i].atom);
		bool symbol = JS_IsSymbol(v);
		JS_FreeValue(ctx, v);
		for (const char *const *a = allowed; key && !symbol && *a && !ok; a++)
			ok = strcmp(key, *a) == 0;
		if (!ok) {
			char q[QUOTE_MAX + 4];
			chos_error_excerpt(q, sizeof(q), key ? key : "?", key ? strlen(key) : 1);
			r = chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					      "unknown %skey \"%s\" in %s", symbol ? "symbol " : "",
					      q, what);
		}
		JS_FreeCString(ctx, key);
	}
	for (uint32_t i = 0; i < count; i++)
		JS_FreeAtom(ctx, tab[i].atom);
	js_free(ctx, tab);
	return r;
}

/* Own data property `key` exists and is not undefined. */
static bool has(JSContext *ctx, JSValueConst obj, const char *key)
{
	JSValue v;
	int r = chos_get_data_prop(ctx, obj, key, &v);

	if (r == 1) {
		bool defined = !JS_IsUndefined(v);
		JS_FreeValue(ctx, v);
		return defined;
	}
	if (r == -2)
		JS_FreeValue(ctx, JS_GetException(ctx));
	return r == -1; /* a getter is there: get_string reports it */
}

/* The position from `__at`; a missing or malformed one only leaves the position unknown. */
static void read_at(JSContext *ctx, JSValueConst obj, struct chos_decision *out)
{
	JSValue v;
	int r = chos_get_data_prop(ctx, obj, "__at", &v);

	if (r == -2)
		JS_FreeValue(ctx, JS_GetException(ctx));
	if (r != 1)
		return;
	if (JS_IsString(v)) {
		const char *s = JS_ToCString(ctx, v);
		if (s)
			chos_policy_set_position(out, s);
		else
			JS_FreeValue(ctx, JS_GetException(ctx));
		JS_FreeCString(ctx, s);
	}
	JS_FreeValue(ctx, v);
}

static int check_env(const char *env, size_t len, const struct chos_catalogue *cat,
		     struct chos_decision *out)
{
	char q[QUOTE_MAX + 4];

	if (chos_name_valid(env, len) && cat && chos_catalogue_find(cat, env))
		return 0;
	chos_error_excerpt(q, sizeof(q), env, len);
	return chos_policy_fault(out, CHOS_FAULT_UNLISTED, -EINVAL,
				 "environment \"%s\" is not listed in the catalogue", q);
}

int chos_policy_validate_decision(JSContext *ctx, JSValueConst value,
				  const struct chos_catalogue *cat, struct chos_decision *out)
{
	static const char *const env_keys[] = { "env", "reason", NULL };
	static const char *const deny_keys[] = { "deny", NULL };
	size_t len;
	int r;

	if (JS_IsNull(value) || JS_IsUndefined(value)) {
		out->outcome = CHOS_OUTCOME_HOST;
		return 0;
	}
	if (!JS_IsObject(value) || JS_IsFunction(ctx, value) || JS_IsArray(ctx, value) > 0 ||
	    (int)JS_PromiseState(ctx, (JSValue)value) >= 0)
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "a decision is { env, reason? }, { deny } or null, got %s",
					 type_name(ctx, value));
	read_at(ctx, value, out);

	bool env = has(ctx, value, "env"), deny = has(ctx, value, "deny");
	if (env && deny)
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "a decision has either `env` or `deny`, not both");
	if (!env && !deny)
		return chos_policy_fault(
			out, CHOS_FAULT_SHAPE, -EINVAL,
			"a decision needs `env` or `deny` (or return null for no opinion)");
	r = check_keys(ctx, value, env ? env_keys : deny_keys,
		       env ? "a decision { env, reason? }" : "a decision { deny }", out);
	if (r < 0)
		return r;
	if (deny) {
		r = get_string(ctx, value, "deny", out->reason, sizeof(out->reason), false, &len,
			       out);
		if (r < 0)
			return r;
		out->outcome = CHOS_OUTCOME_DENY;
		return 0;
	}
	r = get_string(ctx, value, "env", out->env, sizeof(out->env), true, &len, out);
	if (r < 0)
		return r;
	if (strlen(out->env) != len) /* an embedded NUL */
		return check_env(out->env, len, NULL, out);
	r = check_env(out->env, len, cat, out);
	if (r < 0)
		return r;
	r = get_string(ctx, value, "reason", out->reason, sizeof(out->reason), false, &len, out);
	if (r < 0)
		return r;
	out->outcome = CHOS_OUTCOME_ENV;
	return 0;
}

int chos_policy_validate_result(JSContext *ctx, JSValueConst result,
				const struct chos_catalogue *cat, struct chos_decision *out)
{
	static const char *const keys[] = { "layer", "group", "file", "value", NULL };
	const char *what = "the result of __chos.decide";
	char layer[16]; /* the longest layer name, "default", fits; longer is a shape fault */
	size_t len;
	JSValue value;
	int r;

	if (!JS_IsObject(result) || JS_IsArray(ctx, result) > 0 || JS_IsFunction(ctx, result))
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "%s is %s, not { layer, value }", what,
					 type_name(ctx, result));
	r = check_keys(ctx, result, keys, what, out);
	if (r < 0)
		return r;
	r = get_string(ctx, result, "layer", layer, sizeof(layer), true, &len, out);
	if (r != 0)
		return r < 0 ? r
			     : chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL, "%s has no layer",
						 what);
	if (chos_layer_parse(layer, &out->layer) < 0)
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "%s has unknown layer \"%s\"", what, layer);
	r = get_string(ctx, result, "file", out->file, sizeof(out->file), false, &len, out);
	if (r < 0)
		return r;
	r = get_string(ctx, result, "group", out->group, sizeof(out->group), false, &len, out);
	if (r < 0)
		return r;
	if (r == 1 && out->layer == CHOS_LAYER_GROUP)
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL, "%s names no group", what);

	int found = chos_get_data_prop(ctx, result, "value", &value);
	if (found == -2)
		JS_FreeValue(ctx, JS_GetException(ctx));
	if (found < 0)
		return chos_policy_fault(out, CHOS_FAULT_SHAPE, -EINVAL,
					 "%s has an unreadable value", what);
	r = chos_policy_validate_decision(ctx, found == 1 ? value : JS_UNDEFINED, cat, out);
	if (found == 1)
		JS_FreeValue(ctx, value);
	return r;
}
