/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the SIF reader and what is read through it: header, descriptors,
 * primary partition choice, image config and OCI-SIF index/manifest,
 * every image of an index and the layers of one chosen by platform. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "image-config.h"
#include "sif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  int fd = memfd_create("fuzz.sif", MFD_CLOEXEC);
  if (fd < 0)
    return 0;
  if (size > 0 && write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  struct sif_image *img = NULL;
  oci_error *err = NULL;
  if (sif_load_fd(fd, "fuzz.sif", &img, &err) == 0) {
    const struct sif_descriptor *d = NULL;
    json_t *config = NULL;
    oci_error_free(&err);
    (void)sif_primary_partition(img, &d, &err);
    oci_error_free(&err);
    (void)bundle_image_rootfs_object(img, &d, &err);
    oci_error_free(&err);
    if (bundle_image_config_load(img, &config, &err) == 0)
      json_decref(config);
    oci_error_free(&err);
    /* every image of an index, as oci inspect lists them, and a
     * --platform choice among them */
    json_t *images = NULL;
    if (sif_is_oci(img) && bundle_oci_index_images(img, &images, &err) == 0) {
      size_t i;
      json_t *entry;
      json_array_foreach(images, i, entry)
      {
        struct bundle_oci_image oi;
        if (bundle_oci_image_load_entry(img, entry, false, &oi, &err) == 0) {
          if (oi.n_layers == 0 || oi.n_layers > BUNDLE_LAYERS_MAX)
            abort();
          bundle_oci_image_clear(&oi);
        }
        oci_error_free(&err);
      }
      json_decref(images);
    }
    oci_error_free(&err);
    struct bundle_platform p;
    const struct sif_descriptor *layers[BUNDLE_LAYERS_MAX];
    size_t n = 0;
    if (bundle_platform_parse("linux/arm/v7", &p, &err) == 0 &&
        bundle_image_rootfs_layers(img, &p, layers, &n, &err) == 0 &&
        (n == 0 || n > BUNDLE_LAYERS_MAX))
      abort();
    sif_close(img);
  }
  oci_error_free(&err);
  return 0;
}
