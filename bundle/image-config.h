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
#include <stdbool.h>

#include "sif.h"

/* Layers an OCI-SIF image may have: each is a loop device and a mount. */
#define BUNDLE_LAYERS_MAX 128

/* An OCI platform: os/architecture[/variant] (--platform). */
struct bundle_platform {
  char os[32];
  char arch[32];
  char variant[32]; /* "" for none */
};

/* Parse "os/arch[/variant]". */
int bundle_platform_parse(const char *text, struct bundle_platform *ret, oci_error **err);

/* The image of an OCI-SIF for one platform: root index -> manifest ->
 * config blob and layers.  The manifest and config blobs are hashed;
 * the layers only found and their sizes checked against the manifest. */
struct bundle_oci_image {
  json_t *manifest;
  json_t *config_blob; /* the whole config blob (architecture, os, config, ...) */
  const struct sif_descriptor *manifest_desc, *config_desc;
  const struct sif_descriptor *layers[BUNDLE_LAYERS_MAX]; /* layers[0] is the bottom one */
  size_t n_layers;
  struct bundle_platform platform; /* what the index entry names (fields "" when not) */
};

/* PLATFORM NULL (or os ""): the host's, linux/ARCH, any variant.  An
 * index that holds no image for it: the error lists what it holds. */
int bundle_oci_image_load(const struct sif_image *img, const struct bundle_platform *platform,
                          struct bundle_oci_image *ret, oci_error **err);
void bundle_oci_image_clear(struct bundle_oci_image *oi);

/* The index's image entries (cosign signatures left out), a new array:
 * what `oci inspect` lists. */
int bundle_oci_index_images(const struct sif_image *img, json_t **ret, oci_error **err);
/* The image of one of those entries; CHECK_ARCH: refuse an architecture
 * this machine does not run (inspect shows any). */
int bundle_oci_image_load_entry(const struct sif_image *img, json_t *entry, bool check_arch,
                                struct bundle_oci_image *ret, oci_error **err);

/* Objects larger than this are not image metadata; refuse them. */
#define IMAGE_CONFIG_MAX_SIZE (4u << 20)

/* Load and validate the image config.  *ret is the inner "config" object
 * (new reference), or NULL when the image has none.  Every field that is
 * present must have the type the OCI image spec gives it. */
int bundle_image_config_load(const struct sif_image *img, json_t **ret, oci_error **err);
/* The same for the image of PLATFORM (NULL: the host's) in an OCI-SIF. */
int bundle_image_config_load_for(const struct sif_image *img,
                                 const struct bundle_platform *platform, json_t **ret,
                                 oci_error **err);

/* Check the types of an image config object (used by bundle_image_config_load and
 * the fuzz harness). */
int image_config_validate(json_t *config, oci_error **err);

/* The objects holding the root filesystem, bottom first, into RET (room
 * for BUNDLE_LAYERS_MAX): the primary system partition of a native SIF, or
 * every squashfs layer of the OCI-SIF's image for PLATFORM (NULL: the
 * host's), each hashed (streaming) against its digest.  Also checks that
 * they are squashfs and that the host can run their architecture. */
int bundle_image_rootfs_layers(const struct sif_image *img, const struct bundle_platform *platform,
                               const struct sif_descriptor **ret, size_t *ret_n, oci_error **err);

/* The single object holding the root filesystem (an OCI-SIF with more than
 * one layer is refused). */
int bundle_image_rootfs_object(const struct sif_image *img, const struct sif_descriptor **ret,
                               oci_error **err);

#endif
