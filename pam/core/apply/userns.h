/* SPDX-License-Identifier: BSD-3-Clause
 * Unprivileged switching for the chos command: a user namespace that maps only the caller (its
 * uid and gid to themselves, setgroups denied) gives it CAP_SYS_ADMIN over mount namespaces it
 * creates afterwards, so it can enter the /chos view with the namespace backend
 * (chos_namespace_apply) or the kmod one (chos_kmod_enter) without any privilege on the host.
 * Inside, the caller keeps its uid and gid, and its capabilities end at the next execve (its uid
 * in the namespace is not 0). Supplementary groups still grant access, but show as the overflow
 * group (nogroup) because they cannot be mapped without privilege.
 *
 * Hosts may forbid this: kernel.unprivileged_userns_clone=0 (Debian's switch),
 * user.max_user_namespaces=0, kernel.apparmor_restrict_unprivileged_userns=1, or a chroot (the
 * kernel refuses user namespaces to chrooted processes). Each is named in the error. */
#pragma once
#include "common/error.h"

/* 0 when the sysctls allow unprivileged user namespaces, else -EPERM and err names the setting. */
int chos_userns_check(struct chos_error *err);
/* Moves the caller into a new user namespace mapping only itself. Returns 0 or -errno. */
int chos_userns_enter(struct chos_error *err);
