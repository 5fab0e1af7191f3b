/* SPDX-License-Identifier: BSD-3-Clause
 * What the policy*.c files share (not a public contract: the fuzzer and the addon's tests reach
 * the validator through it, everyone else uses policy.h).
 *
 *   policy.c          chos_policy_decide: the one evaluation, start to end; names of enums
 *   policy_runtime.c  the sandbox: runtime, limits, deadline, intrinsics, console
 *   policy_arena.c    the sandbox's allocator: the runtime's blocks, released at once
 *   policy_load.c     compiling: source to bytecode in memory; chos_policy_compile_file
 *   policy_units.c    the bundle's units (base, one per group file), each compiled as bundle lines
 *   policy_pack.c     the bytecode file: an indexed pack of the units' bytecode (policy_pack.h)
 *   policy_bundle.c   loading a login's units: from the pack when it checks out, else the source
 *   policy_validate.c the decision: envelope and Decision shape, catalogue membership
 *   policy_fault.c    an exception turned into a fault class, message, file and line:column
 *
 * Ownership of JSValues: functions taking JSValueConst borrow; a JSValue returned or stored
 * through an out-pointer is owned by the caller, who frees it exactly once. */
#pragma once
#include "policy/policy.h"
#include "policy/policy_pack.h"
#include <quickjs.h>
#include <stdbool.h>
#include <time.h>

/* What a broken build can make a login read when it falls back to the whole source. A login
 * from the pack reads only its own units, so this is far above a site's bundle (10,000 group
 * files are about 12 MB). */
#define CHOS_BUNDLE_MAX (64u << 20)
/* Console lines one evaluation may log; more would let a policy flood syslog at every login. */
#define CHOS_CONSOLE_LINES_MAX 64
/* Headroom granted after a fault so the file that faulted can still be read (policy_fault.c). */
#define CHOS_POLICY_FAULT_HEADROOM (1u << 20)

struct chos_arena;

struct chos_sandbox {
	struct chos_arena *arena;   /* every block of rt; released by chos_sandbox_close */
	JSRuntime *rt;		    /* owned; freed by chos_sandbox_close */
	JSContext *ctx;		    /* owned; freed by chos_sandbox_close */
	const struct chos_log *log; /* borrowed from the options */
	size_t memory_bytes;	    /* the limits, for fault messages */
	size_t stack_bytes;
	unsigned timeout_ms;
	struct timespec deadline; /* CLOCK_THREAD_CPUTIME_ID, from sandbox open: loading spends it
				     too, but only running code is interrupted (policy_load.c) */
	struct timespec left;	  /* what chos_sandbox_leave kept of it */
	bool expired;		  /* the deadline passed: every later poll interrupts too */
	unsigned console_lines;
};

/* policy_arena.c: JS_NewRuntime2's functions, with a chos_arena_new() as the opaque;
 * chos_arena_release frees every block at once. When chos_arena_frees_each, the runtime must
 * be freed first (JS_FreeRuntime), so the sanitizers see every block (the file says why). */
extern const JSMallocFunctions chos_arena_functions;
extern const bool chos_arena_frees_each;
struct chos_arena *chos_arena_new(void);
void chos_arena_release(struct chos_arena *a);

/* policy_runtime.c */
int chos_sandbox_open(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		      struct chos_error *err);
void chos_sandbox_close(struct chos_sandbox *sb);
/* A fresh budget for one more evaluation in the same runtime: the deadline from now, the
 * memory limit without a fault's headroom, the console line count back to zero. */
void chos_sandbox_rearm(struct chos_sandbox *sb);
/* The sandbox moving to another thread (policy_opening.c): leave on the thread that ran it so
 * far keeps what is left of the deadline; enter on the one that runs it from now on sets the
 * deadline that much ahead of its own CPU clock and its stack as the runtime's. */
void chos_sandbox_leave(struct chos_sandbox *sb);
void chos_sandbox_enter(struct chos_sandbox *sb);
/* policy.c: the same for a whole policy; enter also makes LOG its sink and PATH its bundle's
 * path from now on (the caller's, borrowed as chos_policy_open borrows them). */
void chos_policy_leave(struct chos_policy *p);
void chos_policy_enter(struct chos_policy *p, const struct chos_log *log, const char *path);

/* policy_load.c: a context of rt that can compile (eval machinery) but never runs anything, and
 * compiling in it: the bytecode of text (len bytes, NUL after them) named `name` for positions,
 * js_free'd with cc, or NULL with the exception pending in cc. */
JSContext *chos_compiler_context(JSRuntime *rt);
uint8_t *chos_policy_compile_text(JSContext *cc, const char *text, size_t len, const char *name,
				  size_t *size);

/* policy_units.c: a bundle split at its unit markers. v[0] is the base unit (group ""), then
 * one per group file, sorted by group, unique. */
struct chos_unit {
	char group[CHOS_NAME_MAX + 1];
	size_t offset, length; /* bytes of the bundle */
	unsigned line;	       /* lines of the bundle before the unit */
};
struct chos_units {
	struct chos_unit *v;
	size_t count;
};
/* 0, -EINVAL when a marker is malformed or out of order, -ENOMEM. */
int chos_units_split(const char *src, size_t len, struct chos_units *out);
void chos_units_free(struct chos_units *u);
/* chos_policy_compile_text for a unit's text, numbering its lines from line + 1 as in the
 * bundle, and naming it by the bundle's base name (so the build's bytecode and a login's
 * compiled source report the same file). */
uint8_t *chos_unit_compile(JSContext *cc, const char *text, size_t len, unsigned line,
			   const char *bundle_path, size_t *size);

/* policy_pack.c */
struct chos_pack {
	int fd; /* borrowed */
	uint64_t size;
	struct chos_pack_header header; /* checked */
	struct chos_pack_top *top;	/* checked against the header; owned */
};
/* The whole pack file for src split into units, with each unit's bytecode; malloc'd. */
int chos_pack_image(const char *src, size_t len, const struct chos_units *units,
		    uint8_t *const *bytecode, const size_t *bytecode_size, uint8_t **image,
		    size_t *image_size);
/* Checks the header and the top table of the pack open on fd for a bundle of bundle_size bytes.
 * 0, or -errno and *why: "stale" (not built from this bundle by this QuickJS), "corrupt: ...". */
int chos_pack_open(struct chos_pack *pk, int fd, uint64_t bundle_size, const char **why);
void chos_pack_close(struct chos_pack *pk);
/* The checked entry of group's unit: 1 found, 0 no such group, -errno with *why. */
int chos_pack_find(struct chos_pack *pk, const char *group, struct chos_pack_unit *out,
		   const char **why);
/* A unit's source region from the bundle and its bytecode, each checked against its SHA-256
 * (malloc'd, NUL after them): 0, or -errno with *why ("stale": the bundle's bytes differ). */
int chos_pack_read_unit(const struct chos_pack *pk, int bundle_fd, const struct chos_pack_unit *u,
			char **source, char **bytecode, const char **why);
/* Exactly n bytes of fd at off, NUL after them, malloc'd. */
int chos_pread_all(int fd, uint64_t off, size_t n, char **out);

/* policy_bundle.c: the bundle a policy runs, open for its life. */
struct chos_bundle {
	const char *path; /* borrowed from the options */
	unsigned trust_flags;
	bool whole;  /* run as one script (opts->whole_bundle) */
	int fd;	     /* the bundle, opened through the trust rule */
	int pack_fd; /* its pack, or -1 */
	uint64_t size;
	struct chos_pack pack; /* used while pack_fd >= 0 */
	char *source;	       /* the whole bundle, once the source is needed */
	struct chos_units units;
	char (*seen)[CHOS_NAME_MAX + 1]; /* groups looked up already */
	size_t seen_count;
	unsigned loaded;    /* units run */
	bool from_bytecode; /* every unit run came from the pack */
};
/* Opens the bundle and its pack and runs the base unit (or, with opts->whole_bundle, the whole
 * bundle from source); a LOAD or run fault in out and -errno. */
int chos_bundle_open(struct chos_sandbox *sb, const struct chos_policy_options *opts,
		     struct chos_bundle *b, struct chos_decision *out);
/* Runs the units of ctx's groups not run yet, in bundle order; a fault in out and -errno. */
int chos_bundle_load_groups(struct chos_sandbox *sb, struct chos_bundle *b,
			    const struct chos_context *ctx, struct chos_decision *out);
void chos_bundle_close(struct chos_bundle *b);

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
