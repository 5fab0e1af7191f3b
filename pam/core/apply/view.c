/* SPDX-License-Identifier: BSD-3-Clause
 * A view prepared once, entered by many (view.h). The helper is a thread of the caller, not a
 * fork: unshare(CLONE_NEWNS) also unshares the thread's filesystem information (root, working
 * directory), so the backend's own steps (namespace.c, kmod_backend.c, through pivot.c) move
 * that thread alone, and the caller's other threads keep their mounts and root. The thread
 * opens its own mount namespace (/proc/thread-self/ns/mnt: /proc/self would name the thread
 * group's leader, still on the host) and ends; the descriptor keeps the namespace alive.
 *
 * Why not a fork: a forked copy of slurmstepd cost about 1 ms a step (the fork's page tables,
 * then copy-on-write faults in the caller and the copy's exit), more than the view itself. The
 * thread runs with every signal blocked, so none of the caller's handlers runs on it.
 * Never /proc/PID of the helper from the caller: slurmstepd may run in a PID namespace whose
 * pids are not the ones /proc shows; /proc/thread-self is always the thread that opens it. */
#include "apply/view.h"
#include "apply/kmod_backend.h"
#include "apply/namespace.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The helper's task and what it reports: its step's code, the error, the namespace. */
struct helper_job {
	enum chos_backend backend;
	const char *root;
	const char *tree;
	int code;
	int nsfd;
	struct chos_error err;
};

void chos_view_init(struct chos_view *view)
{
	view->mntns = -1;
	view->backend = CHOS_BACKEND_NONE;
	view->tree[0] = '\0';
}

/* The helper's work: the backend's checks and root change, in its own namespace. The kmod
 * link is the task's, set by chos_view_enter, so the helper enters ROOT without it. */
static int build(enum chos_backend backend, const char *root, const char *tree,
		 struct chos_error *err)
{
	int r;

	if (backend == CHOS_BACKEND_NAMESPACE)
		return chos_namespace_apply(root, tree, NULL, err);
	if ((r = chos_kmod_check_root(root, err)) < 0 ||
	    (r = chos_kmod_check_visible(root, tree, err)) < 0)
		return r;
	return chos_kmod_enter(root, NULL, err);
}

static void *helper(void *arg)
{
	struct helper_job *job = arg;

	job->code = build(job->backend, job->root, job->tree, &job->err);
	if (job->code == 0) {
		job->nsfd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
		if (job->nsfd < 0)
			job->code = chos_fail(&job->err, -errno,
					      "view: open /proc/thread-self/ns/mnt: %s",
					      strerror(errno));
	}
	return NULL;
}

int chos_view_prepare(struct chos_view *view, enum chos_backend backend, const char *root,
		      const char *tree, struct chos_error *err)
{
	struct helper_job job = { .backend = backend, .root = root, .tree = tree, .nsfd = -1 };
	sigset_t all, saved;
	pthread_t thread;
	int r;

	if (backend != CHOS_BACKEND_NAMESPACE && backend != CHOS_BACKEND_KMOD)
		return chos_fail(err, -EINVAL, "view: backend %s enters nothing",
				 chos_backend_name(backend));
	if (snprintf(view->tree, sizeof(view->tree), "%s", tree) >= (int)sizeof(view->tree))
		return chos_fail(err, -ENAMETOOLONG, "view: tree path too long");
	/* The thread inherits the mask: all blocked while it lives, the caller's back after. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = pthread_create(&thread, NULL, helper, &job);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r != 0)
		return chos_fail(err, -r, "view: cannot start the helper thread: %s", strerror(r));
	pthread_join(thread, NULL);
	if (job.code < 0)
		return chos_fail(err, job.code, "%s", job.err.message);
	view->mntns = job.nsfd;
	view->backend = backend;
	return 0;
}

int chos_view_enter(const struct chos_view *view, const char *home, struct chos_error *err)
{
	int r;

	if (view->mntns < 0)
		return chos_fail(err, -EBADF, "view: none prepared");
	if (view->backend == CHOS_BACKEND_KMOD && (r = chos_kmod_set(view->tree, err)) < 0)
		return r;
	/* setns(CLONE_NEWNS) also sets root and cwd to the namespace's root: the pivoted ROOT. */
	if (setns(view->mntns, CLONE_NEWNS) < 0)
		return chos_fail(err, -errno, "%s backend: setns into the step's view: %s",
				 chos_backend_name(view->backend), strerror(errno));
	if (!home || chdir(home) < 0)
		(void)!chdir("/");
	return 0;
}

void chos_view_close(struct chos_view *view)
{
	if (view->mntns >= 0)
		close(view->mntns);
	view->mntns = -1;
}
