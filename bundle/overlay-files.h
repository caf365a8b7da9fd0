/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount --overlay FILE` (kernel method): each ext3 or squashfs image
 * file on a loop device of its own kind (read-write, never shared, for the
 * writable ext3 one; read-only and shared otherwise), mounted on
 * BUNDLE/.overlays/N.  Its entry in the mount record's "overlays" list
 * names the mount point from the start and gets the loop device before the
 * mount is taken, so `oci umount` takes it apart also after a crash.
 *
 * "Held by another bundle" is a flock on the file: exclusive for the
 * writable one, shared for read-only ones, taken without waiting on the fd
 * the loop device is then bound to.  The device keeps that open file, so
 * the lock lasts exactly as long as the device, that is the mount (and a
 * mount killed before its mount takes leaves neither).  A loop device
 * bound by anyone else is looked for too: a writable file is refused
 * while any maps it, a read-only one while a writable one does.  A
 * writable ext3 file system is checked with e2fsck -n first.
 */
#ifndef SIFOCI_OVERLAY_FILES_H
#define SIFOCI_OVERLAY_FILES_H

#include "error.h"
#include "mount-record.h"
#include "overlay-layers.h"

/* Mount O's image files under DIRFD (the bundle), recording each step in
 * REC (saved under DIRFD).  On failure what was done stays in REC for
 * bundle_overlay_files_unmount. */
int bundle_overlay_files_mount(const struct bundle_overlays *o, int dirfd,
                               struct bundle_record *rec, oci_error **err);

/* After the overlay on rootfs is gone: unmount each image file REC lists
 * (checking the mount there is of its kind; never lazily) and let a loop
 * device go that lost its autoclear flag.  Not mounted: nothing to do. */
int bundle_overlay_files_unmount(int dirfd, const struct bundle_record *rec, oci_error **err);

#endif
