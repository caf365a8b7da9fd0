/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount` / `oci umount`: a SIF image as an OCI bundle.
 *
 *   BUNDLE/             0700 (made when missing; must be empty otherwise)
 *   BUNDLE/.image/      0700  squashfs, read-only, nodev, nosuid, on a
 *                             shared read-only loop device
 *   BUNDLE/rootfs/      0700  overlay: lower .image, upper overlay/upper,
 *                             nodev, nosuid (the image's device nodes and
 *                             setuid bits mean nothing in the container)
 *   BUNDLE/overlay/     0700  upper/ (0755: becomes the container's "/"), work/
 *   BUNDLE/volumes/     0700  one 0755 dir per image VOLUME, bind-mounted
 *   BUNDLE/config.json  0600
 *   BUNDLE/.sifoci-mount.json  0600  what was done (mount-record.h)
 *
 * The squashfs gets its own directory instead of being stacked under the
 * overlay on rootfs (as SingularityCE does): each mount point then holds
 * exactly one mount, so umount (and crash recovery) can check each one's
 * type before unmounting it, and nothing is hidden under another mount.
 */
#ifndef SIFOCI_BUNDLE_H
#define SIFOCI_BUNDLE_H

#include <stdbool.h>

#include "error.h"

#define BUNDLE_IMAGE_DIR ".image"

struct bundle_mount_options {
  /* leave linux.seccomp (the default profile, seccomp-profile.h) out of
   * config.json */
  bool no_seccomp;
};

/* OPTS may be NULL for the defaults. */
int bundle_mount(const char *image_path, const char *bundle_path,
                 const struct bundle_mount_options *opts, oci_error **err);

struct bundle_umount_result {
  /* mount made the bundle directory but it holds files mount did not make
   * (left in place) */
  bool bundle_kept;
};

int bundle_umount(const char *bundle_path, struct bundle_umount_result *ret, oci_error **err);

#endif
