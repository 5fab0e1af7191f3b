/* SPDX-License-Identifier: BSD-3-Clause
 * What the policy*.c files share (not a public contract: the fuzzer and the addon's tests reach
 * the validator through it, everyone else uses policy.h).
 *
 *   policy.c          chos_policy_decide: the one evaluation, start to end; names of enums
 *   policy_runtime.c  the sandbox: runtime, limits, deadline, intrinsics, console
 *   policy_load.c     the bundle: trust, fresh bytecode or source; chos_policy_compile_file
 *   policy_validate.c the decision: envelope and Decision shape, catalogue membership
 *   policy_fault.c    an exception turned into a fault class, message, file and line:column
 *
 * Ownership of JSValues: functions taking JSValueConst borrow; a JSValue returned or stored
 * through an out-pointer is owned by the caller, who frees it exactly once. */
#pragma once
#include "policy/policy.h"
#include <quickjs.h>
#include <stdbool.h>
#include <time.h>

/* Console lines one evaluation may log; more would let a policy flood syslog at every login. */
#define CHOS_CONSOLE_LINES_MAX 64
/* Headroom granted after a fault so the file that faulted can still be read (policy_fault.c). */
#define CHOS_POLICY_FAULT_HEADROOM (1u << 20)

struct chos_sandbox {
	JSRuntime *rt;		    /* owned; freed by chos_sandbox_close */
	JSContext *ctx;		    /* owned; freed by chos_sandbox_close */
	const struct chos_log *log; /* borrowed from the options */
	size_t memory_bytes;	    /* the limits, for fault messages */
	size_t stack_bytes;
	unsigned timeout_ms;
	struct timespec deadline; /* CLOCK_THREAD_CPUTIME_ID, from sandbox open: loading spends it
				     too, but only running code is interrupted (policy_load.c) */
	bool expired;		  /* the deadline passed: every later poll interrupts too */
	unsigned console_lines;
};

/* policy_runtime.c */
int chos_sandbox_open(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		      struct chos_error *err);
void chos_sandbox_close(struct chos_sandbox *sb);
/* A fresh budget for one more evaluation in the same runtime: the deadline from now, the
 * memory limit without a fault's headroom, the console line count back to zero. */
void chos_sandbox_rearm(struct chos_sandbox *sb);

/* policy_load.c: the compiled bundle (not yet run) in *fn, owned by the caller; or a LOAD
 * fault in out and -errno. Sets out->from_bytecode. */
int chos_policy_load(struct chos_sandbox *sb, const struct chos_policy_options *opts, JSValue *fn,
		     struct chos_decision *out);

/* policy_validate.c: own data property `name` of obj into *val (owned). 1 found, 0 absent,
 * -1 an accessor (never called: validation runs no policy code), -2 an exception. */
int chos_get_data_prop(JSContext *ctx, JSValueConst obj, const char *name, JSValue *val);
/* Checks a Decision value; fills outcome, env, reason, line/column from `__at`, or a SHAPE or
 * UNLISTED fault. Returns 0 or -EINVAL. */
int chos_policy_validate_decision(JSContext *ctx, JSValueConst value,
				  const struct chos_catalogue *cat, struct chos_decision *out);
/* Checks what __chos.decide returned ({layer, group?, file?, value}) and then its value. */
int chos_policy_validate_result(JSContext *ctx, JSValueConst result,
				const struct chos_catalogue *cat, struct chos_decision *out);

/* policy_fault.c: the pending exception as a fault (THROW, TIMEOUT, MEMORY or STACK; LOAD when
 * is_load), with its message, bundle line:column and the file named by __chos.current. Takes
 * and frees the exception. Returns the -errno chos_policy_decide reports. */
int chos_policy_fault_from_exception(struct chos_sandbox *sb, bool is_load,
				     struct chos_decision *out);
/* Fills a fault from a format (for load, shape and unlisted faults). Returns code. */
int chos_policy_fault(struct chos_decision *out, enum chos_fault fault, int code, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));
/* Parses "LINE:COLUMN" into out->line/column when well formed. */
void chos_policy_set_position(struct chos_decision *out, const char *text);
