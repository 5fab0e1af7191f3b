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
 * thread is chos_helper_start's: every signal blocked, on another CPU than the caller's.
 * Never /proc/PID of the helper from the caller: slurmstepd may run in a PID namespace whose
 * pids are not the ones /proc shows; /proc/thread-self is always the thread that opens it.
 *
 * The helper works in two halves (pivot.c): the namespace (the backend's root checks, the
 * copy of the caller's mounts, rslave, ROOT on itself), which needs no tree and starts at
 * chos_view_begin, and the tree's (its checks, its bind, pivot_root, the old root detached),
 * which waits for chos_view_finish. Between the two the caller decides: the first half (about
 * half the view's cost) runs alongside the policy. When the caller expects a tree before it
 * knows (chos_view_expect: a step's request), the second half runs alongside the policy too;
 * the helper then keeps that namespace only if finish names the same tree, else the caller
 * builds the one named afresh. When the caller expects none (chos_view_expect_none: a step with
 * no request), the helper takes the rooted second half meanwhile: pivot_root into ROOT with
 * nothing on the link, the old root detached, then it waits. At finish the caller checks the
 * tree and copies it (open_tree, recursive, made a slave) on its own view, the host's, which the
 * helper no longer sees, and the helper attaches that copy on the link's handle: after the
 * decision, one copy and one attach rather than the tree's whole half (bench:slurm, no $CHOS:
 * the plugin's time a step, 1.5 to 1.6 times a requested step's, became 1.2 to 1.3). A view
 * abandoned (no tree: the host, a denial) ends the thread, and its namespace goes with it.
 * Errors come out in the order a single build would give them: the first half's, else the
 * second's (the tree's checks, then its bind).
 *
 * The caller waits for the helper's answer, not for its exit: the thread is detached, and the
 * last of the two to let go of the build frees it. Measured in slurmstepd, a join returned
 * about 0.2 ms after the helper had its answer (its exit, from a namespace of its own whose old
 * root it detached, comes first); a wait on the answer itself, about 0.15 ms, most of which
 * is waking the caller. */
#include "apply/view.h"
#include "apply/kmod_backend.h"
#include "apply/namespace.h"
#include "apply/pivot.h"
#include "common/beneath.h"
#include "common/helper.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A view being built: what the caller and the helper thread tell each other. */
struct chos_view_build {
	pthread_mutex_t lock;
	pthread_cond_t named; /* tree set, or abandoned */
	pthread_cond_t ended; /* the helper's answer is in code, err and nsfd */
	bool done;
	int holders; /* the caller and the helper; the last to let go frees the build */
	enum chos_backend backend;
	const char *root;
	const char *tree;				      /* set by finish; NULL until then */
	char expected[sizeof(((struct chos_view *)0)->tree)]; /* chos_view_expect's; "" if none */
	const char *built; /* the tree the helper built: tree, expected, or NULL (abandoned) */
	bool abandoned;
	bool unexpected; /* chos_view_expect_none: no tree to build before the decision */
	bool rooted;	 /* the helper chose the rooted second half (set under the lock) */
	bool posted;	 /* rooted: the caller's copy of the tree is in copy */
	int copy;	 /* rooted, namespace backend: that copy, or -1 when the tree failed */
	int code;	 /* the first failed half's, 0 when both worked */
	int nsfd;	 /* the view's namespace when both halves worked, else -1 */
	struct chos_error err;
	pthread_t thread; /* the helper's, to unpin before waiting for it (helper.h) */
};

void chos_view_init(struct chos_view *view)
{
	view->mntns = -1;
	view->backend = CHOS_BACKEND_NONE;
	view->tree[0] = '\0';
}

/* The first half, in the helper's own namespace: the backend's checks of ROOT, then the
 * namespace with ROOT bound on itself. */
static int build_namespace(enum chos_backend backend, const char *root, struct chos_error *err)
{
	int r;

	if (backend == CHOS_BACKEND_NAMESPACE)
		r = chos_namespace_check_root(root, err);
	else
		r = chos_kmod_check_root(root, err);
	if (r < 0)
		return r;
	return chos_pivot_unshare(backend == CHOS_BACKEND_NAMESPACE ? CHOS_NAMESPACE_BACKEND
								    : CHOS_KMOD_BACKEND,
				  root, err);
}

/* The second half: the tree's checks, its bind (namespace backend), the root change. The kmod
 * link is the task's, set by chos_view_enter, so the helper enters ROOT without it. */
static int build_tree(enum chos_backend backend, const char *root, const char *tree,
		      struct chos_error *err)
{
	int r;

	if (backend == CHOS_BACKEND_NAMESPACE) {
		if ((r = chos_namespace_check_tree(tree, err)) < 0)
			return r;
		return chos_pivot_into(CHOS_NAMESPACE_BACKEND, root, tree, NULL, err);
	}
	if ((r = chos_kmod_check_visible(root, tree, err)) < 0)
		return r;
	return chos_pivot_into(CHOS_KMOD_BACKEND, root, NULL, NULL, err);
}

/* Under b->lock: one holder fewer; true when it was the last (unlock, then free_build). */
static bool let_go(struct chos_view_build *b)
{
	return --b->holders == 0;
}

/* Under b->lock, the helper done: its namespace, which nobody will take. */
static void close_answer(struct chos_view_build *b)
{
	if (b->nsfd >= 0)
		close(b->nsfd);
	b->nsfd = -1;
}

static void free_build(struct chos_view_build *b)
{
	pthread_cond_destroy(&b->ended);
	pthread_cond_destroy(&b->named);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* The helper's answer, published once: code, err and, when both halves worked, nsfd with the
 * namespace built for `built`. Abandoned by then, nobody will take nsfd: closed here. */
static void answer(struct chos_view_build *b, const char *built, int code)
{
	bool last;

	pthread_mutex_lock(&b->lock);
	b->code = code;
	b->built = built;
	if (b->abandoned)
		close_answer(b);
	b->done = true;
	pthread_cond_signal(&b->ended);
	last = let_go(b);
	pthread_mutex_unlock(&b->lock);
	if (last)
		free_build(b);
}

/* The view's namespace, which the helper is in: b->nsfd, or -errno. */
static int open_view(struct chos_view_build *b)
{
	b->nsfd = open("/proc/thread-self/ns/mnt", O_RDONLY | O_CLOEXEC);
	return b->nsfd >= 0 ? 0
			    : chos_fail(&b->err, -errno, "view: open /proc/thread-self/ns/mnt: %s",
					strerror(errno));
}

/* The rooted second half, for a tree decided after the first half is done: ROOT entered with
 * nothing on the link meanwhile, then (namespace backend) the caller's copy of the tree, made
 * on the host's view at finish, attached on the link's handle beneath the new root. */
static int build_rooted(struct chos_view_build *b)
{
	const char *name =
		b->backend == CHOS_BACKEND_NAMESPACE ? CHOS_NAMESPACE_BACKEND : CHOS_KMOD_BACKEND;
	int r = chos_pivot_into(name, b->root, NULL, NULL, &b->err), rootfd, linkfd, copy;

	if (r < 0 || b->backend != CHOS_BACKEND_NAMESPACE)
		return r;
	if ((rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return chos_step_failed(&b->err, name, -errno, "open", b->root);
	linkfd = chos_pivot_open_link(name, rootfd, b->root, &b->err);
	close(rootfd);
	if (linkfd < 0)
		return linkfd;
	pthread_mutex_lock(&b->lock);
	while (!b->posted && !b->abandoned)
		pthread_cond_wait(&b->named, &b->lock);
	copy = b->posted ? b->copy : -1;
	pthread_mutex_unlock(&b->lock);
	/* No copy: the tree failed its checks, which the caller answers with (finish_rooted). */
	r = copy < 0 ? 0 : chos_pivot_attach_tree(name, b->root, copy, linkfd, &b->err);
	close(linkfd);
	return r;
}

static void *helper(void *arg)
{
	struct chos_view_build *b = arg;
	int code = build_namespace(b->backend, b->root, &b->err);
	const char *tree;

	pthread_mutex_lock(&b->lock);
	while (!b->tree && !b->abandoned && !b->expected[0] && !b->unexpected)
		pthread_cond_wait(&b->named, &b->lock);
	tree = b->tree ? b->tree : b->abandoned ? NULL : b->expected[0] ? b->expected : NULL;
	b->rooted = !tree && !b->abandoned;
	pthread_mutex_unlock(&b->lock);
	/* The tree named, else the one expected (the caller checks which, at finish); each is set
	 * once, before the wait above ends. With neither, the rooted half. */
	if (code == 0 && b->rooted)
		code = build_rooted(b);
	else if (code == 0 && tree)
		code = build_tree(b->backend, b->root, tree, &b->err);
	if (code == 0 && (tree || b->rooted))
		code = open_view(b);
	answer(b, tree, code);
	return NULL;
}

int chos_view_begin(struct chos_view_build **out, enum chos_backend backend, const char *root,
		    struct chos_error *err)
{
	struct chos_view_build *b;
	int r;

	*out = NULL;
	if (backend != CHOS_BACKEND_NAMESPACE && backend != CHOS_BACKEND_KMOD)
		return chos_fail(err, -EINVAL, "view: backend %s enters nothing",
				 chos_backend_name(backend));
	if (!(b = calloc(1, sizeof(*b))))
		return chos_fail(err, -ENOMEM, "out of memory");
	b->backend = backend;
	b->root = root;
	b->nsfd = b->copy = -1;
	b->holders = 2;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->named, NULL);
	pthread_cond_init(&b->ended, NULL);
	r = chos_helper_start(helper, b, &b->thread);
	if (r != 0) {
		free_build(b);
		return chos_fail(err, -r, "view: cannot start the helper thread: %s", strerror(r));
	}
	*out = b;
	return 0;
}

/* Names the tree (NULL: abandoned) and lets go of b. With a tree, waits for the helper's
 * answer and returns it (nsfd, err), or -ESTALE when the helper built the expected tree and
 * this is another (its namespace closed); abandoned, there is none to wait for, and whichever
 * of the two sees the answer last closes its namespace. */
static int end(struct chos_view_build *b, const char *tree, int *nsfd, struct chos_error *err)
{
	int r = 0;
	bool last;

	*nsfd = -1;
	pthread_mutex_lock(&b->lock);
	if (tree)
		b->tree = tree;
	else
		b->abandoned = true;
	pthread_cond_signal(&b->named);
	if (tree && !b->done)
		chos_helper_unpin(b->thread);
	while (tree && !b->done)
		pthread_cond_wait(&b->ended, &b->lock);
	if (b->done && (!tree || (b->built == b->expected && strcmp(tree, b->expected) != 0))) {
		close_answer(b);
		r = tree ? -ESTALE : 0;
	} else if (tree) {
		r = b->code;
		if (r < 0 && err)
			*err = b->err;
		*nsfd = b->nsfd;
	}
	last = let_go(b);
	pthread_mutex_unlock(&b->lock);
	if (last)
		free_build(b);
	return r;
}

/* The tree's checks and, for the namespace backend, its copy, made by the caller on the host's
 * view (the rooted half's helper sees only ROOT): a slave of the host's mounts, as the tree is
 * in a view built whole (rslave first). 0 with *copy, or -errno with err. */
static int copy_tree(enum chos_backend backend, const char *root, const char *tree, int *copy,
		     struct chos_error *err)
{
	int r;

	*copy = -1;
	if (backend == CHOS_BACKEND_KMOD)
		return chos_kmod_check_visible(root, tree, err);
	if ((r = chos_namespace_check_tree(tree, err)) < 0 ||
	    (r = chos_pivot_copy_tree(CHOS_NAMESPACE_BACKEND, root, tree, CHOS_BIND_SLAVE, err)) <
		    0)
		return r;
	*copy = r;
	return 0;
}

/* Finish for the rooted half: the tree's copy posted to the helper, then its answer. Errors in
 * a whole build's order: ROOT's (the helper's first half), then the tree's, then its bind. */
static int finish_rooted(struct chos_view_build *b, const char *tree, int *nsfd,
			 struct chos_error *err)
{
	struct chos_error tree_err = { 0 };
	int copy, t = copy_tree(b->backend, b->root, tree, &copy, &tree_err), r;
	bool last;

	pthread_mutex_lock(&b->lock);
	b->copy = copy;
	b->posted = true;
	pthread_cond_signal(&b->named);
	if (!b->done)
		chos_helper_unpin(b->thread);
	while (!b->done)
		pthread_cond_wait(&b->ended, &b->lock);
	r = b->code < 0 ? b->code : t;
	if (r < 0) {
		*err = b->code < 0 ? b->err : tree_err;
		close_answer(b);
	}
	*nsfd = b->nsfd;
	last = let_go(b);
	pthread_mutex_unlock(&b->lock);
	if (last)
		free_build(b);
	if (copy >= 0)
		close(copy);
	return r;
}

/* Names the tree; true when the helper took the rooted half, which needs the tree's copy. */
static bool name_tree(struct chos_view_build *b, const char *tree)
{
	bool rooted;

	pthread_mutex_lock(&b->lock);
	b->tree = tree;
	rooted = b->rooted;
	pthread_cond_signal(&b->named);
	pthread_mutex_unlock(&b->lock);
	return rooted;
}

int chos_view_finish(struct chos_view_build *b, struct chos_view *view, const char *tree,
		     struct chos_error *err)
{
	enum chos_backend backend = b->backend;
	const char *root = b->root;
	int nsfd, r;

	if (snprintf(view->tree, sizeof(view->tree), "%s", tree) >= (int)sizeof(view->tree)) {
		chos_view_abandon(b);
		return chos_fail(err, -ENAMETOOLONG, "view: tree path too long");
	}
	r = name_tree(b, view->tree) ? finish_rooted(b, view->tree, &nsfd, err)
				     : end(b, view->tree, &nsfd, err);
	if (r == -ESTALE) /* the tree expected was not the one decided: build this one */
		return chos_view_prepare(view, backend, root, tree, err);
	if (r < 0)
		return r;
	view->mntns = nsfd;
	view->backend = backend;
	return 0;
}

void chos_view_expect(struct chos_view_build *b, const char *tree)
{
	pthread_mutex_lock(&b->lock);
	if (!b->tree && !b->abandoned && !b->expected[0] &&
	    snprintf(b->expected, sizeof(b->expected), "%s", tree) >= (int)sizeof(b->expected))
		b->expected[0] = '\0'; /* too long to be a tree finish would accept */
	pthread_cond_signal(&b->named);
	pthread_mutex_unlock(&b->lock);
}

void chos_view_expect_none(struct chos_view_build *b)
{
	pthread_mutex_lock(&b->lock);
	b->unexpected = true;
	pthread_cond_signal(&b->named);
	pthread_mutex_unlock(&b->lock);
}

void chos_view_abandon(struct chos_view_build *b)
{
	int nsfd;

	if (b)
		(void)end(b, NULL, &nsfd, NULL);
}

enum chos_backend chos_view_build_backend(const struct chos_view_build *b)
{
	return b->backend;
}

int chos_view_prepare(struct chos_view *view, enum chos_backend backend, const char *root,
		      const char *tree, struct chos_error *err)
{
	struct chos_view_build *b;
	int r = chos_view_begin(&b, backend, root, err);

	return r < 0 ? r : chos_view_finish(b, view, tree, err);
}

int chos_view_enter(const struct chos_view *view, const char *home, struct chos_error *err)
{
	int r;

	if (view->mntns < 0)
		return chos_fail(err, -EBADF, "view: none prepared");
	/* setns(CLONE_NEWNS) refuses filesystem information (root, cwd) shared with another
	 * thread (EINVAL): a caller's own, or a helper of its session still ending (an ssh adopted
	 * into a job drops the policy its helper was loading). The calling thread takes its own
	 * first, as unshare(CLONE_NEWNS) does; alone, it has it already and nothing changes. */
	if (unshare(CLONE_FS) < 0)
		return chos_fail(err, -errno, "%s backend: unshare(CLONE_FS) for the view: %s",
				 chos_backend_name(view->backend), strerror(errno));
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
