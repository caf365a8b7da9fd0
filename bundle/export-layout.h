/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where `oci export` writes: an OCI image layout (oci-layout, index.json,
 * blobs/sha256/HEX) or an oci-archive (the same layout as one tar).  All of
 * it is made in a temporary directory beside DEST and renamed onto DEST at
 * the end, so DEST is either complete or untouched; an abort removes the
 * temporary directory.
 */
#ifndef SIFOCI_EXPORT_LAYOUT_H
#define SIFOCI_EXPORT_LAYOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "sha256.h"

struct bundle_layout {
  char *dest;
  bool archive;
  char *tmp_path;  /* the temporary directory beside DEST */
  int parent_fd;   /* DEST's directory */
  char *dest_name; /* DEST's name in it */
  char *tmp_name;  /* the temporary directory's */
  int tmp_fd;      /* it */
  int layout_fd;   /* TMP/layout */
  int blobs_fd;    /* TMP/layout/blobs/sha256 */
  char **blobs;    /* hex digests written, for the archive */
  size_t n_blobs;
  unsigned seq; /* temporary blob names */
  int stop_fd;  /* bundle_tar_init's, for the archive */
};

/* Check DEST (a layout: missing or an empty directory; an archive:
 * missing) and make the temporary directory.  STOP_FD: as bundle_tar_init
 * takes it. */
int bundle_layout_begin(const char *dest, bool archive, int stop_fd, struct bundle_layout *ret,
                        oci_error **err);

/* A new, empty temporary blob file: write it, then bundle_layout_commit. */
int bundle_layout_blob_open(struct bundle_layout *l, char ret_name[32], int *ret_fd,
                            oci_error **err);

/* The temporary blob NAME is the blob HEX: renamed to blobs/sha256/HEX (a
 * blob already there is the same bytes: the temporary one is dropped). */
int bundle_layout_commit(struct bundle_layout *l, const char *name, const char *hex,
                         oci_error **err);

/* J as a blob; its descriptor (mediaType MEDIA_TYPE, digest, size) in
 * *ret. */
int bundle_layout_put_json(struct bundle_layout *l, json_t *j, const char *media_type, json_t **ret,
                           oci_error **err);

/* index.json (INDEX) and oci-layout, then DEST: the layout renamed onto it,
 * or the archive of it written and renamed. */
int bundle_layout_finish(struct bundle_layout *l, json_t *index, oci_error **err);

/* Remove what was written (nothing once finish succeeded) and free. */
void bundle_layout_clear(struct bundle_layout *l);

#endif
