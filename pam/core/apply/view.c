/* SPDX-License-Identifier: BSD-3-Clause
 * A view prepared once, entered by many (view.h). The helper is a plain fork of the caller: it
 * makes the view with the backend's own steps (namespace.c, kmod_backend.c, through pivot.c),
 * opens its own mount namespace (/proc/self/ns/mnt) and sends the outcome (the code and the
 * error's text) with that descriptor (SCM_RIGHTS) over a socket pair, then exits: the
 * descriptor keeps the namespace alive. Never /proc/HELPER_PID from the caller: slurmstepd may
 * run in a PID namespace whose pids are not the ones /proc shows, and that path would name
 * another process's namespace; /proc/self is always the process that opens it. */
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

/* The helper's report: the code and error, and its namespace's descriptor when it worked. */
static void send_report(int sock, const struct helper_report *rep, int nsfd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)rep, .iov_len = sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (nsfd >= 0) {
		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &nsfd, sizeof(int));
	}
	while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static void helper(int sock, enum chos_backend backend, const char *root, const char *tree)
{
	struct helper_report rep = { 0 };
	int nsfd = -1;

	rep.code = build(backend, root, tree, &rep.err);
	if (rep.code == 0) {
		nsfd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			rep.code = chos_fail(&rep.err, -errno, "view: open /proc/self/ns/mnt: %s",
					     strerror(errno));
	}
	send_report(sock, &rep, nsfd);
	_exit(0);
}

/* The helper's report and, when it sent one, the descriptor (*nsfd, else -1). */
static ssize_t recv_report(int sock, struct helper_report *rep, int *nsfd)
{
	char control[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control,
			      .msg_controllen = sizeof(control) };
	struct cmsghdr *cmsg;
	ssize_t n;

	*nsfd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	for (cmsg = CMSG_FIRSTHDR(&msg); n >= 0 && cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
		    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(nsfd, CMSG_DATA(cmsg), sizeof(int));
	return n;
}

int chos_view_prepare(struct chos_view *view, enum chos_backend backend, const char *root,
		      const char *tree, struct chos_error *err)
{
	struct helper_report rep = { 0 };
	int sv[2], nsfd = -1, r = 0;
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
	if (recv_report(sv[0], &rep, &nsfd) != (ssize_t)sizeof(rep))
		r = chos_fail(err, -EIO, "view: the helper for %s ended without a report", tree);
	else if (rep.code < 0)
		r = chos_fail(err, rep.code, "%s", rep.err.message);
	else if (nsfd < 0)
		r = chos_fail(err, -EIO, "view: the helper for %s sent no namespace", tree);
	if (r == 0)
		view->mntns = nsfd, nsfd = -1;
	if (nsfd >= 0)
		close(nsfd);
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
