/*
 * unlinked: a fork that finds no entry ready (the module loaded with pool_size=0, so every fork
 * does) leaves the child without a link, counted and never silently on its parent's tree nor on
 * the host's OS inside a session. With the link set to tree A, through LAYOUT (a /chos layout:
 * usr -> .chosfs/link/usr, chosfs mounted at .chosfs, /srv bound in so tree A resolves inside):
 * the parent reaches A's usr/bin; the child reads the link as "/", reaches the host's /usr/bin
 * from the host's root, and with LAYOUT as its root (as a session's processes have) gets ELOOP
 * for /usr/bin. Each such fork adds 1 to alloc_failures and no entry.
 * Usage: unlinked LAYOUT. Needs: module loaded with pool_size=0, TREE_A listed.
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"

/* The child's checks, as its exit status: 0 when all hold. */
static int child_checks(int layout)
{
	struct stat st;

	if (strcmp(chos_link(), "/"))
		return 2;
	/* From the host's root, the host view is the host's own tree. */
	if (fstatat(layout, "usr/bin/sh", &st, 0) || !S_ISREG(st.st_mode))
		return 3;
	if (fchdir(layout) || chroot("."))
		return 4;
	/* In a session's root, the OS directories lead back to themselves. */
	if (stat("/usr/bin", &st) == 0 || errno != ELOOP)
		return 5;
	return 0;
}

int main(int argc, char **argv)
{
	long failures = chos_stat("alloc_failures"), entries = chos_stat("entries");
	struct stat st;
	int layout, status;
	pid_t pid;

	CHECK(argc == 2, "usage: unlinked LAYOUT");
	layout = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	CHECK(layout >= 0, "open %s", argv[1]);
	CHECK(chos_set(TREE_A) == 0, "setchos A");
	CHECK(chos_stat("entries") == entries + 1, "one more entry: this process");
	CHECK(fstatat(layout, "usr/bin", &st, 0) == 0, "the parent reaches A's usr/bin");
	CHECK(fstatat(layout, "usr/bin/sh", &st, 0) == -1 && errno == ENOENT,
	      "A's usr/bin is A's, not the host's");
	OK("the parent resolves the layout to tree A");

	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(child_checks(layout));
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child: 2 link not /, 3 no host /usr/bin/sh from the host root, 4 chroot, 5 no "
	      "ELOOP in the layout root; status %#x",
	      status);
	OK("the child reads the link as /, sees the host's OS from the host's root, ELOOP from "
	   "the layout's");
	CHECK(chos_stat("alloc_failures") == failures + 1, "alloc_failures counted the fork");
	CHECK(chos_stat_settle("entries", entries + 1) == entries + 1, "no entry for the child");
	CHECK(strcmp(chos_link(), TREE_A) == 0, "the parent keeps A");
	CHECK(chos_write(CHOS_RESETCHOS, "1", 1) == 0, "resetchos");
	OK("alloc_failures %ld -> %ld, entries back to %ld", failures, failures + 1, entries);
	return 0;
}
