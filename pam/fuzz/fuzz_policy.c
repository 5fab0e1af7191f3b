/* SPDX-License-Identifier: BSD-3-Clause
 * Fuzzes the whole evaluation, chos_policy_decide, with the input as the bundle's source:
 * loading, running, every fault path and the validator, under ASan and LeakSanitizer. Its
 * point is less finding a crash in QuickJS than proving the sandbox's own bookkeeping: every
 * JSValue freed exactly once on every path (a leak survives JS_FreeRuntime and LSan reports
 * it), every outcome either a decision or a fault with a message. Limits are small so that
 * loops and hogs cost milliseconds. Each input also runs as a login runs it, loaded on a helper
 * thread and decided on this one (policy_opening.c), and the two must agree. */
#include "login_fixture.h"
#include "policy/policy.h"
#include "common/trust.h"
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char bundle[64];

static void quiet(void *userdata, int priority, const char *line)
{
	(void)userdata, (void)priority, (void)line;
}

static char dir[] = "/tmp/fuzz_policy.XXXXXX";

static void remove_dir(void)
{
	unlink(bundle);
	rmdir(dir);
}

/* The same evaluation as a login's session makes it. */
static int as_a_login(const struct chos_policy_options *opts, struct chos_decision *d)
{
	struct chos_policy_opening *opening;
	struct chos_policy *policy;
	int r;

	if (chos_policy_open_begin(opts, &opening) < 0)
		abort();
	if ((r = chos_policy_open_end(opening, &policy, d)) < 0)
		return r;
	r = chos_policy_evaluate(policy, &fuzz_catalogue, &fuzz_login, d);
	chos_policy_close(policy);
	return r;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc, (void)argv;
	if (!mkdtemp(dir))
		abort();
	strcpy(bundle, dir);
	strcat(bundle, "/policy.js");
	atexit(remove_dir);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chos_log log = { quiet, NULL, 0 };
	struct chos_policy_options opts = {
		.bundle_path = bundle,
		/* Its own file in /tmp: judged alone, or every input would be a load fault. */
		.trust_flags = CHOS_TRUST_ANY_OWNER | CHOS_TRUST_FILE_ONLY,
		.memory_bytes = 4u << 20,
		.timeout_ms = 20,
		.prefer_source = 1,
		.log = &log,
	};
	struct chos_decision d;
	int fd = open(bundle, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || close(fd) < 0)
		abort();
	int r = chos_policy_decide(&opts, &fuzz_catalogue, &fuzz_login, &d);
	if ((r < 0) != (d.fault != CHOS_FAULT_NONE) || (r < 0 && !d.fault_message[0]))
		abort();
	if (r == 0 && d.outcome == CHOS_OUTCOME_ENV && !chos_catalogue_find(&fuzz_catalogue, d.env))
		abort();
	struct chos_decision l;
	int lr = as_a_login(&opts, &l);
	/* Limits are met by time and allocation, which vary from run to run: an input near one may
	 * meet it in one run and not in the other. Everything else must come out the same. */
	if (!chos_fault_is_limit(d.fault) && !chos_fault_is_limit(l.fault) &&
	    (lr != r || l.fault != d.fault || l.outcome != d.outcome || strcmp(l.env, d.env) != 0))
		abort();
	return 0;
}
