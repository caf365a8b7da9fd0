/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `oci mount` accepts as an image, told apart by content, not name:
 * a SIF (native or OCI-SIF: "SIF_MAGIC" at byte 32) or a plain squashfs
 * file ("hsqs" at byte 0), or a directory (a sandbox).  A plain squashfs is presented as a SIF with
 * a single squashfs partition covering the whole file, so everything after this point (loop, mount,
 * fuse, extract, the mount record) is the same.
 */
#ifndef SIFOCI_IMAGE_SOURCE_H
#define SIFOCI_IMAGE_SOURCE_H

#include <jansson.h>

#include "error.h"
#include "image-config.h"
#include "image-files.h"
#include "sif.h"

enum bundle_image_kind {
  BUNDLE_IMAGE_SIF,
  BUNDLE_IMAGE_SQUASHFS,
  BUNDLE_IMAGE_SANDBOX, /* a sandbox directory: the overlay's lower dir as it is */
};

struct bundle_image_source {
  enum bundle_image_kind kind;
  struct sif_image *img;               /* owned */
  const struct sif_descriptor *rootfs; /* inside img; the top layer of several */
  /* the root file system's layers, bottom first (one but for a multi-layer
   * OCI-SIF); inside img */
  const struct sif_descriptor *layers[BUNDLE_LAYERS_MAX];
  size_t n_layers;
  json_t *config; /* the image config, or NULL (native SIF, squashfs) */
  char what[48];  /* names the rootfs object in errors */
  int dir_fd;     /* BUNDLE_IMAGE_SANDBOX: the directory, owned; -1 otherwise */
};

/* BUNDLE_IMAGE_SANDBOX: the image-files view (image-files.h) of the
 * directory, every path resolved inside it. */
void bundle_image_source_dir_files(struct bundle_image_source *src, struct bundle_image_files *ret);

/* Open PATH as an image of any kind.  A file that is neither names what
 * its first bytes are not. */
int bundle_image_source_open(const char *path, struct bundle_image_source *ret, oci_error **err);
/* The same, taking the image of PLATFORM (NULL: the host's) from an
 * OCI-SIF that holds several; PLATFORM for any other image is an error. */
int bundle_image_source_open_for(const char *path, const struct bundle_platform *platform,
                                 struct bundle_image_source *ret, oci_error **err);

void bundle_image_source_clear(struct bundle_image_source *src);

#endif
