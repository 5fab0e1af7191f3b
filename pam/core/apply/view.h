/* SPDX-License-Identifier: BSD-3-Clause
 * A view built once and entered by many processes: what a Slurm step's tasks share (one mount
 * namespace, one root change, however many ranks). Apply split in two:
 *
 *   chos_view_prepare  starts a helper thread that makes the backend's view (pivot.c: private
 *                      rslave namespace, ROOT bound on itself, TREE on the link for the
 *                      namespace backend, pivot_root) and keeps a handle on its mount
 *                      namespace; the thread then ends, the handle keeps the namespace alive.
 *                      unshare(CLONE_NEWNS) moves only the thread that calls it (its root and
 *                      working directory are unshared with it), so the caller's other threads
 *                      (slurmstepd's) keep their mounts, root and working directory.
 *   chos_view_enter    moves the calling thread (a task before exec, a login adopted into a
 *                      job) into that namespace with setns, which also makes its root and working
 *                      directory the view's root; then chdir to the home. With the kmod backend
 *                      it first sets the caller's link to TREE (the link is per process).
 *
 * Nothing is mounted per task, and the namespace dies with the handle and the last task. */
#pragma once
#include "apply/backend.h"
#include "common/error.h"

struct chos_view {
	int mntns;		   /* the view's mount namespace (O_CLOEXEC), -1 when none */
	enum chos_backend backend; /* KMOD or NAMESPACE */
	char tree[4096];	   /* PATH_MAX: the kmod backend's link target */
};

/* A view with no namespace (mntns -1): call before chos_view_prepare or chos_view_close. */
void chos_view_init(struct chos_view *view);
/* Builds the view of BACKEND (KMOD or NAMESPACE) for TREE under ROOT as above. On failure err
 * names the backend's failed step, as chos_namespace_apply and chos_kmod_apply would, and the
 * view stays empty. Needs CAP_SYS_ADMIN. Returns 0 or -errno. */
int chos_view_prepare(struct chos_view *view, enum chos_backend backend, const char *root,
		      const char *tree, struct chos_error *err);
/* chos_view_prepare in two calls, for a caller that decides the tree meanwhile (a Slurm step:
 * view.c). chos_view_begin starts the helper on its first half (checks of ROOT, the
 * namespace): 0, or -errno when no helper could start. Then exactly one of chos_view_finish
 * (the tree: the view is built, with the errors chos_view_prepare would give) or
 * chos_view_abandon (no tree: the helper ends, nothing stays); both free the build. */
struct chos_view_build;
int chos_view_begin(struct chos_view_build **build, enum chos_backend backend, const char *root,
		    struct chos_error *err);
int chos_view_finish(struct chos_view_build *build, struct chos_view *view, const char *tree,
		     struct chos_error *err);
void chos_view_abandon(struct chos_view_build *build);
/* The tree the caller expects to name (a step's request, before the policy decides): the
 * helper builds it as soon as the namespace is ready. chos_view_finish with that tree takes
 * this build; with another, it builds that one afresh, as chos_view_prepare. At most once,
 * before finish or abandon. */
void chos_view_expect(struct chos_view_build *build, const char *tree);
/* No tree is expected (a step with no request): the helper makes the rest of ROOT's half while
 * the policy decides (ROOT entered, the link empty); finish then copies the tree named on the
 * caller's view and the helper attaches it, in place of the tree's whole half. At most once,
 * instead of chos_view_expect. */
void chos_view_expect_none(struct chos_view_build *build);
/* The backend a build was begun for. */
enum chos_backend chos_view_build_backend(const struct chos_view_build *build);
/* Enters the prepared view (see above); HOME may be NULL ("/"). Returns 0 or -errno. */
int chos_view_enter(const struct chos_view *view, const char *home, struct chos_error *err);
/* Releases the handle; the view stays for the processes inside it. */
void chos_view_close(struct chos_view *view);
