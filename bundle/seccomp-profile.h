/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp profile `oci mount` puts in config.json (linux.seccomp): an
 * allow-list in the spirit of the default profile Docker, podman and
 * SingularityCE apply.  Everything not listed fails with EPERM; what is
 * listed is what ordinary programs use, plus the syscalls a capability in
 * the container's set unlocks (chroot with CAP_SYS_CHROOT, mount and
 * namespaces only with CAP_SYS_ADMIN, ...).  Argument filters keep
 * personality(2) to the harmless personas and clone(2) from making
 * namespaces without CAP_SYS_ADMIN; clone3(2), whose flags seccomp cannot
 * see, fails with ENOSYS so that libc falls back to clone(2).
 *
 * The profile is generated from a static table for the architecture we were
 * built for (and its 32-bit siblings).  Syscall names the runtime's
 * libseccomp does not know are skipped by runc and crun, so the table may
 * name syscalls newer than the host's libseccomp.
 */
#ifndef SIFOCI_SECCOMP_PROFILE_H
#define SIFOCI_SECCOMP_PROFILE_H

#include <jansson.h>

/* errno of everything the profile does not allow */
#define BUNDLE_SECCOMP_DEFAULT_ERRNO 1 /* EPERM */

/* The linux.seccomp object for a container whose bounding capability set is
 * CAPS ("CAP_CHOWN", ..., NULL-terminated).  NULL only when out of memory. */
json_t *bundle_seccomp_profile(const char *const *caps);

#endif
