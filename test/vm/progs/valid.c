/*
 * valid: what root may list, and withdrawing a tree.
 *   A path is listed only when it resolves to a directory (ENOENT, ENOTDIR otherwise) that is
 *   root-owned with no group- or world-writable directory from it up to / (EPERM otherwise), and
 *   it is listed as it resolved: through a symlink, the target's canonical path.
 *   "-PATH" takes one listed path out (ENOENT when it is not listed): a process whose link it is
 *   sees "/" from then on, by readlink and by walking through the link; stats counts the
 *   withdrawn link objects until the last holder drops them; setchos to it is ENOENT.
 * Needs: module loaded, /proc/chos mounted, TREE_A and TREE_B listed (chos_vm_setup).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"

static const char *read_valid(void)
{
	static char buf[8192];
	int fd = open(CHOS_VALID, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	CHECK(fd >= 0, "open valid");
	n = read(fd, buf, sizeof(buf) - 1);
	CHECK(n >= 0, "read valid");
	buf[n] = '\0';
	close(fd);
	return buf;
}

static void make_dir(const char *path, mode_t mode, uid_t owner)
{
	CHECK((mkdir(path, mode) == 0 || errno == EEXIST) && chmod(path, mode) == 0 &&
		      chown(path, owner, owner) == 0,
	      "mkdir %s", path);
}

static void refused(const char *path, int err, const char *what)
{
	char before[8192];
	int got;

	strcpy(before, read_valid());
	got = chos_write(CHOS_VALID, path, strlen(path));

	CHECK(got == err, "%s: got %s, want %s", what, strerror(got), strerror(err));
	CHECK(!strcmp(read_valid(), before), "%s changed valid", what);
}

static void check_trust(void)
{
	make_dir("/srv/untrusted", 0755, 0);
	make_dir("/srv/untrusted/user", 0755, 65534);
	make_dir("/srv/untrusted/group-writable", 0775, 0);
	make_dir("/srv/untrusted/group-writable/tree", 0755, 0);
	make_dir("/tmp/chos-tree", 0755, 0);
	CHECK(close(open("/srv/untrusted/file", O_CREAT | O_WRONLY | O_CLOEXEC, 0644)) == 0,
	      "file");
	refused("/srv/no-such-tree", ENOENT, "a path that does not exist");
	refused("/srv/untrusted/file", ENOTDIR, "a regular file");
	refused("/srv/untrusted/user", EPERM, "a user-owned directory");
	refused("/srv/untrusted/group-writable/tree", EPERM, "a tree below a group-writable one");
	refused("/tmp/chos-tree", EPERM, "a tree below /tmp (world-writable)");
	OK("valid refuses what is missing (ENOENT), not a directory (ENOTDIR), untrusted (EPERM)");

	CHECK(symlink(TREE_A, "/srv/alias-a") == 0 || errno == EEXIST, "symlink");
	CHECK(chos_write(CHOS_VALID, "-" TREE_A, strlen(TREE_A) + 1) == 0, "withdraw A");
	CHECK(chos_write(CHOS_VALID, "/srv/alias-a", 12) == 0, "list A through a symlink");
	CHECK(!strcmp(read_valid(), TREE_B "\n" TREE_A "\n"), "listed as its target: %s",
	      read_valid());
	CHECK(chos_set("/srv/alias-a") == ENOENT, "setchos by the symlink's name");
	OK("a path through a symlink is listed as the canonical path it resolved to");
}

/* A child on tree B that reports its view when told to (one byte on `go`), then exits. */
static pid_t holder(int go[2], int report[2])
{
	pid_t pid;

	CHECK(pipe(go) == 0 && pipe(report) == 0, "pipes");
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		char c, seen[2] = { 0, 0 };

		if (chos_set(TREE_B) || read(go[0], &c, 1) != 1)
			_exit(1);
		seen[0] = !strcmp(chos_link(), "/") ? '/' : '?';
		seen[1] =
			access("/proc/chos/link/etc/os-release", F_OK) == 0 &&
					strcmp(first_line("/proc/chos/link/etc/os-release"), "ID=b")
				? 'h'
				: '?';
		_exit(write(report[1], seen, 2) == 2 ? 0 : 1);
	}
	return pid;
}

static void check_withdraw(void)
{
	int go[2], report[2], status;
	char seen[2];
	pid_t pid = holder(go, report);

	CHECK(chos_stat_settle("entries", 1) == 1, "the holder's entry");
	CHECK(chos_write(CHOS_VALID, "-" TREE_B "\n", strlen(TREE_B) + 2) == 0, "withdraw B");
	CHECK(chos_stat("withdrawn") == 1, "stats counts B withdrawn: %ld", chos_stat("withdrawn"));
	CHECK(strstr(read_valid(), TREE_B) == NULL, "B is no longer listed: %s", read_valid());
	CHECK(chos_set(TREE_B) == ENOENT, "setchos B after its withdrawal");
	CHECK(chos_write(CHOS_VALID, "-" TREE_B, strlen(TREE_B) + 1) == ENOENT, "withdraw B again");
	CHECK(write(go[1], "x", 1) == 1 && read(report[0], seen, 2) == 2, "holder's report");
	CHECK(seen[0] == '/', "the holder's link still names B");
	CHECK(seen[1] == 'h', "the holder still walks into B");
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "holder");
	CHECK(chos_stat_settle("withdrawn", 0) == 0,
	      "the withdrawn link object goes with its holder");
	OK("-PATH withdraws one tree: its holders see the host view, stats counts it until they "
	   "go");
	CHECK(chos_write(CHOS_VALID, TREE_B, strlen(TREE_B)) == 0, "re-list B");
	CHECK(chos_set(TREE_B) == 0 && !strcmp(chos_link(), TREE_B), "setchos B when re-listed");
	CHECK(chos_write(CHOS_RESETCHOS, "x", 1) == 0, "reset");
}

int main(void)
{
	check_trust();
	check_withdraw();
	CHECK(chos_write(CHOS_VALID, "-", 1) == 0 && chos_write(CHOS_VALID, TREE_A, 12) == 0 &&
		      chos_write(CHOS_VALID, TREE_B, 12) == 0,
	      "valid back to A and B");
	return 0;
}
