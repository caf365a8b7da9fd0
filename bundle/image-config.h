/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a SIF image says about how to run it: the OCI image config
 * (Entrypoint, Cmd, Env, WorkingDir, User, Volumes, Labels) and which object
 * holds its root filesystem.  Native images keep the config in a
 * JSON.Generic object named oci-config.json; OCI-SIF images in the config
 * blob that root index -> manifest -> config points to.
 */
#ifndef SIFOCI_IMAGE_CONFIG_H
#define SIFOCI_IMAGE_CONFIG_H

#include <jansson.h>

#include "sif.h"

/* Objects larger than this are not image metadata; refuse them. */
#define IMAGE_CONFIG_MAX_SIZE (4u << 20)

/* Load and validate the image config.  *ret is the inner "config" object
 * (new reference), or NULL when the image has none.  Every field that is
 * present must have the type the OCI image spec gives it. */
int bundle_image_config_load(const struct sif_image *img, json_t **ret, oci_error **err);

/* Check the types of an image config object (used by bundle_image_config_load and
 * the fuzz harness). */
int image_config_validate(json_t *config, oci_error **err);

/* The object holding the root filesystem: the primary system partition of a
 * native SIF, or the single squashfs layer of an OCI-SIF.  Also checks that
 * it is squashfs and that the host can run its architecture. */
int bundle_image_rootfs_object(const struct sif_image *img, const struct sif_descriptor **ret,
                               oci_error **err);

/* OCI-SIF, for what reads the image itself (export): the image manifest
 * for this machine, as mount picks it (root index digest checked). */
int bundle_image_oci_manifest(const struct sif_image *img, json_t **ret, oci_error **err);

/* The object a JSON descriptor REF ({"digest", "size"}) names, its size
 * checked; WHAT names it in errors.  Its data is not hashed here. */
const struct sif_descriptor *bundle_image_oci_blob(const struct sif_image *img, json_t *ref,
                                                   const char *what, oci_error **err);

/* The JSON object REF names, read whole (at most IMAGE_CONFIG_MAX_SIZE)
 * and checked against its digest. */
int bundle_image_oci_json(const struct sif_image *img, json_t *ref, const char *what, json_t **ret,
                          oci_error **err);

#endif
