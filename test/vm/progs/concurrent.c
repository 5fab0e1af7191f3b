/*
 * concurrent: two processes resolve the same /proc/chos/link differently at the same time.
 * Two children, one on tree A and one on tree B, each readlink the link and read os-release
 * through it in a tight loop for a while, running alongside each other; every single read must
 * give the reader's own tree.
 * Needs: TREE_A and TREE_B listed (lib/vm.sh chos_vm_setup).
 */
#include <sys/wait.h>

#include "check.h"

#define ROUNDS 20000

static int resolve_loop(const char *tree, const char *id)
{
	if (chos_set(tree))
		return 2;
	for (int i = 0; i < ROUNDS; i++) {
		if (strcmp(chos_link(), tree))
			return 3;
		if (i % 16 == 0 && strcmp(first_line("/proc/chos/link/etc/os-release"), id))
			return 4;
	}
	return 0;
}

int main(void)
{
	const char *trees[2] = { TREE_A, TREE_B }, *ids[2] = { "ID=a", "ID=b" };
	pid_t pids[2];
	int status;

	for (int i = 0; i < 2; i++) {
		pids[i] = fork();
		CHECK(pids[i] >= 0, "fork");
		if (pids[i] == 0)
			_exit(resolve_loop(trees[i], ids[i]));
	}
	for (int i = 0; i < 2; i++) {
		CHECK(waitpid(pids[i], &status, 0) == pids[i], "waitpid");
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "reader on %s saw another tree (status %d)", trees[i], WEXITSTATUS(status));
	}
	CHECK(!strcmp(chos_link(), "/"), "the parent stayed on the host view");
	OK("two processes resolved the link to their own trees %d times each, concurrently",
	   ROUNDS);
	return 0;
}
