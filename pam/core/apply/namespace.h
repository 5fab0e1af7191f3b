/* SPDX-License-Identifier: BSD-3-Clause
 * The namespace backend: the calling process (sshd's privileged session process, su, the chos
 * command) moves into a private mount namespace in which TREE is bound on ROOT/.chos-link and
 * ROOT is the root directory. Every child started afterwards inherits it; nothing is mounted in
 * the host's namespace, and the namespace dies with the session's last process (no umount at
 * close). ROOT must have been laid out for this backend by `chos setup` (layout.h). */
#pragma once
#include "common/error.h"

/* Applies it. On failure err names the step and the path that failed, and the caller is still
 * in the host's root (a failure after the root change cannot happen: nothing fails after it
 * but the chdir to home, which falls back to "/"). Returns 0 or -errno. */
int chos_namespace_apply(const char *root, const char *tree, const char *home,
			 struct chos_error *err);
/* Its checks, before anything changes: ROOT and ROOT/.chos-link real directories laid out for
 * this backend, then TREE a directory (through a symlink or not). 0 or -errno. */
int chos_namespace_check_root(const char *root, struct chos_error *err);
int chos_namespace_check_tree(const char *tree, struct chos_error *err);
/* The backend's name in its messages (pivot.h's BACKEND). */
#define CHOS_NAMESPACE_BACKEND "namespace backend"
