/*
 * storm: a fork storm with a link set. Forks N short-lived children (default 20000), each
 * exiting at once, reaping as it goes; then waits for the live entries to come back to where
 * they were (chos_stat_settle), resets, and requires the entries of before the storm and no
 * allocation failures. Prints forks per second.
 * Usage: storm [N [BEFORE]]   BEFORE: the live entries of other tasks (default 0), awaited
 * first, since tasks of earlier tests may still be waiting to be freed. TREE_A listed.
 */
#include <sys/wait.h>
#include <time.h>

#include "check.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000, entries;
	long before = argc > 2 ? strtol(argv[2], NULL, 10) : 0;
	long failures = chos_stat("alloc_failures");
	double start;
	int status;

	CHECK(strcmp(chos_link(), TREE_A), "starts without tree A");
	entries = chos_stat_settle("entries", before);
	CHECK(entries == before, "entries before the storm: %ld, want %ld", entries, before);
	CHECK(chos_set(TREE_A) == 0, "setchos A");
	CHECK(chos_stat("entries") == before + 1, "one more entry: this process");
	start = now();
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		CHECK(pid >= 0, "fork %ld", i);
		if (pid == 0)
			_exit(0);
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	}
	printf("storm: %ld forks in %.1f s (%.0f/s)\n", n, now() - start, n / (now() - start));
	entries = chos_stat_settle("entries", before + 1);
	CHECK(entries == before + 1, "entries after the storm: %ld, want %ld", entries, before + 1);
	OK("%ld children came and went: live entries back to %ld (with this process)", n,
	   before + 1);
	CHECK(chos_write(CHOS_RESETCHOS, "1", 1) == 0, "resetchos");
	CHECK(chos_stat_settle("entries", before) == before, "entries after reset");
	CHECK(chos_stat("alloc_failures") == failures, "allocation failures during the storm");
	OK("after resetchos: %ld live entries as before, no allocation failures", before);
	return 0;
}
