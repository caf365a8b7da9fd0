/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an `--overlay FILE` is, told by its content: an ext3 file system
 * (as `singularity overlay create --size N f.img` makes it: upper/ and
 * work/ in its root) or a squashfs (always read-only).  And the e2fsck
 * check every ext3 file system gets before a read-write mount (the SIF's
 * overlay partition too).
 */
#ifndef SIFOCI_OVERLAY_IMAGE_H
#define SIFOCI_OVERLAY_IMAGE_H

#include <stdint.h>

#include "error.h"

enum bundle_overlay_kind {
  BUNDLE_OVERLAY_EXT3,
  BUNDLE_OVERLAY_SQUASHFS,
  BUNDLE_OVERLAY_KIND_MAX,
};

/* "ext3", "squashfs" (the mount type and the record's "kind"), or NULL */
const char *bundle_overlay_kind_name(enum bundle_overlay_kind kind);
enum bundle_overlay_kind bundle_overlay_kind_from_name(const char *name);

/* FD (a regular file, read-only) at offset 0: 0 with *RET_KIND, or -1 and
 * an error saying what it is instead (a SIF, an ext4 file system, neither)
 * without naming the file (the caller does). */
int bundle_overlay_image_probe(int fd, enum bundle_overlay_kind *ret_kind, oci_error **err);

/* e2fsck -n -f DEVICE, output thrown away: 0 with its exit status in
 * *RET_STATUS (0: nothing to repair; 128 + N for a signal), -1 when it
 * cannot run (not installed: the error names the package). */
int bundle_ext3_fsck(const char *device, int *ret_status, oci_error **err);

#endif
