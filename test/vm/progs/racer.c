/*
 * racer SECONDS NAME...: an unprivileged attacker of the ~/.chos reader (issue: a reader that
 * dropped to the user's uid while it shared a root login's memory could be opened through
 * /proc/PID/mem, or stopped so the login hung).
 *
 * Run as the user whose ~/.chos the logins read, while root drives logins whose processes are
 * named NAME (pamtester, runuser). For SECONDS it spins on the pids just allocated (from
 * /proc/sys/kernel/ns_last_pid): for each task named NAME it tries open("/proc/PID/mem",
 * O_RDWR) and kill(PID, SIGSTOP). A success on either is a win: the task runs inside a root
 * login, so it is never the user's to read or stop. A task named NAME whose parent is also
 * named NAME is a reader (the module's clone keeps the parent's name); the count of readers
 * seen proves the race was run at all. Prints "racer: readers-seen R attempts A wins W" and
 * exits 0 when W is 0 and R > 0, 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Pids around the last one allocated: a login forks or clones a few tasks at a time. */
#define SPAN 6

static int read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* The task's name and its parent's pid, from /proc/PID/stat ("pid (comm) state ppid ..."). */
static int task_of(long pid, char *comm, size_t comm_size, long *ppid)
{
	char path[64], buf[512], *open_paren, *close_paren;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (read_small(path, buf, sizeof(buf)) < 0)
		return -1;
	open_paren = strchr(buf, '(');
	close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren)
		return -1;
	snprintf(comm, comm_size, "%.*s", (int)(close_paren - open_paren - 1), open_paren + 1);
	return sscanf(close_paren + 2, "%*c %ld", ppid) == 1 ? 0 : -1;
}

static int named(const char *comm, char **names, int count)
{
	for (int i = 0; i < count; i++)
		if (!strcmp(comm, names[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	long attempts = 0, seen = 0, wins = 0, last_reader = 0;
	char comm[64], parent[64], buf[32];
	time_t end;

	if (argc < 3) {
		fprintf(stderr, "usage: racer SECONDS NAME...\n");
		return 2;
	}
	end = time(NULL) + atol(argv[1]);
	while (time(NULL) < end) {
		long last, ppid, pp;

		if (read_small("/proc/sys/kernel/ns_last_pid", buf, sizeof(buf)) < 0)
			return 2;
		last = atol(buf);
		for (long pid = last - SPAN / 2; pid <= last + SPAN / 2; pid++) {
			char path[64];
			int fd;

			if (pid <= 1 || pid == getpid() ||
			    task_of(pid, comm, sizeof(comm), &ppid) < 0 ||
			    !named(comm, argv + 2, argc - 2))
				continue;
			attempts++;
			if (pid != last_reader && task_of(ppid, parent, sizeof(parent), &pp) == 0 &&
			    named(parent, argv + 2, argc - 2)) {
				seen++;
				last_reader = pid;
			}
			snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				wins++;
				fprintf(stderr, "racer: opened %s (%s, parent %ld)\n", path, comm, ppid);
				close(fd);
			}
			if (kill((pid_t)pid, SIGSTOP) == 0) {
				wins++;
				fprintf(stderr, "racer: stopped %ld (%s, parent %ld)\n", pid, comm, ppid);
				kill((pid_t)pid, SIGCONT);
			}
		}
	}
	printf("racer: readers-seen %ld attempts %ld wins %ld\n", seen, attempts, wins);
	return wins == 0 && seen > 0 ? 0 : 1;
}
