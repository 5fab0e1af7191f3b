/*
 * burst: forks faster than one at a time. With the link set to tree A, forks N children
 * (default 2000) without waiting for any: each checks that it reads the link as A and then
 * blocks on a pipe, so all N hold an entry at once, far more than a CPU's pool (pool_size)
 * holds; the pool's refill has to keep up while the parent forks on. Requires every child to
 * have seen A, entries to reach N + 1 (the children and this process) with no allocation
 * failure, and, once they are released and reaped, the entries of before.
 * Usage: burst [N]. Needs: module loaded, TREE_A listed, no other task holding an entry.
 */
#include <sys/wait.h>

#include "check.h"

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000, bad = 0;
	long failures = chos_stat("alloc_failures");
	int gate[2], status;

	CHECK(chos_stat_settle("entries", 0) == 0, "no entries before the burst");
	CHECK(pipe(gate) == 0, "pipe");
	CHECK(chos_set(TREE_A) == 0, "setchos A");
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		char byte;

		CHECK(pid >= 0, "fork %ld", i);
		if (pid == 0) {
			int sees_a = !strcmp(chos_link(), TREE_A);

			close(gate[1]);
			/* Held until the parent closes its end: read returns 0. */
			_exit(read(gate[0], &byte, 1) == 0 && sees_a ? 0 : 1);
		}
	}
	CHECK(chos_stat("entries") == n + 1, "entries with every child alive: %ld, want %ld",
	      chos_stat("entries"), n + 1);
	CHECK(chos_stat("alloc_failures") == failures, "allocation failures during the burst: %ld",
	      chos_stat("alloc_failures") - failures);
	OK("%ld children alive at once, each with an entry; no allocation failure", n);
	close(gate[1]);
	for (long i = 0; i < n; i++) {
		CHECK(wait(&status) > 0, "wait");
		bad += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK(bad == 0, "%ld children did not see tree A", bad);
	CHECK(chos_write(CHOS_RESETCHOS, "1", 1) == 0, "resetchos");
	CHECK(chos_stat_settle("entries", 0) == 0, "entries after the burst");
	OK("all %ld saw tree A; entries back to 0", n);
	return 0;
}
