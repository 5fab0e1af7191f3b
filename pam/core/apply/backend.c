/* SPDX-License-Identifier: BSD-3-Clause
 * The backend's names and what `auto` resolves to (backend.h says who asks which and why). */
#include "apply/backend.h"
#include "common/layout.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const names[] = {
	[CHOS_BACKEND_AUTO] = "auto",
	[CHOS_BACKEND_KMOD] = "kmod",
	[CHOS_BACKEND_NAMESPACE] = "namespace",
	[CHOS_BACKEND_NONE] = "none",
};

int chos_backend_parse(const char *name, enum chos_backend *out)
{
	/* "none" is a result, never an option. */
	for (int b = CHOS_BACKEND_AUTO; b <= CHOS_BACKEND_NAMESPACE; b++)
		if (strcmp(name, names[b]) == 0)
			return *out = (enum chos_backend)b, 0;
	return -EINVAL;
}

const char *chos_backend_name(enum chos_backend backend)
{
	return (unsigned)backend < sizeof(names) / sizeof(names[0]) ? names[backend] : "unknown";
}

bool chos_backend_kmod_loaded(void)
{
	struct stat st;

	return stat(CHOS_KMOD_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

int chos_backend_of_layout(const char *root, enum chos_backend *out)
{
	char link[4096]; /* PATH_MAX: a longer ROOT is refused rather than cut */
	size_t n = strlen(root);
	struct stat st;

	/* "/" (inside a session's view) gives "/.chos-link", not "//.chos-link". */
	if (snprintf(link, sizeof(link), "%s%s%s", root, n && root[n - 1] == '/' ? "" : "/",
		     CHOS_LINK_NAME) >= (int)sizeof(link))
		return -ENAMETOOLONG;
	if (lstat(link, &st) < 0)
		return -errno;
	*out = S_ISLNK(st.st_mode) ? CHOS_BACKEND_KMOD : CHOS_BACKEND_NAMESPACE;
	return 0;
}

enum chos_backend chos_backend_for_root(enum chos_backend want, const char *root)
{
	enum chos_backend laid_out;

	if (want != CHOS_BACKEND_AUTO)
		return want;
	if (chos_backend_of_layout(root, &laid_out) == 0)
		return laid_out;
	return chos_backend_kmod_loaded() ? CHOS_BACKEND_KMOD : CHOS_BACKEND_NAMESPACE;
}

enum chos_backend chos_backend_for_setup(enum chos_backend want, const char *root, bool module_file,
					 bool (*load)(void *arg), void *arg)
{
	enum chos_backend laid_out;

	if (want != CHOS_BACKEND_AUTO)
		return want;
	/* A kmod layout stays one: a module that fails to load is then a problem, not a silent
	 * switch to the namespace backend. */
	if (chos_backend_kmod_loaded() || module_file ||
	    (chos_backend_of_layout(root, &laid_out) == 0 && laid_out == CHOS_BACKEND_KMOD))
		return CHOS_BACKEND_KMOD;
	if (load && load(arg))
		return CHOS_BACKEND_KMOD;
	return CHOS_BACKEND_NAMESPACE;
}
