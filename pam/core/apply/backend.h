/* SPDX-License-Identifier: BSD-3-Clause
 * Which backend enters a session: the enum every part carries, its names, and what `auto`
 * resolves to. Results carry the enum; it becomes a name only where it is printed or logged.
 *
 * The layout of ROOT (layout.h) is the record of the choice: ROOT/.chos-link is a symlink in
 * the kmod layout and a directory in the namespace layout, and each layout can be entered only
 * by its own backend. So there are two questions, asked by different callers:
 *
 *   chos_backend_for_setup  `chos setup` decides the layout: auto is kmod whenever the kmod
 *                           backend can be had (ROOT already laid out for it, the module
 *                           loaded, a module file given, or an installed module that loads),
 *                           else namespace. Only setup may load the module.
 *   chos_backend_for_root   a login (pam_chos's backend=) enters the layout setup made: auto is
 *                           what ROOT is laid out for; when ROOT is not laid out (its backend
 *                           then fails, saying to run `chos setup`), kmod when the module is
 *                           loaded, else namespace. It costs one lstat (and a stat when
 *                           ROOT is not laid out) and loads nothing.
 *
 * The `chos` command has no backend option: it asks chos_backend_of_layout, at "/" inside a
 * session's view and at ROOT on the host's, and a missing link is its error. */
#pragma once
#include <stdbool.h>

enum chos_backend {
	CHOS_BACKEND_AUTO, /* an option only: resolved before anything is applied */
	CHOS_BACKEND_KMOD,
	CHOS_BACKEND_NAMESPACE,
	CHOS_BACKEND_NONE, /* a result only: nothing was applied */
};

/* The backend an option names: "auto", "kmod" or "namespace". Returns 0, or -EINVAL. */
int chos_backend_parse(const char *name, enum chos_backend *out);
/* Its printable name: "auto", "kmod", "namespace", "none". */
const char *chos_backend_name(enum chos_backend backend);

/* True when the kernel module is loaded: its mount point /proc/chos exists. */
bool chos_backend_kmod_loaded(void);
/* What ROOT is laid out for: KMOD when ROOT/.chos-link is a symlink, NAMESPACE when it is
 * anything else (that backend says what is wrong with it). Returns 0, or -errno when there is
 * no link (-ENOENT: not laid out). */
int chos_backend_of_layout(const char *root, enum chos_backend *out);

/* A login's backend (see above): want itself unless it is AUTO. */
enum chos_backend chos_backend_for_root(enum chos_backend want, const char *root);
/* `chos setup`'s backend (see above): want itself unless it is AUTO. module_file: --module was
 * given. load, when not NULL, tries to load an installed module and returns true when it is
 * loaded afterwards; it is called only when nothing else says kmod. */
enum chos_backend chos_backend_for_setup(enum chos_backend want, const char *root, bool module_file,
					 bool (*load)(void *arg), void *arg);
