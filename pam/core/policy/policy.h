/* SPDX-License-Identifier: BSD-3-Clause
 * The policy sandbox. One call evaluates a site bundle for one login in a fresh QuickJS runtime
 * (memory, stack and time limits set before anything runs; no eval, no std/os modules) and
 * returns a validated decision and the layer that made it.
 *
 * The precedence itself (site entry -> group files of the user's groups in the user's group order
 * -> the user's request if listed -> the catalogue's `default` if listed -> the host) is written
 * once, in the SDK (policy/sdk/precedence.ts), and compiled into every bundle, so the native engine
 * and the WASM test harness run the very same code. The bundle (an esbuild IIFE built by
 * `chos-policy build`) sets
 *
 *   globalThis.__chos = {
 *     decide(ctx) -> { layer: "site"|"group"|"request"|"default"|"host", group?: string,
 *                      file?: string, value: <what the layer returned> },
 *     current: string | undefined,   // the policy file running now ("index.ts", "policy.d/x.ts"),
 *   }                                 // read after a fault to say which file faulted
 *
 * A bundle from `chos-policy build` is a base unit (the SDK, lib/, the site entry: it sets
 * __chos) and one unit per group file that registers itself through __chos.register; a login
 * runs the base and only the units of the user's own groups (policy_units.c, policy_bundle.c),
 * so its cost does not grow with the number of group files.
 *
 * This file's job is everything the policy must not be trusted with: loading (trust rule, fresh
 * bytecode file BUNDLE + CHOS_BYTECODE_SUFFIX, an indexed pack of the units, preferred over
 * source), limits, and checking `value`
 * against the Decision shape of policy/sdk/contract.ts (unknown keys rejected by name) and the
 * catalogue (every env name must be listed). A decision object made by the SDK helpers carries a
 * non-enumerable `__at` ("LINE:COLUMN" in the bundle) saying where it was made.
 *
 * A fault (the policy throws, times out, runs out of memory or stack, returns a wrong shape or an
 * unlisted name, or cannot be loaded, including a missing bundle) is reported in the decision,
 * never turned into a choice here: the caller applies its on_error setting. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "facts/catalogue.h"
#include "facts/context.h"
#include "common/error.h"
#include "common/log.h"
#include "policy/layer.h"

#define CHOS_BYTECODE_SUFFIX ".qbc"
/* Defaults for production; the PAM module and the CLI may tighten them. */
#define CHOS_POLICY_MEMORY_DEFAULT (16u << 20) /* 16 MiB: a 50 KB bundle needs about 1 MiB */
#define CHOS_POLICY_STACK_DEFAULT (256u << 10) /* 256 KiB, as the WASM harness */
#define CHOS_POLICY_TIMEOUT_MS_DEFAULT 100u
/* Decisions carry short strings; longer reasons are cut (and the cut is not an error). */
#define CHOS_REASON_MAX 256

enum chos_outcome {
	CHOS_OUTCOME_ENV,
	CHOS_OUTCOME_DENY,
	CHOS_OUTCOME_HOST
};

enum chos_fault {
	CHOS_FAULT_NONE,
	CHOS_FAULT_LOAD,     /* bundle missing, unreadable, untrusted, or does not compile */
	CHOS_FAULT_THROW,    /* the policy threw */
	CHOS_FAULT_TIMEOUT,  /* the deadline interrupted it */
	CHOS_FAULT_MEMORY,   /* the memory limit stopped it */
	CHOS_FAULT_STACK,    /* the stack limit stopped it */
	CHOS_FAULT_SHAPE,    /* it returned something that is not a Decision */
	CHOS_FAULT_UNLISTED, /* it returned an environment the catalogue does not list */
};

struct chos_policy_options {
	const char *bundle_path;    /* the bundle (.js); its bytecode file sits beside it */
	unsigned trust_flags;	    /* trust.h flags, for the bundle and its bytecode */
	size_t memory_bytes;	    /* 0: default */
	size_t stack_bytes;	    /* 0: default */
	unsigned timeout_ms;	    /* 0: default */
	int prefer_source;	    /* ignore the bytecode file even when fresh (tests, explain) */
	int whole_bundle;	    /* run the bundle as one script, every group file registered,
				      not only the login's (tests comparing it with a login) */
	const struct chos_log *log; /* where console.log from the policy and debug lines go */
};

struct chos_decision {
	enum chos_outcome outcome;
	char env[CHOS_NAME_MAX + 1];	  /* CHOS_OUTCOME_ENV: the listed name */
	char reason[CHOS_REASON_MAX + 1]; /* the policy's reason, or one the precedence wrote */
	enum chos_layer layer;
	char group[CHOS_NAME_MAX + 1]; /* CHOS_LAYER_GROUP: which group file */
	char file[128];		       /* policy file that decided or faulted ("index.ts", ...) */
	int line, column;	       /* position in the bundle (1-based; 0 when unknown),
					  mapped to .ts by the CLI through the source map */
	int from_bytecode;	       /* 1 when the bytecode file was used */
	unsigned units;		       /* units run so far: the base and the group files of
					  the users evaluated (policy_bundle.c); 1 when whole */
	enum chos_fault fault;
	char fault_message[CHOS_ERROR_MAX]; /* the exception text or what was wrong */
};

/* Fills out either way: returns 0 with a decision, or -errno with out->fault set (-ETIMEDOUT,
 * -ENOMEM, -E2BIG for the stack, -EINVAL for throw/shape/unlisted, the load error's code).
 * The deadline's clock runs from before the load; running code is interrupted when it passes,
 * loading is not (it is bounded by its input: policy_load.c). Only the file that decided or
 * faulted, the position, and from_bytecode are meaningful on a fault besides the fault fields. */
int chos_policy_decide(const struct chos_policy_options *opts, const struct chos_catalogue *cat,
		       const struct chos_context *ctx, struct chos_decision *out);

/* A policy loaded once for many evaluations (the addon's warm call). chos_policy_decide is
 * chos_policy_open + chos_policy_evaluate + chos_policy_close: one code path. Evaluations share
 * the runtime, so what a policy leaves in its globals is seen by the next one; each has its own
 * deadline, memory limit and console budget. After a timeout, memory or stack fault, or a fault
 * loading a group unit, the runtime is not to be trusted: every later evaluation is a LOAD fault
 * saying so.
 *
 * chos_policy_open loads the bundle and runs its top level under the first deadline (which
 * also covers the first evaluation, as in chos_policy_decide); on a fault it returns -errno
 * with the fault in *fault and sets *out to NULL. opts->log is borrowed until close. */
struct chos_policy;
int chos_policy_open(const struct chos_policy_options *opts, struct chos_policy **out,
		     struct chos_decision *fault);
/* One decision, as chos_policy_decide describes it. */
int chos_policy_evaluate(struct chos_policy *policy, const struct chos_catalogue *cat,
			 const struct chos_context *ctx, struct chos_decision *out);
void chos_policy_close(struct chos_policy *policy);
/* TIMEOUT, MEMORY or STACK: a limit stopped the policy, after which its runtime's state is not
 * to be trusted. */
bool chos_fault_is_limit(enum chos_fault fault);
/* chos_policy_open on a helper thread (policy_opening.c), for a caller with other work to do
 * meanwhile (a login's facts). chos_policy_open_begin starts it (0, or -errno when no helper
 * could start: open it in the caller then); then exactly one of chos_policy_open_end, which
 * waits for it and returns what chos_policy_open would have (the policy is the caller's from
 * then on, to evaluate and close, with its deadline's budget as the load left it), or
 * chos_policy_open_abandon. OPTS is copied with its bundle path, so an abandoned opening needs
 * nothing of the caller's; a policy taken borrows OPTS's bundle path and log until closed. */
struct chos_policy_opening;
int chos_policy_open_begin(const struct chos_policy_options *opts,
			   struct chos_policy_opening **out);
int chos_policy_open_end(struct chos_policy_opening *opening, struct chos_policy **out,
			 struct chos_decision *fault);
void chos_policy_open_abandon(struct chos_policy_opening *opening);

/* Compiles each unit of the bundle at bundle_path to QuickJS bytecode and writes BUNDLE +
 * CHOS_BYTECODE_SUFFIX (atomically, mode 0644): the pack of policy_pack.h, binding each unit's
 * bytecode to the QuickJS version and to the SHA-256 of the unit's source bytes in the bundle,
 * so a stale, foreign or corrupt unit is never read (its mtime is not bound: copying both files
 * keeps the bytecode fresh). A syntax error is "PATH:LINE:COLUMN: message", a bundle line. The
 * bundle is read with the trust rule's mode checks only: whoever builds may own it; the full
 * rule applies where it is loaded. Reports the size written. */
int chos_policy_compile_file(const char *bundle_path, size_t *bytecode_len, struct chos_error *err);

const char *chos_fault_name(enum chos_fault fault); /* "throw", "timeout", ... */

/* A decision's layer as every printed form shows it (the log line's layer=, the addon's
 * decidedBy): chos_layer_name, or "group:NAME" for a group file. Returns what snprintf
 * returns. Inline, so a caller needs nothing beyond this header. */
static inline int chos_decision_layer(const struct chos_decision *d, char *buf, size_t len)
{
	if (d->layer == CHOS_LAYER_GROUP)
		return snprintf(buf, len, "%s:%s", chos_layer_name(d->layer), d->group);
	return snprintf(buf, len, "%s", chos_layer_name(d->layer));
}
