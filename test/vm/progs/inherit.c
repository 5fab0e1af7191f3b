/*
 * inherit: every way a task comes into being starts with its creator's link.
 * With the link set to tree A: a forked child, a grandchild that outlives its parent (the
 * orphan is reparented to this process, a subreaper), a vfork+exec'd program, threads, and
 * io_uring requests run by the kernel's io-wq workers (forced with IOSQE_ASYNC) all see A, both
 * by readlink and by opening a file through the link. A setchos written by an io-wq worker is
 * refused (EPERM) and moves nothing; written inline by the ring, it is the process's own.
 * Needs: module loaded, /proc/chos mounted, TREE_A listed (lib/vm.sh chos_vm_setup).
 */
#define _GNU_SOURCE
#include <linux/io_uring.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"

#define A_RELEASE "/proc/chos/link/etc/os-release"

/* A child process: exit 0 when it sees tree A. */
static int child_sees_a(void)
{
	return !strcmp(chos_link(), TREE_A) && !strcmp(first_line(A_RELEASE), "ID=a") ? 0 : 1;
}

static void check_child(void)
{
	int status;
	pid_t pid = fork();

	CHECK(pid >= 0, "fork");
	if (pid == 0)
		_exit(child_sees_a());
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "forked child does not see tree A");
	OK("forked child inherits");
}

/* The middle process exits at once; the grandchild checks only after it has gone. */
static void check_orphan(void)
{
	int pipefd[2], status;
	char verdict = 0;
	pid_t middle;

	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1) == 0, "subreaper");
	CHECK(pipe(pipefd) == 0, "pipe");
	middle = fork();
	CHECK(middle >= 0, "fork");
	if (middle == 0) {
		pid_t grandchild = fork();

		if (grandchild == 0) {
			/* Wait until reparented: our parent is no longer the middle process. */
			while (getppid() == middle)
				usleep(1000);
			verdict = child_sees_a() == 0 ? 'y' : 'n';
			if (write(pipefd[1], &verdict, 1) != 1)
				_exit(2);
			_exit(0);
		}
		_exit(grandchild > 0 ? 0 : 1);
	}
	CHECK(waitpid(middle, &status, 0) == middle && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0,
	      "middle process");
	close(pipefd[1]);
	CHECK(read(pipefd[0], &verdict, 1) == 1, "grandchild verdict");
	CHECK(verdict == 'y', "orphaned grandchild does not see tree A");
	while (wait(NULL) > 0)
		;
	OK("orphaned grandchild keeps the link after its parent exited");
}

static void check_vfork_exec(void)
{
	int status;
	pid_t pid = vfork();

	CHECK(pid >= 0, "vfork");
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", "test \"$(readlink " CHOS_LINK ")\" = " TREE_A,
		      (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "vfork+exec'd shell does not see tree A");
	OK("vfork + execve inherits");
}

static void *thread_sees_a(void *arg)
{
	(void)arg;
	return (void *)(long)child_sees_a();
}

static void check_threads(void)
{
	pthread_t threads[4];
	void *result;

	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&threads[i], NULL, thread_sees_a, NULL) == 0, "thread");
	for (int i = 0; i < 4; i++) {
		CHECK(pthread_join(threads[i], &result) == 0, "join");
		CHECK(result == NULL, "thread %d does not see tree A", i);
	}
	OK("threads inherit");
}

/* ---- io_uring, with raw system calls (no liburing in the image) ---- */

struct ring {
	int fd;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

static void ring_setup(struct ring *r)
{
	struct io_uring_params p = { 0 };
	char *sq, *cq;

	r->fd = syscall(__NR_io_uring_setup, 4, &p);
	CHECK(r->fd >= 0, "io_uring_setup");
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	cq = mmap(NULL, p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
		  PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
	r->sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	CHECK(sq != MAP_FAILED && cq != MAP_FAILED && r->sqes != MAP_FAILED, "mmap ring");
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
}

/* The next submission entry, cleared. */
static struct io_uring_sqe *ring_sqe(struct ring *r)
{
	unsigned index = *r->sq_tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[index];

	memset(sqe, 0, sizeof(*sqe));
	r->sq_array[index] = index;
	return sqe;
}

/* Submits the entry ring_sqe gave and returns its result. */
static int ring_submit(struct ring *r)
{
	unsigned tail = *r->sq_tail, head;
	int res;

	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	CHECK(syscall(__NR_io_uring_enter, r->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) == 1,
	      "io_uring_enter");
	head = *r->cq_head;
	CHECK(head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE), "no completion");
	res = r->cqes[head & *r->cq_mask].res;
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return res;
}

/* One openat of path (flags: IOSQE_*): an fd or -errno. */
static int ring_openat(struct ring *r, const char *path, unsigned char sqe_flags)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	sqe->opcode = IORING_OP_OPENAT;
	sqe->flags = sqe_flags;
	sqe->fd = AT_FDCWD;
	sqe->addr = (unsigned long)path;
	sqe->open_flags = O_RDONLY | O_CLOEXEC;
	return ring_submit(r);
}

/* One write of text to fd at offset 0 (flags: IOSQE_*): the byte count or -errno. */
static int ring_write(struct ring *r, int fd, const char *text, unsigned char sqe_flags)
{
	struct io_uring_sqe *sqe = ring_sqe(r);

	sqe->opcode = IORING_OP_WRITE;
	sqe->flags = sqe_flags;
	sqe->fd = fd;
	sqe->addr = (unsigned long)text;
	sqe->len = strlen(text);
	return ring_submit(r);
}

static void check_io_uring(void)
{
	struct ring ring;
	char buf[64] = "";
	int fd;

	ring_setup(&ring);
	/* A file only tree A has: the open succeeds only if the worker resolved the link to A. */
	fd = ring_openat(&ring, "/proc/chos/link/only-in-a", IOSQE_ASYNC);
	CHECK(fd >= 0, "io-wq worker openat through the link: %s", strerror(-fd));
	CHECK(read(fd, buf, sizeof(buf) - 1) > 0 && !strncmp(buf, "a", 1), "content of only-in-a");
	close(fd);
	OK("io_uring request run by an io-wq worker resolves the owner's link");
	fd = ring_openat(&ring, "/proc/chos/link/only-in-a", 0);
	CHECK(fd >= 0, "inline io_uring openat through the link: %s", strerror(-fd));
	close(fd);
	OK("io_uring request run inline resolves the link");
	fd = open(CHOS_SETCHOS, O_WRONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open setchos");
	CHECK(ring_write(&ring, fd, TREE_B, IOSQE_ASYNC) == -EPERM, "io-wq worker's setchos");
	CHECK(!strcmp(chos_link(), TREE_A), "a worker's setchos moved the process to %s",
	      chos_link());
	OK("a setchos written by an io-wq worker is refused (EPERM)");
	close(fd);
	close(ring.fd);
}

int main(void)
{
	CHECK(chos_set(TREE_A) == 0, "setchos " TREE_A);
	CHECK(!strcmp(chos_link(), TREE_A), "own link");
	check_child();
	check_orphan();
	check_vfork_exec();
	check_threads();
	check_io_uring();
	CHECK(chos_write(CHOS_RESETCHOS, "1", 1) == 0, "resetchos");
	CHECK(!strcmp(chos_link(), "/"), "link after reset");
	OK("resetchos returns to /");
	return 0;
}
