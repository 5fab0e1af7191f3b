/* SPDX-License-Identifier: BSD-3-Clause
 * Login facts from NSS and the host, and their JSON text in the exact shape of the SDK's
 * LoginContext (policy/sdk/contract.ts), keys in the contract's order:
 *   {"user":{"name","uid","gid","home","shell","groups"},"host":{"name"},"service",
 *    "remoteHost","tty","requested":{"env","from"}|null,
 *    "job":{"id","step","partition","account","node","submitHost"} (Slurm steps only),
 *    "environments":[...]}
 * Strings come from NSS, PAM and users, so the JSON writer escapes every control character and
 * replaces bytes that are not UTF-8 with U+FFFD: the policy always gets valid JSON text. */
#include "facts/context.h"
#include <errno.h>
#include <limits.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Start size for getpw*_r/getgr*_r buffers; doubled on ERANGE up to NSS_BUF_MAX. */
#define NSS_BUF_START 1024
#define NSS_BUF_MAX (1u << 20)

static int lookup_user(const char *user, struct passwd *pw, char **buf, struct chos_error *err)
{
	struct passwd *res = NULL;

	for (size_t size = NSS_BUF_START; size <= NSS_BUF_MAX; size *= 2) {
		char *nbuf = realloc(*buf, size);
		if (!nbuf)
			return chos_fail(err, -ENOMEM, "out of memory");
		*buf = nbuf;
		int r = getpwnam_r(user, pw, *buf, size, &res);
		if (r == ERANGE)
			continue;
		if (r != 0)
			return chos_fail(err, -r, "user \"%s\": %s", user, strerror(r));
		if (!res)
			return chos_fail(err, -ENOENT, "user \"%s\" not found", user);
		return 0;
	}
	return chos_fail(err, -ERANGE, "user \"%s\": NSS entry too large", user);
}

/* The name of group gid, or NULL (no entry, or NSS failure: such a group cannot be named). */
static char *group_name(gid_t gid)
{
	struct group gr, *res = NULL;
	char *buf = NULL, *name = NULL;

	for (size_t size = NSS_BUF_START; size <= NSS_BUF_MAX; size *= 2) {
		char *nbuf = realloc(buf, size);
		if (!nbuf)
			break;
		buf = nbuf;
		int r = getgrgid_r(gid, &gr, buf, size, &res);
		if (r == ERANGE)
			continue;
		if (r == 0 && res)
			name = strdup(gr.gr_name);
		break;
	}
	free(buf);
	return name;
}

/* The group ids of user in *gids (malloc'd) and *count: KNOWN's after the primary group (as
 * getgrouplist lists it), or NSS's getgrouplist. */
static int list_gids(const struct chos_context *ctx, const struct chos_gid_list *known,
		     gid_t **gids, int *count, struct chos_error *err)
{
	int n = 32;

	*gids = NULL;
	*count = 0;
	if (known) {
		if (known->count > (size_t)INT_MAX - 1)
			return chos_fail(err, -E2BIG, "user \"%s\": too many groups", ctx->user);
		if (!(*gids = malloc((known->count + 1) * sizeof(**gids))))
			return chos_fail(err, -ENOMEM, "out of memory");
		(*gids)[0] = ctx->gid;
		if (known->count)
			memcpy(*gids + 1, known->gids, known->count * sizeof(**gids));
		*count = (int)known->count + 1;
		return 0;
	}
	for (;;) {
		gid_t *ngids = realloc(*gids, (size_t)n * sizeof(**gids));
		if (!ngids)
			return chos_fail(err, -ENOMEM, "out of memory");
		*gids = ngids;
		int want = n;
		if (getgrouplist(ctx->user, ctx->gid, *gids, &want) >= 0) {
			*count = want;
			return 0;
		}
		/* glibc sets want to the number needed; guard against it not growing. */
		n = want > n ? want : n * 2;
	}
}

/* Group ids and names of user: the primary group first, then the others in NSS (or KNOWN's)
 * order, no duplicates. */
static int fill_groups(struct chos_context *ctx, const struct chos_gid_list *known,
		       struct chos_error *err)
{
	gid_t *gids;
	int n, r;

	if ((r = list_gids(ctx, known, &gids, &n, err)) < 0) {
		free(gids);
		return r;
	}
	ctx->groups = calloc((size_t)n + 1, sizeof(*ctx->groups));
	if (!ctx->groups) {
		free(gids);
		return chos_fail(err, -ENOMEM, "out of memory");
	}
	/* Primary first whatever order NSS used. */
	for (int i = 0; i < n; i++)
		if (gids[i] == ctx->gid) {
			gids[i] = gids[0];
			gids[0] = ctx->gid;
			break;
		}
	for (int i = 0; i < n; i++) {
		bool seen = false;
		/* The kept prefix: gids is compacted in place as it goes. */
		for (size_t j = 0; j < ctx->gid_count; j++)
			seen = seen || gids[j] == gids[i];
		if (seen)
			continue;
		gids[ctx->gid_count++] = gids[i];
		char *name = group_name(gids[i]);
		if (name)
			ctx->groups[ctx->group_count++] = name;
	}
	/* Kept for the ~/.chos reader: asking NSS twice costs a second lookup of every source. */
	ctx->gids = gids;
	return 0;
}

int chos_context_from_nss(const char *user, const struct chos_gid_list *known,
			  struct chos_context *ctx, struct chos_error *err)
{
	struct passwd pw;
	char *buf = NULL;
	int r;

	r = lookup_user(user, &pw, &buf, err);
	if (r < 0)
		goto out;
	ctx->user = strdup(pw.pw_name);
	ctx->home = strdup(pw.pw_dir);
	ctx->shell = strdup(pw.pw_shell);
	ctx->uid = pw.pw_uid;
	ctx->gid = pw.pw_gid;
	if (!ctx->user || !ctx->home || !ctx->shell) {
		r = chos_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	r = fill_groups(ctx, known, err);
out:
	free(buf);
	return r;
}

int chos_context_set_host(struct chos_context *ctx, struct chos_error *err)
{
	struct utsname u;

	if (uname(&u) < 0)
		return chos_fail(err, -errno, "uname: %s", strerror(errno));
	u.nodename[strcspn(u.nodename, ".")] = '\0';
	free(ctx->host);
	ctx->host = strdup(u.nodename);
	return ctx->host ? 0 : chos_fail(err, -ENOMEM, "out of memory");
}

/* A growing string; any allocation failure sets failed and later calls do nothing. */
struct buf {
	char *data;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 512;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *d = realloc(b->data, cap);
		if (!d) {
			b->failed = true;
			return;
		}
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp, min;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

static void put_json_string(struct buf *b, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str);
	char esc[8]; /* the escape \u00XX and its NUL */

	put(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(s + i, n - i);
		if (len == 0) {
			put(b, "\\ufffd", 6);
			i++;
		} else if (s[i] == '"' || s[i] == '\\') {
			put(b, "\\", 1);
			put(b, (const char *)s + i, 1);
			i++;
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", s[i]);
			put(b, esc, 6);
			i++;
		} else {
			put(b, (const char *)s + i, len);
			i += len;
		}
	}
	put(b, "\"", 1);
}

static void put_json_string_or_null(struct buf *b, const char *s)
{
	if (s)
		put_json_string(b, s);
	else
		puts_(b, "null");
}

const char *chos_request_source_name(enum chos_request_source from)
{
	static const char *const names[] = { "none", "env", "file", "option" };
	return names[from];
}

/* ,"job":{...}: the key is there for Slurm steps only, as the contract's `job?`. */
static void put_job(struct buf *b, const struct chos_job *job)
{
	char num[32]; /* an unsigned long */

	snprintf(num, sizeof(num), "%lu", job->id);
	puts_(b, ",\"job\":{\"id\":");
	puts_(b, num);
	puts_(b, ",\"step\":");
	put_json_string(b, job->step ? job->step : "");
	puts_(b, ",\"partition\":");
	put_json_string_or_null(b, job->partition);
	puts_(b, ",\"account\":");
	put_json_string_or_null(b, job->account);
	puts_(b, ",\"node\":");
	put_json_string(b, job->node ? job->node : "");
	puts_(b, ",\"submitHost\":");
	put_json_string_or_null(b, job->submit_host);
	puts_(b, "}");
}

char *chos_context_to_json(const struct chos_context *ctx, const struct chos_catalogue *cat)
{
	struct buf b = { 0 };
	char num[32]; /* `,"uid":` and a 32-bit number */

	puts_(&b, "{\"user\":{\"name\":");
	put_json_string(&b, ctx->user ? ctx->user : "");
	snprintf(num, sizeof(num), ",\"uid\":%u", (unsigned)ctx->uid);
	puts_(&b, num);
	snprintf(num, sizeof(num), ",\"gid\":%u", (unsigned)ctx->gid);
	puts_(&b, num);
	puts_(&b, ",\"home\":");
	put_json_string(&b, ctx->home ? ctx->home : "");
	puts_(&b, ",\"shell\":");
	put_json_string(&b, ctx->shell ? ctx->shell : "");
	puts_(&b, ",\"groups\":[");
	for (size_t i = 0; i < ctx->group_count; i++) {
		if (i)
			puts_(&b, ",");
		put_json_string(&b, ctx->groups[i]);
	}
	puts_(&b, "]},\"host\":{\"name\":");
	put_json_string(&b, ctx->host ? ctx->host : "");
	puts_(&b, "},\"service\":");
	put_json_string(&b, ctx->service ? ctx->service : "");
	puts_(&b, ",\"remoteHost\":");
	put_json_string_or_null(&b, ctx->remote_host);
	puts_(&b, ",\"tty\":");
	put_json_string_or_null(&b, ctx->tty);
	puts_(&b, ",\"requested\":");
	if (ctx->requested && ctx->requested_from != CHOS_REQUEST_NONE) {
		puts_(&b, "{\"env\":");
		put_json_string(&b, ctx->requested);
		puts_(&b, ",\"from\":\"");
		puts_(&b, chos_request_source_name(ctx->requested_from));
		puts_(&b, "\"}");
	} else {
		puts_(&b, "null");
	}
	if (ctx->job)
		put_job(&b, ctx->job);
	puts_(&b, ",\"environments\":[");
	for (size_t i = 0; cat && i < cat->count; i++) {
		if (i)
			puts_(&b, ",");
		put_json_string(&b, cat->envs[i].name);
	}
	puts_(&b, "]}");
	if (b.failed) {
		free(b.data);
		return NULL;
	}
	return b.data;
}

void chos_context_free(struct chos_context *ctx)
{
	free(ctx->user);
	free(ctx->home);
	free(ctx->shell);
	for (size_t i = 0; i < ctx->group_count; i++)
		free(ctx->groups[i]);
	free(ctx->groups);
	free(ctx->gids);
	free(ctx->host);
	free(ctx->service);
	free(ctx->remote_host);
	free(ctx->tty);
	free(ctx->requested);
	chos_job_free(ctx->job);
	memset(ctx, 0, sizeof(*ctx));
}

void chos_job_free(struct chos_job *job)
{
	if (!job)
		return;
	free(job->step);
	free(job->partition);
	free(job->account);
	free(job->node);
	free(job->submit_host);
	free(job);
}

/* strdup of s, NULL staying NULL; *failed set when out of memory. */
static char *dup_or_null(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*failed = true;
	return d;
}

struct chos_job *chos_job_copy(const struct chos_job *job)
{
	struct chos_job *c = calloc(1, sizeof(*c));
	bool failed = !c;

	if (failed)
		return NULL;
	c->id = job->id;
	c->step = dup_or_null(job->step ? job->step : "", &failed);
	c->partition = dup_or_null(job->partition, &failed);
	c->account = dup_or_null(job->account, &failed);
	c->node = dup_or_null(job->node ? job->node : "", &failed);
	c->submit_host = dup_or_null(job->submit_host, &failed);
	if (failed) {
		chos_job_free(c);
		return NULL;
	}
	return c;
}
