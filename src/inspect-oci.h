/* SPDX-License-Identifier: Apache-2.0 */
/* oci inspect IMAGE of an OCI-SIF: each image of its root index, with its
 * platform, manifest and config digests and its layers. */
#ifndef SIFOCI_INSPECT_OCI_H
#define SIFOCI_INSPECT_OCI_H

#include <jansson.h>

#include "error.h"
#include "sif.h"

/* The images as JSON: [{"platform": {"os", "architecture"[, "variant"]},
 * "manifest": {"digest", "size"}, "config": {"digest", "size"},
 * "layers": [{"index", "digest", "size", "mediaType"}, ...]}, ...] */
int cli_inspect_oci_images(const struct sif_image *img, json_t **ret, oci_error **err);

/* The same as text, after the object table. */
void cli_inspect_oci_print(json_t *images);

#endif
