/* SPDX-License-Identifier: BSD-3-Clause
 * A helper thread: work a login or a Slurm step can do beside its caller (the view's mounts,
 * the policy's load) while the caller gathers what the rest needs. */
#pragma once

#include <pthread.h>

/* Starts FN(ARG) on a detached thread with every signal blocked (none of the caller's handlers
 * ever runs on it), on a CPU other than the caller's when the caller may use one, and sets
 * THREAD. Returns 0, or the pthread error (positive) when no thread could start: the caller then
 * does the work itself. */
int chos_helper_start(void *(*fn)(void *), void *arg, pthread_t *thread);
/* Before the caller waits for a helper: the helper may run on any CPU the caller may, the
 * caller's own too, which its wait leaves idle. Only while the helper is known to be running
 * (it has not yet published its answer, under the lock the answer is published with). */
void chos_helper_unpin(pthread_t thread);
