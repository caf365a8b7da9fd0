/* SPDX-License-Identifier: Apache-2.0 */
/* oci inspect: a SIF image's objects (as `siftool list` shows them) and its
 * image config; or a bundle's mount record (inspect-bundle.c). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "cli.h"
#include "image-config.h"
#include "inspect-bundle.h"
#include "inspect-oci.h"
#include "sif.h"
#include "text-escape.h"

static const char *const config_keys[] = {"Entrypoint", "Cmd",     "Env",   "WorkingDir",
                                          "User",       "Volumes", "Labels"};

static void format_group(char *buf, size_t len, uint32_t raw)
{
  if (sif_group(raw) == 0)
    snprintf(buf, len, "NONE");
  else
    snprintf(buf, len, "%" PRIu32, sif_group(raw));
}

static void format_link(char *buf, size_t len, uint32_t raw)
{
  if (raw == 0)
    snprintf(buf, len, "NONE");
  else if ((raw & SIF_GROUP_MASK) == SIF_GROUP_MASK)
    snprintf(buf, len, "%" PRIu32 " (G)", sif_group(raw));
  else
    snprintf(buf, len, "%" PRIu32, raw);
}

static void format_type(char *buf, size_t len, const struct sif_descriptor *d)
{
  if (d->datatype == SIF_DATA_PARTITION) {
    const char *arch = sif_arch_name(d->arch);
    snprintf(buf, len, "FS (%s/%s/%s)", sif_fstype_name(d->fstype), sif_parttype_name(d->parttype),
             arch ? arch : d->arch);
  } else {
    snprintf(buf, len, "%s", sif_datatype_name(d->datatype));
  }
}

static void print_table(const struct sif_image *img, json_t *config)
{
  printf("%-5s|%-8s|%-8s|%-26s|%s\n", "ID", "GROUP", "LINK", "SIF POSITION (start-end)", "TYPE");
  for (size_t i = 0; i < img->n_descs; i++) {
    const struct sif_descriptor *d = &img->descs[i];
    char group[16], link[24], pos[48], type[96];
    format_group(group, sizeof(group), d->groupid_raw);
    format_link(link, sizeof(link), d->link_raw);
    snprintf(pos, sizeof(pos), "%" PRId64 "-%" PRId64, d->offset, d->offset + d->size);
    format_type(type, sizeof(type), d);
    /* names, digests and the arch are the image's bytes: escaped */
    cleanup_free char *type_text = text_escape(type);
    printf("%-5" PRIu32 "|%-8s|%-8s|%-26s|%s", d->id, group, link, pos, type_text ?: "?");
    if (d->name[0]) {
      cleanup_free char *name = text_escape(d->name);
      printf("  name=%s", name ?: "?");
    }
    if (d->digest[0]) {
      cleanup_free char *digest = text_escape(d->digest);
      printf("  %s", digest ?: "?");
    }
    putchar('\n');
  }
  if (config == NULL)
    return;
  printf("\nImage config:\n");
  for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
    json_t *v = json_object_get(config, config_keys[i]);
    if (v == NULL || json_is_null(v))
      continue;
    if (json_is_string(v)) {
      cleanup_free char *text = text_escape(json_string_value(v));
      printf("  %-11s %s\n", config_keys[i], text ?: "?");
      continue;
    }
    cleanup_free char *text = json_dumps(v, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
    printf("  %-11s %s\n", config_keys[i], text ? text : "?");
  }
}

static json_t *descriptor_json(const struct sif_descriptor *d)
{
  json_t *o = json_pack("{s:I, s:s, s:i, s:I, s:I, s:I, s:I, s:I}", "id", (json_int_t)d->id, "type",
                        sif_datatype_name(d->datatype), "datatype", d->datatype, "group",
                        (json_int_t)sif_group(d->groupid_raw), "link", (json_int_t)d->link_raw,
                        "offset", (json_int_t)d->offset, "size", (json_int_t)d->size,
                        "sizeWithPadding", (json_int_t)d->size_with_padding);
  if (o == NULL)
    return NULL;
  /* a name that is not UTF-8 cannot be a JSON string: its escaped form is */
  if (d->name[0]) {
    json_t *name = json_string(d->name);
    if (name == NULL) {
      cleanup_free char *text = text_escape(d->name);
      name = json_string(text ? text : "?");
    }
    json_object_set_new(o, "name", name);
  }
  if (d->datatype == SIF_DATA_PARTITION) {
    const char *arch = sif_arch_name(d->arch);
    json_object_set_new(o, "partition",
                        json_pack("{s:s, s:s, s:s}", "fs", sif_fstype_name(d->fstype), "type",
                                  sif_parttype_name(d->parttype), "arch", arch ? arch : d->arch));
  }
  if (d->digest[0])
    json_object_set_new(o, "digest", json_string(d->digest));
  return o;
}

static int print_json(const struct sif_image *img, json_t *config, json_t *oci_images,
                      oci_error **err)
{
  char uuid[37];
  const uint8_t *u = img->uuid;
  snprintf(uuid, sizeof(uuid),
           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
           u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  const char *arch = sif_arch_name(img->arch);
  json_auto_t *out =
      json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:[]}", "image", img->path, "id", uuid, "arch",
                arch ? arch : img->arch, "launchScript", img->launch_script, "descriptorsTotal",
                (json_int_t)img->descriptors_total, "descriptorsFree",
                (json_int_t)img->descriptors_free, "descriptors");
  if (out == NULL)
    return oci_error_set(err, 0, "building JSON output");
  json_t *arr = json_object_get(out, "descriptors");
  for (size_t i = 0; i < img->n_descs; i++)
    json_array_append_new(arr, descriptor_json(&img->descs[i]));
  if (config)
    json_object_set(out, "config", config);
  if (oci_images)
    json_object_set(out, "ociImages", oci_images);
  cleanup_free char *text = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    return oci_error_set(err, 0, "building JSON output");
  puts(text);
  return 0;
}

enum { OPT_JSON = CLI_OPT_LONG };

static const struct cli_option options[] = {
    {"json", OPT_JSON, NULL, "print JSON instead of a table"},
    {NULL, 0, NULL, NULL},
};

static int cmd_inspect(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  bool as_json = false;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0)
    as_json = true; /* --json is the only one */
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  const char *path = argv[optind];
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return cli_inspect_bundle(path, as_json, err);
  cleanup_sif struct sif_image *img = NULL;
  json_auto_t *config = NULL, *oci_images = NULL;
  if (sif_open(path, &img, err) < 0 ||
      (sif_is_oci(img) && cli_inspect_oci_images(img, &oci_images, err) < 0) ||
      bundle_image_config_load(img, &config, err) < 0)
    return oci_error_prefix(err, "inspect '%s'", path);
  if (as_json)
    return print_json(img, config, oci_images, err) < 0
               ? oci_error_prefix(err, "inspect '%s'", path)
               : 0;
  print_table(img, config);
  if (oci_images)
    cli_inspect_oci_print(oci_images);
  return 0;
}

/* no CLI_ROOT: reading an image needs no privilege */
const struct cli_verb cli_verb_inspect = {
    .name = "inspect",
    .usage = "[--json] IMAGE|BUNDLE",
    .summary = "show a SIF image's objects and image config, or what oci mount made a bundle from",
    .options = {options},
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_inspect,
};
