/*
 * isolation: a child's setchos changes the child only. The parent on tree A forks a child that
 * switches to B; the parent still sees A, before and after the child exits. A child's resetchos
 * leaves the parent on A too. A thread is not a child: the link is the process's, so a thread's
 * setchos moves every thread of it.
 * Needs: TREE_A and TREE_B listed.
 */
#include <pthread.h>
#include <sys/wait.h>

#include "check.h"

static void run_child(int (*body)(void), const char *what)
{
	int status;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(body());
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "%s", what);
}

static int switch_to_b(void)
{
	return chos_set(TREE_B) == 0 && !strcmp(chos_link(), TREE_B) ? 0 : 1;
}

static int reset(void)
{
	return chos_write(CHOS_RESETCHOS, "\n", 1) == 0 && !strcmp(chos_link(), "/") ? 0 : 1;
}

static void *thread_switch(void *arg)
{
	(void)arg;
	return (void *)(long)switch_to_b();
}

int main(void)
{
	pthread_t thread;
	void *result;

	CHECK(chos_set(TREE_A) == 0, "setchos A");
	run_child(switch_to_b, "child switching to B");
	CHECK(!strcmp(chos_link(), TREE_A), "parent moved by its child: %s", chos_link());
	OK("a child's setchos leaves its parent alone");
	run_child(reset, "child resetting");
	CHECK(!strcmp(chos_link(), TREE_A), "parent moved by its child's reset");
	OK("a child's resetchos leaves its parent alone");
	CHECK(pthread_create(&thread, NULL, thread_switch, NULL) == 0, "thread");
	CHECK(pthread_join(thread, &result) == 0 && result == NULL, "thread switching to B");
	CHECK(!strcmp(chos_link(), TREE_B), "thread's setchos left the main thread on %s",
	      chos_link());
	OK("a thread's setchos moves its whole process");
	CHECK(chos_set("/") == 0 && !strcmp(chos_link(), "/"), "setchos / returns to the host");
	OK("setchos / returns to the host view");
	return 0;
}
