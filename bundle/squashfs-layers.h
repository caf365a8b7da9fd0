/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A multi-layer OCI-SIF's layers seen as one tree, the way overlayfs
 * stacks them (layers[0] at the bottom): a layer's whiteout hides a name
 * of the layers below, an opaque directory hides all they put in it.
 * Whiteouts are OverlayFS-style (a character device 0:0; a directory with
 * xattr trusted.overlay.opaque "y") or AUFS-style (".wh.NAME" beside NAME,
 * ".wh..wh..opq" inside an opaque directory).  Used for config generation
 * (the image-files view: /etc/passwd from the top-most layer that has it)
 * and by extraction.
 */
#ifndef SIFOCI_SQUASHFS_LAYERS_H
#define SIFOCI_SQUASHFS_LAYERS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "image-files.h"
#include "squashfs-image.h"

#define BUNDLE_WH_PREFIX ".wh."
#define BUNDLE_WH_OPAQUE ".wh..wh..opq"
#define BUNDLE_OPAQUE_XATTR "trusted.overlay.opaque"

/* What a layer does to the layers below it at one path. */
enum bundle_layer_mask {
  BUNDLE_LAYER_MASK_NONE,     /* they show through (the layer may add to it) */
  BUNDLE_LAYER_MASK_WHITEOUT, /* the path (or a parent) is deleted */
  BUNDLE_LAYER_MASK_OPAQUE,   /* the path (or a parent) hides what is below:
                                 an opaque directory, or a non-directory */
  BUNDLE_LAYER_MASK_MAX,
};

/* PATH's components walked literally in SQ (no symlink followed). */
int bundle_sqfs_layer_mask(struct bundle_sqfs *sq, const char *path, enum bundle_layer_mask *ret,
                           oci_error **err);

/* The context of a layered image-files view; owns nothing. */
struct bundle_layer_files {
  struct bundle_sqfs **layers; /* bottom first */
  size_t n;
};

/* The image-files view (image-files.h) of LAYERS stacked: a file is read
 * from the top-most layer that has it (symlinks followed within that
 * layer) unless a layer above it whites it out or hides it.  CTX must
 * outlive RET. */
void bundle_layer_files(struct bundle_sqfs **layers, size_t n, struct bundle_layer_files *ctx,
                        struct bundle_image_files *ret);

#endif
