/*
 * racer SECONDS mem|stop NAME...: an unprivileged attacker of the ~/.chos reader (a reader that
 * dropped to the user's uid while it shared a root login's memory could be opened through
 * /proc/PID/mem, or stopped so that the login hung).
 *
 * Run as the user whose ~/.chos the logins read, while root drives logins whose processes are
 * named NAME (pamtester, runuser). For SECONDS it spins on the pids just allocated (from
 * /proc/sys/kernel/ns_last_pid): for each task named NAME it tries open("/proc/PID/mem",
 * O_RDWR), and with "stop" also kill(PID, SIGSTOP).
 *   - An open is a win when the task still runs the login's program (its /proc/PID/exe is
 *     named NAME): its memory is then the root login's. A child of the login that exec's the
 *     user's shell is the user's own: for a moment its fresh image is dumpable while the
 *     kernel has not renamed it yet. An open whose task is gone before its exe is read is not
 *     counted: it cannot be told apart.
 *   - A stop is a win: a task of a root login is never the user's to stop. It is left stopped,
 *     so the login it belongs to hangs, which the driver sees too. "stop" is for logins that
 *     never fork a task of the user's under NAME (pamtester); runuser's child becomes the
 *     user's own before its exec, and the user may stop it.
 * A task named NAME whose parent is also named NAME is counted as a reader (the module's clone
 * keeps the parent's name; runuser's own child is counted too): the count proves the race ran.
 * Prints "racer: readers-seen R attempts A wins W"; exits 0 when W is 0 and R > 0, else 1.
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

	int stop;

	if (argc < 4 || (strcmp(argv[2], "mem") && strcmp(argv[2], "stop"))) {
		fprintf(stderr, "usage: racer SECONDS mem|stop NAME...\n");
		return 2;
	}
	stop = !strcmp(argv[2], "stop");
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
			    !named(comm, argv + 3, argc - 3))
				continue;
			attempts++;
			if (pid != last_reader && task_of(ppid, parent, sizeof(parent), &pp) == 0 &&
			    named(parent, argv + 3, argc - 3)) {
				seen++;
				last_reader = pid;
			}
			snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd >= 0) {
				char exe_path[64], exe[4096];
				ssize_t n;

				snprintf(exe_path, sizeof(exe_path), "/proc/%ld/exe", pid);
				n = readlink(exe_path, exe, sizeof(exe) - 1);
				exe[n > 0 ? n : 0] = '\0';
				if (n > 0 && named(strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe,
						   argv + 3, argc - 3)) {
					wins++;
					fprintf(stderr,
						"racer: opened %s (%s, exe %s, parent %ld)\n", path,
						comm, exe, ppid);
				}
				close(fd);
			}
			if (stop && kill((pid_t)pid, SIGSTOP) == 0) {
				wins++;
				fprintf(stderr, "racer: stopped %ld (%s, parent %ld)\n", pid, comm,
					ppid);
			}
		}
	}
	printf("racer: readers-seen %ld attempts %ld wins %ld\n", seen, attempts, wins);
	return wins == 0 && seen > 0 ? 0 : 1;
}
