/* SPDX-License-Identifier: Apache-2.0 */
#include "overlay-partition.h"

#include <stdint.h>
#include <unistd.h>

#include "overlay-image.h"

/* the ext2/3/4 superblock: 1024 bytes in, magic at +56 */
#define EXT_SUPER_MAGIC_OFFSET (1024 + 56)
#define EXT_SUPER_MAGIC 0xEF53

static int check_ext3(const struct sif_image *img, const struct sif_descriptor *d, oci_error **err)
{
  uint8_t magic[2];
  if (d->size < EXT_SUPER_MAGIC_OFFSET + 2 ||
      pread(img->fd, magic, sizeof(magic), d->offset + EXT_SUPER_MAGIC_OFFSET) !=
          (ssize_t)sizeof(magic))
    return oci_error_set(err, 0, "overlay partition %u is too short for an ext3 file system",
                         d->id);
  if ((magic[0] | magic[1] << 8) != EXT_SUPER_MAGIC)
    return oci_error_set(err, 0, "overlay partition %u says ext3 but holds no ext3 superblock",
                         d->id);
  return 0;
}

int bundle_sif_overlay_find(const struct sif_image *img, const struct sif_descriptor *primary,
                            const struct sif_descriptor **ret, oci_error **err)
{
  const struct sif_descriptor *found = NULL;
  for (size_t i = 0; i < img->n_descs; i++) {
    const struct sif_descriptor *d = &img->descs[i];
    /* SingularityCE ignores overlays of another group: so do we */
    if (d->datatype != SIF_DATA_PARTITION || d->parttype != SIF_PART_OVERLAY ||
        d->groupid_raw != primary->groupid_raw)
      continue;
    if (d->fstype != SIF_FS_EXT3)
      return oci_error_set(err, 0, "overlay partition %u is %s, not ext3", d->id,
                           sif_fstype_name(d->fstype));
    if (found != NULL)
      return oci_error_set(err, 0, "overlay partitions %u and %u: only one is supported", found->id,
                           d->id);
    found = d;
  }
  if (found == NULL)
    return 0;
  if (check_ext3(img, found, err) < 0)
    return -1;
  *ret = found;
  return 1;
}

int bundle_sif_overlay_fsck(const char *device, unsigned id, oci_error **err)
{
  int status = 0;
  if (bundle_ext3_fsck(device, &status, err) < 0)
    return oci_error_prefix(err, "--writable: overlay partition %u", id);
  if (status == 0)
    return 0;
  return oci_error_set(err, 0,
                       "--writable: e2fsck -n finds overlay partition %u damaged (exit %d): "
                       "repair it first (e2fsck on its offset) or mount without --writable",
                       id, status);
}
