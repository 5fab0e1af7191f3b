/*
 * walker: reads, readlinks and writes every file under /proc/chos, the way a curious user or
 * a fuzzer would: whole reads, byte-by-byte reads, seeks, readlink and stat through the link,
 * writes of junk and of a path. Each operation either works or fails with one of the errors
 * the interface defines (EINVAL, EACCES, EPERM, ENOENT, EISDIR, and ESPIPE for pwrite on the
 * seq_file ones); nothing else is acceptable.
 * Run as root and as nobody (the script checks dmesg afterwards).
 * Usage: walker [uid]   (drops to uid first when given)
 */
#include <dirent.h>
#include <sys/stat.h>

#include "check.h"

static int allowed(int err)
{
	return err == EINVAL || err == EACCES || err == EPERM || err == ENOENT || err == EISDIR ||
	       err == ESPIPE;
}

/* Every operation's outcome: success, or an allowed error. */
#define TRY(expr, what, name)                                       \
	do {                                                        \
		errno = 0;                                          \
		if ((expr) < 0)                                     \
			CHECK(allowed(errno), "%s %s", what, name); \
	} while (0)

static void walk_file(const char *dir, const char *name)
{
	char path[512], buf[4096], one;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	CHECK(lstat(path, &st) == 0, "lstat %s", path);
	if (S_ISLNK(st.st_mode)) {
		CHECK(readlink(path, buf, sizeof(buf)) > 0, "readlink %s", path);
		TRY(stat(path, &st), "stat through", path);
		TRY(open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), "open through", path);
		return;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		CHECK(allowed(errno), "open read %s", path);
	} else {
		TRY(read(fd, buf, sizeof(buf)), "read", path);
		TRY(lseek(fd, 0, SEEK_SET), "lseek", path);
		for (int i = 0; i < 64 && read(fd, &one, 1) == 1; i++)
			;
		TRY(lseek(fd, 3, SEEK_SET), "lseek 3", path);
		TRY(read(fd, buf, 7), "read after seek", path);
		close(fd);
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		CHECK(allowed(errno), "open write %s", path);
		return;
	}
	TRY(write(fd, "junk", 4), "write junk", path);
	TRY(write(fd, "/srv/walker\n", 12), "write path", path);
	TRY(pwrite(fd, "/x", 2, 100), "pwrite", path);
	close(fd);
}

int main(int argc, char **argv)
{
	struct dirent *entry;
	int files = 0;
	DIR *dir;

	if (argc > 1) {
		uid_t uid = (uid_t)strtoul(argv[1], NULL, 10);

		CHECK(setgid(uid) == 0 && setuid(uid) == 0, "drop to %u", uid);
	}
	for (int pass = 0; pass < 3; pass++) {
		dir = opendir("/proc/chos");
		CHECK(dir, "opendir /proc/chos");
		files = 0;
		while ((entry = readdir(dir))) {
			if (entry->d_name[0] == '.')
				continue;
			walk_file("/proc/chos", entry->d_name);
			files++;
		}
		closedir(dir);
	}
	CHECK(files == 7, "seven files, found %d", files);
	OK("walked every file in /proc/chos as uid %u", getuid());
	return 0;
}
