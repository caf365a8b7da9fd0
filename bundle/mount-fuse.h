/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount --method fuse`: the SIF's squashfs partition served by
 * squashfuse_ll (or squashfuse) on BUNDLE/.image, and fuse-overlayfs on
 * BUNDLE/rootfs with that as its lower directory and overlay/{upper,work}.
 * A multi-layer OCI-SIF: one squashfuse per layer on BUNDLE/.layers/N, all
 * of them fuse-overlayfs' lower directories, the top layer first.
 * Both daemons are ours, started in the foreground of a new session, so
 * their PIDs go into the mount record; a non-root user's mounts go through
 * the setuid fusermount3 and live in the initial mount namespace, so the
 * bundle outlives the command.
 *
 * Ownership (non-root): squashfuse shows the image's raw IDs; fuse-overlayfs
 * maps them onto the user's container mapping (uidmapping/gidmapping: image
 * 0 is the user, image 1..N the subordinate range), so the container sees
 * the image's owners.  The daemon cannot chown as an ordinary user, so the
 * owners of what the container writes live in the upper directory's
 * user.fuseoverlayfs.override_stat xattrs (xattr_permissions=2): the
 * bundle's file system must take user xattrs.
 *
 * Access: a FUSE mount without allow_other serves only processes whose
 * every UID and GID is the mounting user's, i.e. the container's root.
 * The overlay gets allow_other when it may have it (root, or
 * user_allow_other in /etc/fuse.conf); without it an image whose process
 * user is not root cannot run.  The squashfs mount never needs it: only the
 * overlay daemon (the user) reads it.
 */
#ifndef SIFOCI_MOUNT_FUSE_H
#define SIFOCI_MOUNT_FUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "idmap.h"
#include "mount-record.h"

#define BUNDLE_FUSE_OVERLAY_TYPE "fuse.fuse-overlayfs"

struct bundle_fuse_tools {
  char squashfuse[64]; /* squashfuse_ll, or squashfuse */
  char overlayfs[64];
  char fusermount[64]; /* non-root only */
  bool root;
  bool allow_other; /* root, or user_allow_other in /etc/fuse.conf */
};

/* Can the fuse method run here?  0 with TOOLS; otherwise -1 and one line
 * naming everything that is missing, with its Debian package. */
int bundle_fuse_probe(struct bundle_fuse_tools *tools, oci_error **err);

/* Does the directory DIR_PATH's file system take user xattrs (what the
 * upper directory of a non-root overlay needs)? */
bool bundle_fuse_xattrs_ok(const char *dir_path);

struct bundle_fuse_mount_args {
  const struct bundle_fuse_tools *tools;
  int image_fd;
  /* where each squashfs is in the SIF, bottom layer first: one is served
   * on .image, several on .layers/N each, stacked under the overlay */
  const uint64_t *offsets;
  size_t n_layers;
  int dirfd; /* the bundle; .image (.layers/N), rootfs, overlay/{upper,work} made */
  const char *bundle_abs;
  const struct idmap *map;   /* the container's mapping (non-root), or NULL */
  bool allow_other;          /* on the overlay */
  struct bundle_record *rec; /* each mount is recorded (and saved) first */
  /* --overlay DIR:ro layers above the image, "A:B:" (top first), or NULL */
  const char *lower_prefix;
  /* a writable --overlay DIR (DIR/upper and DIR/work made), or NULL for
   * the bundle's overlay/ */
  const char *upper_base;
};

/* Every mount; on failure what was mounted stays in the record for undo. */
int bundle_fuse_mount(const struct bundle_fuse_mount_args *a, oci_error **err);

/* A "fuse.*" type of the record? */
bool bundle_fuse_is_type(const char *type);

/* Take down the FUSE mount M under DIRFD: check that the mount there is
 * one of that type (in /proc/self/mountinfo, which also lists a mount
 * whose daemon died), refuse one a container uses, unmount it (umount2 as
 * root, fusermount3 -u otherwise) and wait for its daemon to exit.  Not
 * mounted: nothing to do. */
int bundle_fuse_unmount(int dirfd, const struct bundle_record_mount *m, oci_error **err);

#endif
