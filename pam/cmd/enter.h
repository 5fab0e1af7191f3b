/* SPDX-License-Identifier: BSD-3-Clause
 * Moving the chos command into a tree, with whichever means this process has:
 *
 *   where it runs              kmod layout (/proc/chos)          namespace layout
 *   inside a session's view    write setchos (no privilege)      new mount namespace, tree
 *   ("/" has .chos-link)                                         bound on /.chos-link
 *   on the host's view         setchos, then enter ROOT          chos_namespace_apply(ROOT)
 *
 * Root does the mount-namespace steps directly; anyone else does them inside a user namespace
 * that maps only themselves (userns.h), and gets a clear message when the host forbids that.
 * Inside a session the tree must be visible at its catalogue path (a directory the site binds
 * into the root), since the host's root is out of reach there by design.
 *
 * A chos started inside an unprivileged `chos run` cannot switch again: in that user namespace
 * root is unmapped, so the root-owned catalogue and bundle show as owned by the overflow uid and
 * the trust rule rightly refuses them. Sessions made by pam_chos are not in a user namespace. */
#pragma once
#include "options.h"

/* Enters TREE (the catalogue path). Returns 0, or -1 after printing one
 * line saying what failed and what to do. */
int chos_cmd_enter(const char *root, const char *tree);

/* What run and shell share: asks the policy for NAME (chos_consult_grant) and enters the tree
 * it grants. Returns 0, or -1 after printing why not. */
int chos_cmd_enter_granted(const struct chos_cmd_options *opts, const char *name);
