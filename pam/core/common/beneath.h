/* SPDX-License-Identifier: BSD-3-Clause
 * Paths inside a directory nobody trusts (an OS tree; its owner may plant any symlink), reached
 * only from a handle on that directory: every component is opened with openat2 and
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, so a symlink anywhere on the
 * path, dangling or not, pointing out of the tree or inside it, stops the walk. Mounts go onto
 * those handles (chos_bind_at), never onto a path the kernel would resolve again.
 *
 * Each helper returns an fd or 0, else -errno with a struct chos_beneath_fail that says which
 * component failed and what stands there; the caller turns it into its own message. */
#pragma once
#include <sys/types.h>

/* PATH_MAX: the relative paths walked are the layout's (etc/passwd) or a site's BINDMOUNT. */
#define CHOS_BENEATH_PATH_MAX 4096

struct chos_beneath_fail {
	/* The path walked up to and including the component that failed, relative to the handle. */
	char path[CHOS_BENEATH_PATH_MAX];
	/* What stands there (S_IFLNK, S_IFREG, ...) when it is the wrong kind; 0 otherwise. */
	mode_t found;
	/* True when that component is the last one of the path (the mount point itself). */
	int last;
};

/* Opens PATH ("etc/passwd": relative, no "." or ".." or empty component) beneath DIRFD as an
 * O_PATH | O_CLOEXEC handle. WANT is S_IFDIR or S_IFREG, the kind the last component must be;
 * every other one must be a directory. With CREATE, a missing component is made: a directory
 * (0755) or, last and WANT S_IFREG, an empty regular file (0644). Returns the fd, or -errno:
 * -ELOOP a symlink, -ENOTDIR not a directory, -EINVAL not a regular file (found says what it
 * is), -ENOENT missing (without CREATE), or what the kernel said. */
int chos_beneath_open(int dirfd, const char *path, mode_t want, int create,
		      struct chos_beneath_fail *fail);

/* What found (S_IFMT bits) names in a message: "a symlink", "a directory", "a fifo"... */
const char *chos_beneath_kind(mode_t found);

#define CHOS_BIND_RECURSIVE 1u /* submounts come along (mount --rbind) */
#define CHOS_BIND_READ_ONLY 2u /* read-only, nosuid, nodev before it is attached */
/* A slave of the source's mounts, all of it (mount --make-rslave): what is mounted in the copy
 * does not reach the source, while the source's later mounts reach the copy. */
#define CHOS_BIND_SLAVE 4u

/* Binds SRC (resolved from SRCDIR as usual: a host path, or "" for SRCDIR itself) onto the
 * handle TARGET. Returns 0 or -errno. */
int chos_bind_at(int srcdir, const char *src, int target, unsigned flags);
/* chos_bind_at in two steps, for a caller that attaches the copy in another mount namespace
 * than the one it copied from (pivot.c, for view.c): the copy of SRC, detached (an O_CLOEXEC
 * descriptor, or -errno), then attached onto the handle TARGET (0 or -errno). */
int chos_bind_copy(int srcdir, const char *src, unsigned flags);
int chos_bind_attach(int copy, int target);

/* Detaches (MNT_DETACH) the mount whose root the handle FD is. Returns 0 or -errno. */
int chos_detach_at(int fd);

/* True when the handle FD is the root of a mount (a bind made earlier). */
int chos_is_mount_root(int fd);
