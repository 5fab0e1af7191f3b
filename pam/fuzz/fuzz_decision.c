/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes the decision validator: the input is JSON text, parsed into a value in a fresh QuickJS
 * runtime and checked both as a Decision and as the envelope __chos.decide returns, against a
 * two-entry catalogue. It checks the validator's promises: an accepted env is listed, a fault
 * has a message, nothing leaks (a fresh runtime per input, freed at the end, so LeakSanitizer
 * sees any JSValue not freed exactly once). */
#include "policy/policy_internal.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct chos_env envs[] = { { .name = "default", .path = "/" },
				  { .name = "sl5", .path = "/os/sl5" } };
static const struct chos_catalogue cat = { envs, 2 };

static void check(const struct chos_decision *d)
{
	if (d->fault != CHOS_FAULT_NONE) {
		if (!d->fault_message[0] || d->outcome != CHOS_OUTCOME_HOST)
			abort();
	} else if (d->outcome == CHOS_OUTCOME_ENV && !chos_catalogue_find(&cat, d->env)) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	JSRuntime *rt = JS_NewRuntime();
	JSContext *ctx = JS_NewContextRaw(rt);
	struct chos_decision d;
	char *text = malloc(size + 1); /* JS_ParseJSON wants a terminated buffer */

	JS_AddIntrinsicBaseObjects(ctx);
	JS_AddIntrinsicJSON(ctx);
	memcpy(text, data, size);
	text[size] = '\0';
	JSValue v = JS_ParseJSON(ctx, text, size, "<fuzz>");
	free(text);
	if (JS_IsException(v)) {
		JS_FreeValue(ctx, JS_GetException(ctx));
	} else {
		memset(&d, 0, sizeof(d));
		chos_policy_validate_decision(ctx, v, &cat, &d);
		check(&d);
		memset(&d, 0, sizeof(d));
		chos_policy_validate_result(ctx, v, &cat, &d);
		check(&d);
		JS_FreeValue(ctx, v);
	}
	JS_FreeContext(ctx);
	JS_FreeRuntime(rt);
	return 0;
}
