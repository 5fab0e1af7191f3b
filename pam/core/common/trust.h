/* SPDX-License-Identifier: BSD-3-Clause
 * The trust rule, for configuration (catalogue, policy bundle, bytecode, /etc/sysconfig/chos)
 * and for trees: the object and every directory on its path, from / down, are owned by root
 * and writable by neither group nor others (OpenSSH StrictModes' rule). No sticky exception:
 * in a sticky directory (/tmp) anyone may still create the name before root does. A file must
 * be a regular file, a tree a directory. Whoever can write a directory on the path can rename
 * the object away or put their own in its place, so a file's own mode alone proves nothing.
 *
 * Checked on descriptors, never by path: the walk opens each component from its parent's fd
 * (O_PATH|O_NOFOLLOW) and fstats it, and the file is opened from the last directory's fd, so
 * the file read is the one judged. Once every directory passes, only root can change what the
 * path names, so a caller that later uses the path (a mount) gets the same object.
 *
 * Symbolic links are followed when they sit in a directory that passed, and only then: such a
 * link is root's choice (sites point /etc/chos at shared configuration), its own owner and mode
 * mean nothing to the kernel, and its target is walked with the same rule, from / for an
 * absolute target, at most CHOS_TRUST_MAX_LINKS of them per walk. A link in a directory that
 * fails is never reached: the walk stops at that directory.
 *
 * Messages name the object that fails and why, e.g.
 *   /etc/chos.d: writable by group, mode 0775 (not trusted)
 * and a path that does not exist is "PATH: No such file or directory" (-ENOENT), the path as
 * asked for. */
#pragma once
#include "common/error.h"
#include <stddef.h>

/* For tests and tools that do not run as root (the addon's trustAnyOwner, the policy CLI, the
 * fuzz targets): no owner check, for the file and its directories alike. Modes are still
 * checked: a group-writable directory is as open to others whoever owns it. */
#define CHOS_TRUST_ANY_OWNER 0x1u
/* For tools that evaluate files they were given or built themselves, never for a login
 * (chos-policy explain of a source directory, chos-policy test: the addon's trustFileOnly):
 * the file alone is judged, not the directories above it. No login path sets it: pam_chos and
 * chos have no option that does. */
#define CHOS_TRUST_FILE_ONLY 0x2u

/* The kernel's own bound on symbolic links in one path walk. */
#define CHOS_TRUST_MAX_LINKS 40

/* Opens the file at path O_RDONLY|O_CLOEXEC after the walk; returns the fd or -errno. */
int chos_open_trusted(const char *path, unsigned flags, struct chos_error *err);
/* Reads a whole trusted file (NUL-terminated copy, at most max bytes) into *data. */
int chos_read_trusted(const char *path, unsigned flags, size_t max, char **data, size_t *len,
		      struct chos_error *err);
/* Opens the directory at path (a tree) O_PATH|O_CLOEXEC after the walk; returns the fd or
 * -errno: -ENOENT when it is missing, -ENOTDIR when it is not a directory, -EPERM (and the
 * message) when it or a directory above it fails the rule. */
int chos_open_trusted_dir(const char *path, unsigned flags, struct chos_error *err);
