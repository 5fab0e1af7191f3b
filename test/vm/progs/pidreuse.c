/*
 * pidreuse: a reused pid never hands a stale link to a new process. A child sets tree A and
 * exits; this process (on the host view) then forks children until one gets the same pid
 * again (the script lowers kernel.pid_max to 1024 so that happens within a thousand forks), and
 * every child, the one with the recycled pid included, must see "/".
 */
#include <sys/wait.h>

#include "check.h"

int main(void)
{
	int pipefd[2], status;
	pid_t first, pid;
	long forks = 0;
	char verdict;

	CHECK(!strcmp(chos_link(), "/"), "runs on the host view");
	/* After wrapping, pids restart at 300 (RESERVED_PIDS): the recycled pid must be above. */
	do {
		first = fork();
		CHECK(first >= 0, "fork");
		if (first == 0)
			_exit(0);
		CHECK(waitpid(first, &status, 0) == first, "waitpid");
	} while (first <= 300);
	first = fork();
	CHECK(first >= 0, "fork");
	if (first == 0)
		_exit(chos_set(TREE_A) == 0 && !strcmp(chos_link(), TREE_A) ? 0 : 1);
	CHECK(waitpid(first, &status, 0) == first && WIFEXITED(status) && !WEXITSTATUS(status),
	      "first child set tree A");

	CHECK(pipe(pipefd) == 0, "pipe");
	do {
		pid = fork();
		CHECK(pid >= 0, "fork");
		if (pid == 0) {
			verdict = strcmp(chos_link(), "/") ? 'n' : 'y';
			_exit(write(pipefd[1], &verdict, 1) == 1 ? 0 : 1);
		}
		CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
		      "child");
		CHECK(read(pipefd[0], &verdict, 1) == 1, "verdict");
		CHECK(verdict == 'y', "child %d (fork %ld) inherited a stale link", pid, forks);
		forks++;
	} while (pid != first && forks < 200000);
	CHECK(pid == first, "pid %d never came back in %ld forks", first, forks);
	OK("pid %d reused after %ld forks: the new process sees /", first, forks);
	return 0;
}
