/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SIF's own ext3 overlay partition, as `singularity overlay create`
 * adds it (Partition, fstype Ext3, parttype Overlay, the primary
 * partition's group; upper/ and work/ inside).  `oci mount` (kernel
 * method) mounts it read-only on BUNDLE/.sif-overlay from a shared
 * read-only loop device and puts its upper/ under the writable layer, so
 * what was written into the image before is what the container sees.
 */
#ifndef SIFOCI_OVERLAY_PARTITION_H
#define SIFOCI_OVERLAY_PARTITION_H

#include "error.h"
#include "sif.h"

#define BUNDLE_SIF_OVERLAY_DIR ".sif-overlay"

/* IMG's overlay partition in PRIMARY's group: 1 with *ret, 0 when it has
 * none, -1 when it has one that is not ext3 (checked by its superblock
 * magic) or several. */
int bundle_sif_overlay_find(const struct sif_image *img, const struct sif_descriptor *primary,
                            const struct sif_descriptor **ret, oci_error **err);

/* e2fsck -n -f DEVICE (the partition's loop device, before a read-write
 * mount): 0 when it finds nothing to repair; otherwise one line naming
 * partition ID and what e2fsck said by its exit status. */
int bundle_sif_overlay_fsck(const char *device, unsigned id, oci_error **err);

#endif
