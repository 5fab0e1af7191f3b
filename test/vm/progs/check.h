/*
 * Shared by the in-VM test programs: assertions that name the failing check and exit 1, and
 * the few /proc/chos operations every test uses. Each program asserts one behaviour and prints
 * "ok: <what>" lines as it goes, so a failure's output says what had already been proven.
 */
#ifndef CHOS_VM_CHECK_H
#define CHOS_VM_CHECK_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHOS_LINK "/proc/chos/link"
#define CHOS_SETCHOS "/proc/chos/setchos"
#define CHOS_RESETCHOS "/proc/chos/resetchos"
#define CHOS_VALID "/proc/chos/valid"
#define CHOS_STATS "/proc/chos/stats"

/* The trees lib/vm.sh lays out and lists: each has etc/os-release with ID=<name>. */
#define TREE_A "/srv/trees/a"
#define TREE_B "/srv/trees/b"

#define CHECK(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                   \
			fprintf(stderr, " (errno %d %s)\n", errno, strerror(errno));    \
			exit(1);                                                        \
		}                                                                       \
	} while (0)

#define OK(...)                             \
	do {                                \
		printf("ok: " __VA_ARGS__); \
		printf("\n");               \
		fflush(stdout);             \
	} while (0)

/* The caller's link target, in a buffer of the calling thread's: inherit.c's threads call it
 * (and first_line) at once, and with one shared buffer a thread's check failed when another
 * reset it mid-compare (seen on trixie-backports). */
static inline const char *chos_link(void)
{
	static __thread char buf[PATH_MAX];
	ssize_t n = readlink(CHOS_LINK, buf, sizeof(buf) - 1);

	CHECK(n > 0, "readlink " CHOS_LINK);
	buf[n] = '\0';
	return buf;
}

/* Writes len bytes of data to file in one write; returns 0 or the errno. */
static inline int chos_write(const char *file, const char *data, size_t len)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return errno;
	if (write(fd, data, len) != (ssize_t)len)
		err = errno ? errno : EIO;
	close(fd);
	return err;
}

static inline int chos_set(const char *path)
{
	return chos_write(CHOS_SETCHOS, path, strlen(path));
}

/* The first line of path, in a static buffer ("" when unreadable). */
static inline const char *first_line(const char *path)
{
	static __thread char buf[256]; /* per thread, as chos_link's */
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* A value from /proc/chos/stats ("entries", "links", "alloc_failures"); -1 if absent. */
static inline long chos_stat(const char *name)
{
	char line[128];
	long value = -1;
	FILE *f = fopen(CHOS_STATS, "re");

	CHECK(f, "open " CHOS_STATS);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(name);

		if (!strncmp(line, name, n) && line[n] == ' ')
			value = strtol(line + n + 1, NULL, 10);
	}
	fclose(f);
	return value;
}

/*
 * Polls a stats value until it equals want (up to 10 s) and returns the last value read. A dead
 * task's entry goes when its task_struct is freed, an RCU grace period after it was reaped.
 */
static inline long chos_stat_settle(const char *name, long want)
{
	long value = chos_stat(name);

	for (int i = 0; i < 1000 && value != want; i++) {
		usleep(10000);
		value = chos_stat(name);
	}
	return value;
}

#endif
