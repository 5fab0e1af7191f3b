/* SPDX-License-Identifier: BSD-3-Clause
 * The root change both backends share: a private mount namespace made a recursive slave, ROOT
 * bound on itself, pivot_root into it with the old root detached, then chdir to the home.
 * The namespace backend (namespace.h) also binds its tree on ROOT/.chos-link on the way; the
 * kmod backend (kmod_backend.h) does not, its link being served by the module. */
#pragma once
#include "common/error.h"

/* The one place a failed step becomes text: "BACKEND: STEP PATH: strerror". Returns code. */
int chos_step_failed(struct chos_error *err, const char *backend, int code, const char *step,
		     const char *path);

/* Enters ROOT as above. When TREE is not NULL it is bound (recursively) on ROOT/.chos-link
 * (never through a symlink) after ROOT is bound on itself and before the pivot. HOME may be NULL
 * ("/" then, as when it is missing). BACKEND ("namespace backend", "kmod backend") starts err's
 * message. Needs CAP_SYS_ADMIN in the caller's user namespace. On failure the caller is still on
 * its old root. Returns 0 or -errno. */
int chos_pivot_enter(const char *backend, const char *root, const char *tree, const char *home,
		     struct chos_error *err);
/* chos_pivot_enter in two halves: the new namespace, made rslave, with ROOT bound on itself
 * (no tree needed yet), then TREE's bind, the pivot and the home. Same errors, same order. */
int chos_pivot_unshare(const char *backend, const char *root, struct chos_error *err);
int chos_pivot_into(const char *backend, const char *root, const char *tree, const char *home,
		    struct chos_error *err);
/* The tree's bind of step 4 in its parts, for a view whose tree is copied on one view and
 * attached in another (view.c): ROOT/.chos-link's handle beneath ROOTFD (ROOT's, or "/" once
 * pivoted into it); TREE's recursive copy, detached, with FLAGS more (beneath.h: CHOS_BIND_SLAVE);
 * that copy attached on the link. ROOT names the link in messages. Each returns an fd or 0, else
 * -errno with err saying what step 4 says. */
int chos_pivot_open_link(const char *backend, int rootfd, const char *root, struct chos_error *err);
int chos_pivot_copy_tree(const char *backend, const char *root, const char *tree, unsigned flags,
			 struct chos_error *err);
int chos_pivot_attach_tree(const char *backend, const char *root, int copy, int linkfd,
			   struct chos_error *err);
