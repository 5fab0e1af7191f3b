/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes chos_context_to_json, the writer of the one JSON text every policy reads. The input is
 * split at NUL bytes into the strings NSS, PAM and the user supply (user, home, shell, a group,
 * host, remote host, tty), arbitrary bytes included. Whatever they hold, the text must parse as
 * JSON in QuickJS, and a string that was valid UTF-8 must come back unchanged. */
#include "facts/context.h"
#include <quickjs.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
	USER,
	HOME,
	SHELL,
	GROUP,
	HOST,
	REMOTE,
	TTY,
	FIELDS
};

/* The parsed user.name equals name (only checked for names QuickJS can represent exactly). */
static void check_name(JSContext *ctx, JSValueConst obj, const char *name)
{
	JSValue user = JS_GetPropertyStr(ctx, obj, "user");
	JSValue v = JS_GetPropertyStr(ctx, user, "name");
	const char *s = JS_ToCString(ctx, v);

	if (!s || strcmp(s, name) != 0)
		abort();
	JS_FreeCString(ctx, s);
	JS_FreeValue(ctx, v);
	JS_FreeValue(ctx, user);
}

static int valid_utf8(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		int n = *p < 0x80	      ? 1
			: (*p & 0xe0) == 0xc0 ? 2
			: (*p & 0xf0) == 0xe0 ? 3
			: (*p & 0xf8) == 0xf0 ? 4
					      : 0;
		if (n == 0)
			return 0;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		unsigned cp = n == 1 ? p[0] : p[0] & (0x7f >> n);
		for (int i = 1; i < n; i++)
			cp = (cp << 6) | (p[i] & 0x3f);
		static const unsigned min[] = { 0, 0, 0x80, 0x800, 0x10000 };
		if (cp < min[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		p += n;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *field[FIELDS] = { 0 };
	size_t start = 0;
	int n = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	for (size_t i = 0; i <= size && n < FIELDS; i++)
		if (copy[i] == '\0') {
			field[n++] = copy + start;
			start = i + 1;
		}
	char *groups[] = { field[GROUP] ? field[GROUP] : "g" };
	struct chos_context c = {
		.user = field[USER],
		.home = field[HOME],
		.shell = field[SHELL],
		.groups = groups,
		.group_count = 1,
		.host = field[HOST],
		.remote_host = field[REMOTE],
		.tty = field[TTY],
		.service = "sshd",
	};
	char *json = chos_context_to_json(&c, NULL);
	if (!json)
		abort();

	JSRuntime *rt = JS_NewRuntime();
	JSContext *ctx = JS_NewContextRaw(rt);
	JS_AddIntrinsicBaseObjects(ctx);
	JS_AddIntrinsicJSON(ctx);
	JSValue v = JS_ParseJSON(ctx, json, strlen(json), "<context>");
	if (JS_IsException(v))
		abort();
	if (field[USER] && valid_utf8(field[USER]))
		check_name(ctx, v, field[USER]);
	JS_FreeValue(ctx, v);
	JS_FreeContext(ctx);
	JS_FreeRuntime(rt);
	free(json);
	free(copy);
	return 0;
}
