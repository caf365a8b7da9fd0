/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How config generation sees the files inside an image: libsquashfs over
 * the SIF when mounting, a table in memory in unit tests.  Keeping this an
 * interface makes the config merge a pure function of (image config, these
 * files).
 */
#ifndef SIFOCI_IMAGE_FILES_H
#define SIFOCI_IMAGE_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Image files read for config generation are small text files; anything
 * bigger is refused rather than read. */
#define BUNDLE_IMAGE_FILE_MAX (1u << 20)

struct bundle_image_files {
  void *ctx;
  /* Read the regular file at absolute PATH (symlinks inside the image
   * followed).  0 with a NUL-terminated copy, 1 when it does not exist, -1
   * with *err set. */
  int (*read_file)(void *ctx, const char *path, size_t max_size, char **ret_data, size_t *ret_len,
                   oci_error **err);
  /* Is PATH a regular file?  0 with *ret set, -1 with *err set. */
  int (*is_file)(void *ctx, const char *path, bool *ret, oci_error **err);
};

#endif
