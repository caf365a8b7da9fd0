/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount` / `oci umount`: a SIF image as an OCI bundle.
 *
 *   BUNDLE/             0700 (made when missing; must be empty otherwise)
 *   BUNDLE/.image/      0700  squashfs, read-only, nodev, nosuid, on a
 *                             shared read-only loop device
 *   BUNDLE/.layers/N/   0700  instead of .image for a multi-layer OCI-SIF:
 *                             layer N (0 the bottom), each on its own loop
 *                             device, all of them the overlay's lower dirs
 *   BUNDLE/rootfs/      0700  overlay: lower .image, upper overlay/upper,
 *                             nodev, nosuid (the image's device nodes and
 *                             setuid bits mean nothing in the container)
 *   BUNDLE/overlay/     0700  upper/ (0755: becomes the container's "/"), work/
 *   BUNDLE/volumes/     0700  one 0755 dir per image VOLUME, bind-mounted
 *   BUNDLE/config.json  0600
 *   BUNDLE/.sifoci-mount.json  0600  what was done (mount-record.h)
 *
 * With --method fuse (mount-fuse.h) .image and rootfs are FUSE mounts
 * served by squashfuse and fuse-overlayfs daemons, the layout the same.
 *
 * With --method extract (bundle-extract.c) there are no mounts: rootfs is
 * the image unpacked, owned as in the image (through the user namespace
 * mapping when not root), and .image and overlay are not made.
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
#include "image-config.h"
#include "overlay-layers.h"
#include "spec-options.h"
#include "squashfs-extract.h"

#define BUNDLE_IMAGE_DIR ".image"

/* How rootfs is made (oci mount --method). */
enum bundle_method {
  BUNDLE_METHOD_AUTO,    /* kernel for root; fuse when it can serve, else extract */
  BUNDLE_METHOD_KERNEL,  /* loop + squashfs + overlay: root only */
  BUNDLE_METHOD_EXTRACT, /* unpacked with libsquashfs */
  BUNDLE_METHOD_FUSE,    /* squashfuse + fuse-overlayfs (mount-fuse.h) */
  BUNDLE_METHOD_MAX,
};

/* "auto", "kernel", "extract", "fuse"; NULL for none */
const char *bundle_method_name(enum bundle_method m);
/* BUNDLE_METHOD_MAX for an unknown name */
enum bundle_method bundle_method_from_name(const char *name);

struct bundle_mount_options {
  /* leave linux.seccomp (the default profile, seccomp-profile.h) out of
   * config.json */
  bool no_seccomp;
  enum bundle_method method;
  /* extract: called as bytes are written (from a child process when not
   * root), may be NULL */
  bundle_progress_fn progress;
  void *progress_data;
  /* extract: what was done (device nodes skipped, ...); may be NULL */
  struct bundle_extract_stats *ret_stats;
  /* the method used (auto resolved); may be NULL */
  enum bundle_method *ret_method;
  /* fuse as a user with subordinate IDs but without allow_other: only the
   * container's root can use the files; may be NULL */
  bool *ret_fuse_owner_only;
  /* --platform: which image of an OCI-SIF index; NULL for the host's */
  const struct bundle_platform *platform;
  /* binds, env, capabilities, limits, ... for config.json; may be NULL */
  const struct bundle_spec_options *spec_options;
  /* --overlay / --writable-tmpfs (overlay-layers.h), checked; may be NULL.
   * Kernel method only. */
  const struct bundle_overlays *overlays;
  /* the command's arguments in place of the image's (`oci run IMAGE
   * ARGS`, bundle_spec_set_args): N_ARGS of them when ARGS is not NULL */
  const char *const *args;
  size_t n_args;
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
