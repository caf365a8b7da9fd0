/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the SIF reader and what is read through it: header, descriptors,
 * primary partition choice, image config and OCI-SIF index/manifest. */
#include <stddef.h>
#include <stdint.h>
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
    sif_close(img);
  }
  oci_error_free(&err);
  return 0;
}
