/* SPDX-License-Identifier: BSD-3-Clause
 * The kmod backend: the kernel module (kmod/README.md) serves /proc/chos/link, a symlink whose
 * target is per process and inherited by every child. ROOT (kmod layout, layout.h) has
 * ROOT/usr -> .chosfs/link/usr (and every OS directory alike), the same symlink through the
 * module's filesystem mounted at ROOT/.chosfs (faster than through /proc, layout.h), so after
 * one write of TREE to /proc/chos/setchos and a change of root to ROOT, this process and all it
 * starts see TREE's usr, bin, lib...
 *
 * Why a private mount namespace and pivot_root rather than the seed's chroot: a chrooted process
 * cannot create user namespaces (the kernel refuses unshare(CLONE_NEWUSER) with EPERM when the
 * root is not its mount namespace's root; measured on this kernel: after chroot EPERM, after
 * pivot_root in a private namespace "ok"), and sessions must be able to run rootless
 * containers. The namespace is made a recursive slave first, so nothing this backend mounts
 * reaches the host while the host's later mounts (an automounted home) still reach the session.
 * The cost is one mount namespace per session (about 150 µs at login, measured on Debian 12).
 *
 * The link's target is an absolute path resolved inside the session's root, so a tree must be
 * visible inside ROOT at its catalogue path: keep the trees under a directory the site binds
 * into ROOT (the seed's BINDMOUNT list in /etc/sysconfig/chos, e.g. /os). chos_kmod_apply checks
 * this before changing anything. */
#pragma once
#include "common/error.h"
#include <stdbool.h>

/* True when the module is loaded and its filesystem mounted (/proc/chos/setchos exists). */
bool chos_kmod_available(void);

/* Sets the calling thread's link to TREE (one write to setchos; no privilege needed). TREE must
 * be listed in /proc/chos/valid (`chos setup` lists every catalogue path). */
int chos_kmod_set(const char *tree, struct chos_error *err);

/* Checks that ROOT is laid out for the module: ROOT/.chos-link a symlink, chosfs at ROOT/.chosfs
 * (where the OS directories resolve the link, layout.h). */
int chos_kmod_check_root(const char *root, struct chos_error *err);

/* Checks that TREE resolves inside ROOT to the very directory it names on the host. */
int chos_kmod_check_visible(const char *root, const char *tree, struct chos_error *err);

/* Enters ROOT: private mount namespace (rslave), ROOT bound on itself, pivot_root, old root
 * detached, chdir to HOME (or "/"). Needs CAP_SYS_ADMIN in the caller's user namespace. */
int chos_kmod_enter(const char *root, const char *home, struct chos_error *err);
/* The backend's name in its messages (pivot.h's BACKEND). */
#define CHOS_KMOD_BACKEND "kmod backend"

/* The backend for pam_chos: check, set, enter. On failure before the root change the caller is
 * where it was, its link reset to the host view; err names the step and path. */
int chos_kmod_apply(const char *root, const char *tree, const char *home, struct chos_error *err);
