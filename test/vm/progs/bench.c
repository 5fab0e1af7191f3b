/*
 * bench: the two measurements of bench-kmod.sh, printed as one number (nanoseconds per
 * operation, the median of ROUNDS rounds, so one slow round under TCG does not skew it).
 *   bench fork N                 fork + _exit + waitpid, N per round
 *   bench stat N PREFIX FILE...  stat(PREFIX/FILE) for each FILE, N times per round
 */
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define ROUNDS 7

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double fork_round(long n)
{
	double start = now_ns();
	int status;

	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		CHECK(pid >= 0, "fork");
		if (pid == 0)
			_exit(0);
		CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
	}
	return (now_ns() - start) / n;
}

static double stat_round(long n, char **paths, int count)
{
	double start = now_ns();
	struct stat st;

	for (long i = 0; i < n; i++)
		for (int j = 0; j < count; j++)
			CHECK(stat(paths[j], &st) == 0, "stat %s", paths[j]);
	return (now_ns() - start) / ((double)n * count);
}

int main(int argc, char **argv)
{
	double rounds[ROUNDS];
	char *paths[64];
	int count = 0;
	long n;

	CHECK(argc >= 3, "usage: bench fork N | bench stat N PREFIX FILE...");
	n = strtol(argv[2], NULL, 10);
	if (!strcmp(argv[1], "stat")) {
		CHECK(argc >= 5 && argc - 4 <= 64, "bench stat N PREFIX FILE...");
		for (int i = 4; i < argc; i++)
			CHECK(asprintf(&paths[count++], "%s/%s", argv[3], argv[i]) > 0, "asprintf");
	}
	for (int r = 0; r < ROUNDS; r++)
		rounds[r] = count ? stat_round(n, paths, count) : fork_round(n);
	qsort(rounds, ROUNDS, sizeof(rounds[0]), cmp_double);
	printf("%.0f\n", rounds[ROUNDS / 2]);
	return 0;
}
