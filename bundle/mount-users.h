/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Is a file system still mounted in another mount namespace?
 *
 * A container's mount namespace holds its own copy of the bundle's overlay
 * (as its "/").  Unmounting ours then succeeds, and deleting overlay/upper
 * afterwards would pull the files out from under the running container.
 * So umount looks for the overlay in every other mount namespace first,
 * whoever made the container (oci, plain runc, podman).  A namespace that
 * lets go of it within two seconds (a container of another bundle being
 * set up) is not counted.
 */
#ifndef SIFOCI_MOUNT_USERS_H
#define SIFOCI_MOUNT_USERS_H

#include <sys/types.h>

#include "error.h"

/* Look for a mount of the file system DEV (st_dev of its root) in mount
 * namespaces other than ours.  0 with *ret_pid = a process in such a
 * namespace, or 0 when there is none; -1 on error. */
int bundle_find_foreign_mount(dev_t dev, pid_t *ret_pid, oci_error **err);

/* -1 with an error naming TARGET (the bundle's mount point of DEV) when
 * another mount namespace holds it (a container runs from the bundle). */
int bundle_refuse_foreign_mount(dev_t dev, const char *target, oci_error **err);

/* An extracted rootfs has no mount of its own to look for: a process whose
 * root directory is DEV/INO (a container of the bundle) is.  0 with
 * *ret_pid set to one, or 0 when there is none; -1 on error. */
int bundle_find_root_user(dev_t dev, ino_t ino, pid_t *ret_pid, oci_error **err);

#endif
