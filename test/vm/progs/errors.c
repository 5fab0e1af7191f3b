/*
 * errors: every bad write gets its defined error and changes nothing.
 *   setchos of an unlisted path (or a listed one spelled differently): ENOENT
 *   valid opened or written by anyone but root, even through root's descriptor: EPERM
 *   malformed writes (empty, relative, two lines, embedded NUL, "/" into valid, non-zero
 *   offset) and oversized ones (more than 1024 bytes): EINVAL
 *   a 257th valid path: ENOSPC
 * After each, the caller's link, the valid list and the stats are what they were.
 * Runs as root with TREE_A and TREE_B listed; forks unprivileged children (uid 65534).
 */
#include <sys/wait.h>

#include <sys/stat.h>

#include "check.h"

static char before_valid[8192];

static const char *read_valid(void)
{
	static char buf[8192];
	int fd = open(CHOS_VALID, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	CHECK(fd >= 0, "open valid");
	while ((n = read(fd, buf + total, sizeof(buf) - 1 - total)) > 0)
		total += n;
	close(fd);
	buf[total] = '\0';
	return buf;
}

/* Nothing moved: link still A, valid as at the start, no link objects gained or lost. */
static void unchanged(const char *what, long links)
{
	CHECK(!strcmp(chos_link(), TREE_A), "%s moved the link to %s", what, chos_link());
	CHECK(!strcmp(read_valid(), before_valid), "%s changed valid: %s", what, read_valid());
	CHECK(chos_stat("links") == links, "%s changed the link objects", what);
}

static void expect(const char *file, const char *data, size_t len, int err, const char *what)
{
	long links = chos_stat("links");
	int got = chos_write(file, data, len);

	CHECK(got == err, "%s: got %s, want %s", what, strerror(got), strerror(err));
	unchanged(what, links);
}

/* In an unprivileged child: status 0 when f() holds. */
static void as_nobody(int (*f)(int), int arg, const char *what)
{
	int status;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(99);
		_exit(f(arg));
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && !WEXITSTATUS(status),
	      "%s (status %d)", what, WEXITSTATUS(status));
}

static int nobody_open_valid(int flags)
{
	return open(CHOS_VALID, flags) < 0 && errno == EPERM ? 0 : 1;
}

static int nobody_write_fd(int fd)
{
	return write(fd, "/srv/x\n", 7) < 0 && errno == EPERM ? 0 : 1;
}

static int nobody_setchos(int unused)
{
	(void)unused;
	return chos_set(TREE_B) == 0 && !strcmp(chos_link(), TREE_B) ? 0 : 1;
}

int main(void)
{
	static char big[2048];
	long links;
	int fd;

	CHECK(chos_set(TREE_A) == 0, "setchos A");
	strcpy(before_valid, read_valid());
	CHECK(!strcmp(before_valid, TREE_A "\n" TREE_B "\n"), "valid lists A and B: %s",
	      before_valid);

	expect(CHOS_SETCHOS, "/srv/trees/c", 12, ENOENT, "setchos unlisted");
	expect(CHOS_SETCHOS, TREE_B "/", strlen(TREE_B) + 1, ENOENT, "setchos B with a slash");
	expect(CHOS_SETCHOS, "/srv/trees/../trees/b", 21, ENOENT, "setchos B spelled with ..");
	OK("setchos of an unlisted path: ENOENT, nothing changes");

	as_nobody(nobody_open_valid, O_WRONLY, "nobody opening valid for writing");
	as_nobody(nobody_open_valid, O_RDONLY, "nobody opening valid for reading");
	fd = open(CHOS_VALID, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0, "root opens valid");
	as_nobody(nobody_write_fd, fd, "nobody writing through root's descriptor");
	close(fd);
	unchanged("nobody's valid writes", chos_stat("links"));
	OK("valid refuses non-root openers and writers: EPERM");
	as_nobody(nobody_setchos, 0, "nobody switching to a listed tree");
	OK("setchos needs no privilege");

	const struct {
		const char *file, *data;
		size_t len;
		const char *what;
	} bad[] = {
		{ CHOS_SETCHOS, "", 0, "setchos empty" },
		{ CHOS_SETCHOS, "\n", 1, "setchos newline only" },
		{ CHOS_SETCHOS, "srv/trees/a", 11, "setchos relative" },
		{ CHOS_SETCHOS, TREE_A "\n" TREE_B, 2 * strlen(TREE_A) + 1, "setchos two lines" },
		{ CHOS_SETCHOS, TREE_A "\0x", strlen(TREE_A) + 2, "setchos embedded NUL" },
		{ CHOS_SETCHOS, TREE_A "\n\n", strlen(TREE_A) + 2, "setchos two newlines" },
		{ CHOS_VALID, "/", 1, "valid /" },
		{ CHOS_VALID, "/\n", 2, "valid / with newline" },
		{ CHOS_VALID, "", 0, "valid empty" },
		{ CHOS_VALID, "srv/x", 5, "valid relative" },
		{ CHOS_VALID, "/srv/x\n/srv/y\n", 14, "valid two lines" },
		{ CHOS_VALID, "/srv/x\0y", 8, "valid embedded NUL" },
		{ CHOS_VALID, "--", 2, "valid --" },
		{ CHOS_VALID, "-\0x", 3, "valid - with a NUL and more" },
		{ CHOS_VALID, "-\n\n", 3, "valid - with two newlines" },
		{ CHOS_RESETCHOS, "", 0, "resetchos empty" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect(bad[i].file, bad[i].data, bad[i].len, EINVAL, bad[i].what);
	OK("malformed writes: EINVAL, nothing changes");

	/* 1024 bytes: a 1023-byte path and its newline is the largest write: well formed. */
	memset(big, 'x', sizeof(big));
	big[0] = '/';
	big[1023] = '\n';
	expect(CHOS_SETCHOS, big, 1024, ENOENT, "setchos of a maximal unlisted path");
	expect(CHOS_SETCHOS, big, 1025, EINVAL, "setchos of 1025 bytes");
	big[1023] = 'x';
	expect(CHOS_SETCHOS, big, 1024, EINVAL, "setchos of a 1024-byte path");
	expect(CHOS_SETCHOS, big, sizeof(big), EINVAL, "setchos of 2048 bytes");
	expect(CHOS_VALID, big, 1024, EINVAL, "valid of a 1024-byte path");
	expect(CHOS_VALID, big, sizeof(big), EINVAL, "valid of 2048 bytes");
	expect(CHOS_RESETCHOS, big, 1025, EINVAL, "resetchos of 1025 bytes");
	OK("oversized writes: EINVAL, nothing changes");

	fd = open(CHOS_SETCHOS, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0 && pwrite(fd, TREE_B, strlen(TREE_B), 1) < 0 && errno == EINVAL,
	      "setchos at offset 1");
	close(fd);
	unchanged("setchos at offset 1", chos_stat("links"));
	OK("writes at a non-zero offset: EINVAL");

	/* The list's capacity: 256 paths, then ENOSPC; clearing frees every one of them. */
	links = chos_stat("links");
	CHECK(mkdir("/srv/fill", 0755) == 0 || errno == EEXIST, "mkdir /srv/fill");
	for (int i = 2; i <= 256; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/srv/fill/%d", i);
		CHECK(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s", path);
		if (i < 256)
			CHECK(chos_write(CHOS_VALID, path, strlen(path)) == 0, "valid add %s",
			      path);
	}
	CHECK(chos_write(CHOS_VALID, "/srv/fill/256", 13) == ENOSPC, "257th valid path");
	CHECK(chos_write(CHOS_VALID, TREE_A, strlen(TREE_A)) == 0, "re-adding a listed path");
	CHECK(chos_stat("links") == links + 254, "254 new link objects");
	CHECK(chos_write(CHOS_VALID, "-\n", 2) == 0, "clear valid");
	CHECK(!strcmp(read_valid(), ""), "valid empty after -");
	CHECK(!strcmp(chos_link(), TREE_A), "clearing valid keeps the caller's link");
	/* The unprivileged child's link to B went when it exited. */
	links = chos_stat_settle("links", 1);
	CHECK(links == 1, "only the caller's link object is left: %ld", links);
	CHECK(chos_set(TREE_B) == ENOENT, "setchos after clearing");
	CHECK(chos_write(CHOS_VALID, TREE_A "\n", strlen(TREE_A) + 1) == 0, "re-add A");
	CHECK(chos_write(CHOS_VALID, TREE_B "\n", strlen(TREE_B) + 1) == 0, "re-add B");
	CHECK(!strcmp(read_valid(), before_valid), "valid restored");
	OK("valid holds 256 paths (ENOSPC beyond); - clears it and frees them");
	CHECK(chos_write(CHOS_RESETCHOS, "x", 1) == 0, "reset");
	return 0;
}
