/* SPDX-License-Identifier: BSD-3-Clause
 * What setup.c and setup_kmod.c share: one run's state and its two kinds of output line.
 * Not a public contract (setup.h is). */
#pragma once
#include "facts/catalogue.h"
#include "setup/setup.h"

/* PATH_MAX: a longer path under ROOT is reported, not cut. */
#define SETUP_PATH_MAX 4096

struct setup_run {
	const struct chos_setup_options *o;
	const char *root;
	enum chos_backend backend; /* resolved: never AUTO */
	int problems;
	char **images; /* the names the catalogue lists as images (setup_images), owned */
	size_t image_count;
};

/* "problem: WHAT; fix: FIX", counted. Returns code, the -errno that goes with WHAT, so a step
 * writes `return setup_problem(r, -ENOENT, ...)`: every step returns 0 or -errno, with its
 * problem line said. */
int setup_problem(struct setup_run *r, int code, const char *fix, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* "done: WHAT", for each change made. Returns 0. */
int setup_done(struct setup_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "ok: WHAT", for what --check and setup report as right (each image). Returns 0. */
int setup_note(struct setup_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes entry i from this run's catalogue (a refused tree or image): later steps skip it. */
void setup_drop_entry(struct chos_catalogue *cat, size_t i);

/* Images (setup_image.c): mounts each image entry at its mount point after the trust rule, its
 * superblock and its pinned digest pass; the entry's path becomes that mount point, a tree like
 * any other for the rest of the run. A refused image is reported and dropped from cat. */
void setup_images(struct setup_run *r, struct chos_catalogue *cat);
/* Last in the run (after setup_kmod_valid): what under ROOT/.chos-images no listed image leads
 * to any more, a replaced image's old generation or an unlisted image's, is taken away once no
 * session can use it (setup_image.c says when that is for each backend). */
void setup_drop_stale_images(struct setup_run *r);

/* `modprobe -q MODULE` (setup_kmod.c); returns its exit status, or -errno when it could not run. */
int setup_modprobe(const char *module);

/* kmod (setup_kmod.c): the module loaded (modprobe chos, else --module), its filesystem mounted
 * on /proc/chos; under --check, each missing one is a problem. 0 when both are there, else the
 * -errno of the problem reported. */
int setup_kmod_ready(struct setup_run *r);
/* Loads the module without reporting a failure: the auto backend's probe for an installed one.
 * True when it is loaded afterwards. */
int setup_kmod_try_load(struct setup_run *r);
/* ROOT/.chosfs (made here) and ROOT/proc/chos (ROOT/proc a bind of the host's) show chosfs too:
 * sessions resolve the link through the first and switch trees through the second. */
int setup_kmod_in_root(struct setup_run *r);
/* How many processes' links lead into the tree at path, by /proc/chos/held (summed over its
 * link objects; 0 when it shows none), or the problem's -errno (said). */
long setup_kmod_held(struct setup_run *r, const char *path);
/* Lists exactly the catalogue's paths in /proc/chos/valid (setchos accepts only those). */
int setup_kmod_valid(struct setup_run *r, const struct chos_catalogue *cat);

/* Trust (setup_trust.c): reports each tree that fails the trust rule (trust.h) and drops it
 * from cat, so nothing later in the run serves it or lists it in /proc/chos/valid. */
void setup_drop_untrusted_trees(struct setup_run *r, struct chos_catalogue *cat);
/* Reports the bundle's bytecode (POLICY.qbc) when it exists and fails the trust rule. */
void setup_check_bytecode(struct setup_run *r, const char *policy);
