/* SPDX-License-Identifier: BSD-3-Clause
 * chos-bench-pam CONFDIR SERVICE USER COUNT: the driver of `npm run bench:login`. Opens and
 * closes COUNT PAM sessions for USER through SERVICE, read from CONFDIR (pam_start_confdir, so
 * no file in /etc/pam.d is needed), and prints one line per session: the microseconds that
 * pam_open_session plus pam_close_session took.
 *
 * Each session runs in a fresh child, as sshd runs each login in its own process: pam_chos moves
 * its caller into a mount namespace and a new root, which the next session must not start from.
 * Before the timed part the child looks the user's groups up, as sshd and su have done by the
 * time they open a session (see lookup_groups). The fork is outside the timed part too. Exit
 * status 1 when any session failed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Nothing in a session stack should ask the user anything; if a module does, fail it. */
static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp,
			   void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What the callers have done before pam_open_session: the user's groups looked up through NSS
 * (sshd's initgroups when it reads authorized_keys as the user, su's before pam_setcred). This
 * loads the modules of nsswitch.conf's `group:` line (libnss_systemd on Debian), which a process
 * that never asked would load inside the first PAM module that does, charged to that module.
 * Done for both stacks alike. 64 groups: only the lookup matters here, not the list. */
static void lookup_groups(const char *user)
{
	struct passwd *pw = getpwnam(user);
	gid_t groups[64];
	int n = 64;

	if (pw)
		(void)getgrouplist(user, pw->pw_gid, groups, &n);
}

/* One session in the calling (child) process; writes its duration in ns to fd. */
static int one_session(const char *confdir, const char *service, const char *user, int fd)
{
	const struct pam_conv conv = { no_conversation, NULL };
	pam_handle_t *pamh = NULL;
	int64_t t0, t1;
	int r = pam_start_confdir(service, user, &conv, confdir, &pamh);

	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, r));
		return 1;
	}
	lookup_groups(user);
	t0 = now_ns();
	r = pam_open_session(pamh, 0);
	if (r == PAM_SUCCESS)
		r = pam_close_session(pamh, 0);
	t1 = now_ns();
	if (r != PAM_SUCCESS)
		fprintf(stderr, "session: %s\n", pam_strerror(pamh, r));
	pam_end(pamh, r);
	if (r == PAM_SUCCESS &&
	    write(fd, &(int64_t){ t1 - t0 }, sizeof(int64_t)) != sizeof(int64_t))
		return 1;
	return r == PAM_SUCCESS ? 0 : 1;
}

int main(int argc, char **argv)
{
	int fds[2], failed = 0;
	long count;
	char *end;

	if (argc != 5 || (count = strtol(argv[4], &end, 10)) <= 0 || *end) {
		fprintf(stderr, "usage: %s CONFDIR SERVICE USER COUNT\n", argv[0]);
		return 2;
	}
	for (long i = 0; i < count; i++) {
		int64_t ns;
		int status;
		pid_t pid;

		if (pipe2(fds, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
			perror("chos-bench-pam");
			return 1;
		}
		if (pid == 0) {
			close(fds[0]);
			_exit(one_session(argv[1], argv[2], argv[3], fds[1]));
		}
		close(fds[1]);
		if (read(fds[0], &ns, sizeof(ns)) == sizeof(ns))
			printf("%.1f\n", (double)ns / 1000.0);
		close(fds[0]);
		if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed = 1;
	}
	return failed;
}
