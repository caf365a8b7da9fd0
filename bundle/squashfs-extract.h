/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount --method extract`: the image's squashfs unpacked into a
 * directory with libsquashfs, owners, modes, times, symlinks, hard links
 * and xattrs (where the kernel lets us set them) as the image has them.
 * Device nodes are skipped and counted.  Run as root, or as root of a user
 * namespace (userns-run.h): an owner the namespace does not map is an
 * error naming the file.
 */
#ifndef SIFOCI_SQUASHFS_EXTRACT_H
#define SIFOCI_SQUASHFS_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "squashfs-image.h"

/* Filled as extraction goes; may live in shared memory (the extraction
 * runs in a child process). */
struct bundle_extract_stats {
  uint64_t bytes_total, bytes_done;
  uint64_t entries;
  uint64_t devices_skipped;
  uint64_t xattrs_skipped;
};

/* Called after each chunk written, and once more at the end. */
typedef void (*bundle_progress_fn)(const struct bundle_extract_stats *stats, void *data);

/* Extract SQ's tree into the existing, empty directory NAME under DIRFD
 * (its owner, mode and times become the image root's). */
int bundle_sqfs_extract(struct bundle_sqfs *sq, int dirfd, const char *name,
                        struct bundle_extract_stats *stats, bundle_progress_fn progress,
                        void *progress_data, oci_error **err);

/* LAYERS (bottom first) one after the other into NAME, as overlayfs
 * would stack them: each layer's whiteouts delete what the layers below
 * put there, its opaque directories drop what they put in them, and
 * neither marker is written. */
int bundle_sqfs_extract_layers(struct bundle_sqfs *const *layers, size_t n, int dirfd,
                               const char *name, struct bundle_extract_stats *stats,
                               bundle_progress_fn progress, void *progress_data, oci_error **err);

#endif
