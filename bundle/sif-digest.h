/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI-SIF blobs are content-addressed: each OCI.Blob and OCI.RootIndex
 * descriptor names the sha256 of its data, and the JSON that refers to a
 * blob repeats that digest.  A blob is used only once its data hashes to
 * it, so a tampered config or layer is refused instead of run.
 */
#ifndef SIFOCI_SIF_DIGEST_H
#define SIFOCI_SIF_DIGEST_H

#include <stddef.h>

#include "error.h"
#include "sif.h"

/* Does DATA (the object of D, already read) hash to D's digest? */
int sif_blob_check_data(const struct sif_descriptor *d, const void *data, size_t len,
                        oci_error **err);

/* The same for an object too large to hold in memory: read and hashed in
 * pieces. */
int sif_blob_verify(const struct sif_image *img, const struct sif_descriptor *d, oci_error **err);

#endif
