/* SPDX-License-Identifier: Apache-2.0 */
#include "inspect-oci.h"

#include <stdio.h>

#include "cleanup.h"
#include "image-config.h"
#include "text-escape.h"

static json_t *blob_ref(const struct sif_descriptor *d)
{
  return json_pack("{s:s, s:I, s:I}", "digest", d->digest, "size", (json_int_t)d->size, "object",
                   (json_int_t)d->id);
}

/* One image: its digests are the descriptors' (checked to be sha256 hex
 * when the blobs were read), its layers as the manifest lists them. */
static json_t *image_json(const struct bundle_oci_image *oi)
{
  json_t *platform =
      json_pack("{s:s, s:s}", "os", oi->platform.os, "architecture", oi->platform.arch);
  if (platform != NULL && oi->platform.variant[0] != '\0')
    json_object_set_new(platform, "variant", json_string(oi->platform.variant));
  json_t *layers = json_array();
  json_t *manifest_layers = json_object_get(oi->manifest, "layers");
  for (size_t i = 0; layers != NULL && i < oi->n_layers; i++) {
    const struct sif_descriptor *d = oi->layers[i];
    const char *mt =
        json_string_value(json_object_get(json_array_get(manifest_layers, i), "mediaType"));
    json_array_append_new(layers,
                          json_pack("{s:I, s:s, s:I, s:s, s:I}", "index", (json_int_t)i, "digest",
                                    d->digest, "size", (json_int_t)d->size, "mediaType",
                                    mt ? mt : "", "object", (json_int_t)d->id));
  }
  return json_pack("{s:o*, s:o*, s:o*, s:o*}", "platform", platform, "manifest",
                   blob_ref(oi->manifest_desc), "config", blob_ref(oi->config_desc), "layers",
                   layers);
}

int cli_inspect_oci_images(const struct sif_image *img, json_t **ret, oci_error **err)
{
  *ret = NULL;
  json_auto_t *entries = NULL;
  if (bundle_oci_index_images(img, &entries, err) < 0)
    return -1;
  json_auto_t *out = json_array();
  size_t i;
  json_t *entry;
  json_array_foreach(entries, i, entry)
  {
    struct bundle_oci_image oi;
    if (bundle_oci_image_load_entry(img, entry, false, &oi, err) < 0)
      return oci_error_prefix(err, "OCI image %zu", i + 1);
    json_t *o = image_json(&oi);
    bundle_oci_image_clear(&oi);
    if (o == NULL || json_array_append_new(out, o) < 0)
      return oci_error_set(err, 0, "building the OCI image list");
  }
  *ret = steal_ptr(&out);
  return 0;
}

static void print_blob(const char *what, json_t *ref)
{
  printf("  %-9s %s  %lld bytes  (object %lld)\n", what,
         json_string_value(json_object_get(ref, "digest")),
         (long long)json_integer_value(json_object_get(ref, "size")),
         (long long)json_integer_value(json_object_get(ref, "object")));
}

void cli_inspect_oci_print(json_t *images)
{
  size_t i;
  json_t *im;
  json_array_foreach(images, i, im)
  {
    json_t *p = json_object_get(im, "platform");
    const char *variant = json_string_value(json_object_get(p, "variant"));
    /* the platform is the image's own text */
    cleanup_free char *os = text_escape(json_string_value(json_object_get(p, "os")));
    cleanup_free char *arch = text_escape(json_string_value(json_object_get(p, "architecture")));
    cleanup_free char *var = variant ? text_escape(variant) : NULL;
    printf("\nOCI image %zu of %zu: platform %s/%s%s%s\n", i + 1, json_array_size(images),
           os && *os ? os : "?", arch && *arch ? arch : "?", var ? "/" : "", var ? var : "");
    print_blob("manifest", json_object_get(im, "manifest"));
    print_blob("config", json_object_get(im, "config"));
    size_t j;
    json_t *l;
    json_array_foreach(json_object_get(im, "layers"), j, l)
    {
      cleanup_free char *mt = text_escape(json_string_value(json_object_get(l, "mediaType")));
      printf("  layer %-3zu %s  %lld bytes  %s\n", j,
             json_string_value(json_object_get(l, "digest")),
             (long long)json_integer_value(json_object_get(l, "size")), mt ? mt : "?");
    }
  }
}
