/* SPDX-License-Identifier: BSD-3-Clause
 * Helper threads (helper.h). Why the CPU: left to itself, the scheduler on these hosts starts a
 * new thread on its creator's CPU, where it ran its whole work before pthread_create returned
 * (measured in a login: 170 us, the other of 2 CPUs idle), so nothing ran beside the caller.
 * The helper may use any CPU the caller may but its current one; with no other, it shares it.
 * Pinned away, a helper queued behind a busy task on the other CPU would keep a waiting caller
 * waiting for a whole time slice (measured: p99 of a login 1 ms -> 2 to 5 ms), so the caller
 * unpins it before it waits, and the CPU its wait frees can take the helper. */
#include "common/helper.h"
#include <sched.h>
#include <signal.h>

static void elsewhere(pthread_attr_t *attr)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0 || sched_getaffinity(0, sizeof(set), &set) < 0 || !CPU_ISSET(cpu, &set))
		return;
	CPU_CLR(cpu, &set);
	if (CPU_COUNT(&set) > 0)
		(void)pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

int chos_helper_start(void *(*fn)(void *), void *arg, pthread_t *thread)
{
	pthread_attr_t attr;
	sigset_t all, saved;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	elsewhere(&attr);
	/* The thread inherits the mask: all blocked while it lives, the caller's back after. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = pthread_create(thread, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_attr_destroy(&attr);
	return r;
}

void chos_helper_unpin(pthread_t thread)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		(void)pthread_setaffinity_np(thread, sizeof(set), &set);
}
