/* SPDX-License-Identifier: BSD-3-Clause
 * A view prepared once, entered by many (view.h). The helper is a plain fork of the caller: it
 * makes the view with the backend's own steps (namespace.c, kmod_backend.c, through pivot.c),
 * sends the outcome (the code and the error's text) over a socket pair, and waits there until
 * the caller has opened /proc/HELPER/ns/mnt: the namespace must still have a member when it is
 * opened. It then exits on the socket's EOF, so it dies with the caller too. */
#include "apply/view.h"
#include "apply/kmod_backend.h"
#include "apply/namespace.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the helper reports: its step's code and, when it failed, the error. */
struct helper_report {
	int code;
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

static void helper(int sock, enum chos_backend backend, const char *root, const char *tree)
{
	struct helper_report rep = { 0 };
	char eof;

	rep.code = build(backend, root, tree, &rep.err);
	if (send(sock, &rep, sizeof(rep), MSG_NOSIGNAL) == (ssize_t)sizeof(rep))
		while (read(sock, &eof, 1) < 0 && errno == EINTR)
			; /* until the caller has the namespace and closes its end */
	_exit(0);
}

static ssize_t recv_retry(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

int chos_view_prepare(struct chos_view *view, enum chos_backend backend, const char *root,
		      const char *tree, struct chos_error *err)
{
	struct helper_report rep = { 0 };
	char ns[64]; /* "/proc/" and a pid */
	int sv[2], r = 0;
	pid_t pid;

	if (backend != CHOS_BACKEND_NAMESPACE && backend != CHOS_BACKEND_KMOD)
		return chos_fail(err, -EINVAL, "view: backend %s enters nothing",
				 chos_backend_name(backend));
	if (snprintf(view->tree, sizeof(view->tree), "%s", tree) >= (int)sizeof(view->tree))
		return chos_fail(err, -ENAMETOOLONG, "view: tree path too long");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return chos_fail(err, -errno, "view: socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0) {
		r = chos_fail(err, -errno, "view: fork: %s", strerror(errno));
		close(sv[0]), close(sv[1]);
		return r;
	}
	if (pid == 0) {
		close(sv[0]);
		helper(sv[1], backend, root, tree);
	}
	close(sv[1]);
	if (recv_retry(sv[0], &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		r = chos_fail(err, -EIO, "view: the helper for %s ended without a report", tree);
	else if (rep.code < 0)
		r = chos_fail(err, rep.code, "%s", rep.err.message);
	if (r == 0) {
		snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)pid);
		view->mntns = open(ns, O_RDONLY | O_CLOEXEC);
		if (view->mntns < 0)
			r = chos_fail(err, -errno, "view: open %s: %s", ns, strerror(errno));
	}
	close(sv[0]);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	view->backend = r == 0 ? backend : CHOS_BACKEND_NONE;
	return r;
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
