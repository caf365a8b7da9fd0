/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One squashfs as one OCI layer tar (application/vnd.oci.image.layer.v1.tar)
 * for `oci export`: files, directories, symlinks, hard links, device nodes
 * and FIFOs with their mode, owner, mtime and xattrs, read with
 * libsquashfs (squashfs-tree.h) and written as they are read.  Sockets
 * have no tar form and are skipped.
 *
 * An OCI-SIF layer marks deletions the way overlayfs does (a 0:0 character
 * device for a removed name, trusted.overlay.opaque="y" on a directory that
 * hides what the layers below hold there); OCI layers say the same with
 * ".wh.NAME" and ".wh..wh..opq" files, so with WHITEOUTS set these are
 * converted.
 */
#ifndef SIFOCI_EXPORT_LAYER_H
#define SIFOCI_EXPORT_LAYER_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "sha256.h"
#include "squashfs-image.h"

struct bundle_layer_result {
  char digest_hex[SHA256_HEX_SIZE]; /* of the tar as written */
  uint64_t size;
  uint64_t entries;
  uint64_t whiteouts, opaque_dirs;
  uint64_t sockets_skipped;
};

/* Write SQ's tree as a tar to FD; STOP_FD as bundle_tar_init takes it. */
int bundle_export_layer(struct bundle_sqfs *sq, int fd, bool whiteouts, int stop_fd,
                        struct bundle_layer_result *ret, oci_error **err);

#endif
