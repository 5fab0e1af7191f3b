/* SPDX-License-Identifier: BSD-3-Clause
 * The /chos view both backends share. `chos setup` lays it out;
 * the backends enter it. Only the link differs per session:
 *
 *   ROOT/usr -> .chos-link/usr         (relative, so it resolves before and after the root change;
 *   ROOT/bin -> .chos-link/bin          likewise every name in CHOS_OS_DIRS) in the namespace
 *                                       layout; in the kmod layout ROOT/usr -> .chosfs/link/usr
 *   ROOT/.chos-link                     kmod layout: a symlink to .chosfs/link (per process);
 *                                       namespace layout: an empty directory on which each
 *                                       session's private mount namespace binds its tree. Either
 *                                       way its presence at / says "inside a session's view"
 *   ROOT/.chosfs                        kmod layout: the module's chosfs, mounted here too (the
 *                                       same instance as /proc/chos), rmmod needs it unmounted.
 *                                       Why the OS dirs skip .chos-link and /proc/chos/link:
 *                                       each symlink costs, and /proc's entries force the kernel
 *                                       out of its RCU path walk. bench:kmod, stat via /chos/usr
 *                                       vs the direct path: .chos-link -> /proc/chos/link 1.63x,
 *                                       .chos-link -> .chosfs/link 1.32x, .chosfs/link/usr 1.25x
 *   ROOT/home, tmp, proc, dev, ...      bind mounts of the host's, made once by `chos setup`
 *   ROOT/.chos-images/NAME@GEN          the catalogue's image NAME (squashfs, erofs) mounted
 *                                       read-only by `chos setup`, one mount per generation:
 *                                       GEN is the file's digest (its first 16 hex digits). kmod
 *                                       layout: also bound at ROOT/ROOT/.chos-images/NAME@GEN,
 *                                       the same path seen inside the root, where links resolve
 *   ROOT/.chos-images/NAME -> NAME@GEN  the generation sessions enter now: that entry's tree.
 *                                       A replaced image is a new generation; the old one stays
 *                                       while sessions use it (setup_image.c)
 *
 * The host's identity files (CHOS_HOST_FILES) are bound by `chos setup` over each tree's copy,
 * so users and names resolve the same in every tree, and read-only the site's chos
 * configuration: the catalogue at CHOS_SERVED_CATALOGUE, the policy's directory at
 * CHOS_SERVED_POLICY_DIR. */
#pragma once

#define CHOS_LINK_NAME ".chos-link"
#define CHOS_KMOD_LINK "/proc/chos/link"
#define CHOS_KMOD_MOUNT_NAME ".chosfs"
#define CHOS_KMOD_LINK_TARGET CHOS_KMOD_MOUNT_NAME "/link"
#define CHOS_KMOD_DIR "/proc/chos"
#define CHOS_IMAGES_NAME ".chos-images"
/* NAME@GEN: '@' is not in a catalogue name's alphabet, so no generation is ever a name. */
#define CHOS_IMAGE_GENERATION_SEP '@'
#define CHOS_IMAGE_GENERATION_HEX 16
#define CHOS_SERVED_CATALOGUE "etc/chos"
#define CHOS_SERVED_POLICY_DIR "etc/chos.d"

/* NULL-terminated lists, defined once in layout.c. */
extern const char
	*const CHOS_OS_DIRS[]; /* bin sbin lib lib32 lib64 libx32 usr etc opt var boot srv */
extern const char *const CHOS_SITE_DIRS[];  /* home tmp proc dev dev/pts dev/shm sys run */
extern const char *const CHOS_HOST_FILES[]; /* etc/passwd etc/group etc/shadow etc/hosts ... */
