/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes the bytecode loader behind its checks: the input is a whole BUNDLE.qbc file (an indexed
 * pack: pam/core/policy/policy_pack.h), beside a fixed tiny bundle of three units (the base and
 * two group units), evaluated by chos_policy_decide as a login in one of those groups would
 * (bytecode preferred). So every input goes through the header, top table and index block
 * checks and the SHA-256 of each unit the login runs, and reaches JS_ReadObject only by passing
 * them. The oracle: whatever the file holds, the decision is the source's, with at most one log
 * line, and from bytecode exactly when nothing was logged; the fresh file itself is used without
 * a line. (A change confined to the other group's unit is never read by this login, so it may
 * pass unnoticed: that is the point of the pack.) Anything else aborts, and ASan, UBSan and
 * LeakSanitizer report the rest.
 *
 * The seed corpus (corpus/bytecode/tiny.qbc) is that fresh bytecode. With CHOS_FUZZ_WRITE_SEED
 * set to a path, the target writes it there at start-up; test/core/fuzz.test.ts checks that
 * the committed seed is still what it writes. */
#include "login_fixture.h"
#include "policy/policy.h"
#include "common/trust.h"
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The smallest bundle in units that decides like a site bundle does: a listed env, from the
 * group file of the login's group "physics" (login_fixture.c), whose unit registers itself. */
static const char source[] =
	"globalThis.__chos = { groups: new Map(),\n"
	"  register(group, file, body) { const m = { exports: {} }; body(m, m.exports, null);\n"
	"    this.groups.set(group, { file, policy: m.exports.default }); },\n"
	"  decide(ctx) { for (const g of ctx.user.groups) { const e = this.groups.get(g);\n"
	"      if (e) return { layer: \"group\", group: g, file: e.file, value: e.policy(ctx) }; "
	"}\n"
	"    return { layer: \"host\", value: null }; } };\n"
	"// chos:unit chemistry\n"
	"__chos.register(\"chemistry\", \"policy.d/chemistry.ts\", function (module) {\n"
	"  module.exports.default = () => ({ deny: \"chemistry is closed\" }); });\n"
	"// chos:unit physics\n"
	"__chos.register(\"physics\", \"policy.d/physics.ts\", function (module) {\n"
	"  module.exports.default = (ctx) => /^n[0-9]+$/.test(ctx.host.name) ?\n"
	"    { env: \"sl5\", reason: `node ${ctx.host.name}` } : null; });\n";

static char dir[] = "/tmp/fuzz_bytecode.XXXXXX";
static char bundle[64], qbc[64];
static uint8_t *fresh; /* the bundle's own bytecode file */
static size_t fresh_size;
static struct chos_decision expected; /* the source's decision */

static void count_lines(void *userdata, int priority, const char *line)
{
	(void)priority, (void)line;
	++*(unsigned *)userdata;
}

static void remove_dir(void)
{
	unlink(qbc);
	unlink(bundle);
	rmdir(dir);
}

static void write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		abort();
}

/* Reads the fresh bytecode file compile_file wrote; writes the seed when asked to. */
static void keep_fresh(void)
{
	const char *seed = getenv("CHOS_FUZZ_WRITE_SEED");
	FILE *f = fopen(qbc, "rbe");

	if (!f || fseek(f, 0, SEEK_END) < 0 || (fresh_size = (size_t)ftell(f)) == 0 ||
	    fseek(f, 0, SEEK_SET) < 0 || !(fresh = malloc(fresh_size)) ||
	    fread(fresh, 1, fresh_size, f) != fresh_size)
		abort();
	fclose(f);
	if (seed)
		write_file(seed, fresh, fresh_size);
}

static int decide(int prefer_source, struct chos_decision *d, unsigned *lines)
{
	struct chos_log log = { count_lines, lines, 0 };
	struct chos_policy_options opts = {
		.bundle_path = bundle,
		.trust_flags = CHOS_TRUST_ANY_OWNER | CHOS_TRUST_FILE_ONLY,
		.memory_bytes = 4u << 20,
		.timeout_ms = 1000,
		.prefer_source = prefer_source,
		.log = &log,
	};

	*lines = 0;
	return chos_policy_decide(&opts, &fuzz_catalogue, &fuzz_login, d);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct chos_error err = { 0 };
	unsigned lines;
	size_t size;

	(void)argc, (void)argv;
	if (!mkdtemp(dir))
		abort();
	snprintf(bundle, sizeof(bundle), "%s/policy.js", dir);
	snprintf(qbc, sizeof(qbc), "%s%s", bundle, CHOS_BYTECODE_SUFFIX);
	atexit(remove_dir);
	write_file(bundle, source, sizeof(source) - 1);
	if (chos_policy_compile_file(bundle, &size, &err) < 0)
		abort();
	keep_fresh();
	if (decide(1, &expected, &lines) < 0 || expected.outcome != CHOS_OUTCOME_ENV ||
	    expected.layer != CHOS_LAYER_GROUP || expected.units != 2)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool own = size == fresh_size && memcmp(data, fresh, size) == 0;
	struct chos_decision d;
	unsigned lines;

	write_file(qbc, data, size);
	if (decide(0, &d, &lines) < 0)
		abort();
	if (d.outcome != expected.outcome || strcmp(d.env, expected.env) != 0 ||
	    strcmp(d.reason, expected.reason) != 0 || d.layer != expected.layer)
		abort();
	if (lines > 1 || d.from_bytecode != (lines == 0) || (own && !d.from_bytecode))
		abort();
	return 0;
}
