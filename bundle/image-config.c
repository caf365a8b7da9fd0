/* SPDX-License-Identifier: Apache-2.0 */
#include "image-config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "sif-digest.h"

#define OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define DOCKER_MANIFEST_TYPE "application/vnd.docker.distribution.manifest.v2+json"
#define SQUASHFS_LAYER_TYPE "application/vnd.sylabs.image.layer.v1.squashfs"
#define COSIGN_REF_PREFIX "sha256-"

static int load_json_object(const struct sif_image *img, const struct sif_descriptor *d,
                            const char *what, json_t **ret, oci_error **err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  if (sif_read_object(img, d, IMAGE_CONFIG_MAX_SIZE, &data, &len, err) < 0)
    return oci_error_prefix(err, "%s", what);
  bool oci = d->datatype == SIF_DATA_OCI_BLOB || d->datatype == SIF_DATA_OCI_ROOT_INDEX;
  if (oci && sif_blob_check_data(d, data, len, err) < 0)
    return oci_error_prefix(err, "%s", what);
  json_error_t jerr;
  /* DECODE_ANY so that a JSON scalar is reported as "not an object". */
  json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  if (j == NULL && json_error_code(&jerr) == json_error_null_character)
    return oci_error_set(err, 0, "%s holds a NUL character (\\u0000) in a string (line %d)", what,
                         jerr.line);
  if (j == NULL)
    return oci_error_set(err, 0, "%s is not valid JSON: %s (line %d)", what, jerr.text, jerr.line);
  if (!json_is_object(j)) {
    json_decref(j);
    return oci_error_set(err, 0, "%s is not a JSON object", what);
  }
  *ret = j;
  return 0;
}

static int check_string_array(json_t *config, const char *key, oci_error **err)
{
  json_t *v = json_object_get(config, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_array(v))
    return oci_error_set(err, 0, "image config: %s must be an array of strings", key);
  size_t i;
  json_t *e;
  json_array_foreach(v, i, e)
  {
    if (!json_is_string(e))
      return oci_error_set(err, 0, "image config: %s[%zu] is not a string", key, i);
    if (strlen(json_string_value(e)) != json_string_length(e))
      return oci_error_set(err, 0, "image config: %s[%zu] contains a NUL byte", key, i);
  }
  return 0;
}

static int check_string(json_t *config, const char *key, oci_error **err)
{
  json_t *v = json_object_get(config, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_string(v))
    return oci_error_set(err, 0, "image config: %s must be a string", key);
  if (strlen(json_string_value(v)) != json_string_length(v))
    return oci_error_set(err, 0, "image config: %s contains a NUL byte", key);
  return 0;
}

static int check_object(json_t *config, const char *key, bool string_values, oci_error **err)
{
  json_t *v = json_object_get(config, key);
  if (v == NULL || json_is_null(v))
    return 0;
  if (!json_is_object(v))
    return oci_error_set(err, 0, "image config: %s must be an object", key);
  const char *k;
  json_t *e;
  json_object_foreach(v, k, e)
  {
    if (string_values && !json_is_string(e))
      return oci_error_set(err, 0, "image config: %s['%s'] is not a string", key, k);
  }
  return 0;
}

int image_config_validate(json_t *config, oci_error **err)
{
  if (!json_is_object(config))
    return oci_error_set(err, 0, "image config is not a JSON object");
  if (check_string_array(config, "Entrypoint", err) < 0 ||
      check_string_array(config, "Cmd", err) < 0 || check_string_array(config, "Env", err) < 0 ||
      check_string(config, "WorkingDir", err) < 0 || check_string(config, "User", err) < 0 ||
      check_string(config, "StopSignal", err) < 0 ||
      check_object(config, "Volumes", false, err) < 0 ||
      check_object(config, "Labels", true, err) < 0 ||
      check_object(config, "ExposedPorts", false, err) < 0)
    return -1;
  json_t *env = json_object_get(config, "Env");
  size_t i;
  json_t *e;
  json_array_foreach(env, i, e)
  {
    const char *s = json_string_value(e);
    if (s[0] == '=' || s[0] == '\0')
      return oci_error_set(err, 0, "image config: Env[%zu] has no variable name", i);
  }
  return 0;
}

/* The blob a JSON descriptor ({"digest", "size"}) refers to; the size it
 * names must be the object's. */
static const struct sif_descriptor *find_blob(const struct sif_image *img, json_t *ref,
                                              const char *what, oci_error **err)
{
  const char *digest = json_string_value(json_object_get(ref, "digest"));
  if (digest == NULL) {
    oci_error_set(err, 0, "%s has no digest", what);
    return NULL;
  }
  const struct sif_descriptor *d = sif_find_digest(img, digest);
  if (d == NULL) {
    oci_error_set(err, 0, "%s %s is not in the image", what, digest);
    return NULL;
  }
  json_t *size = json_object_get(ref, "size");
  if (!json_is_integer(size) || json_integer_value(size) != d->size) {
    oci_error_set(err, 0, "%s %s: the size its descriptor names is not the object's (%lld bytes)",
                  what, digest, (long long)d->size);
    return NULL;
  }
  return d;
}

/* The SIF code of an OCI (Go) architecture name, "00" when it has none. */
static void oci_arch_code(const char *name, char ret[3])
{
  for (int n = 1; n < 100; n++) {
    char code[3] = {(char)('0' + n / 10), (char)('0' + n % 10), '\0'};
    const char *known = sif_arch_name(code);
    if (known == NULL)
      break;
    if (strcmp(known, name) == 0) {
      memcpy(ret, code, 3);
      return;
    }
  }
  memcpy(ret, "00", 3);
}

/* An OCI architecture name this machine runs; an unknown name never. */
static bool oci_arch_runnable(const char *name)
{
  char code[3];
  oci_arch_code(name, code);
  return strcmp(code, "00") != 0 && sif_arch_runnable(code);
}

static const char *host_arch_name(void)
{
  const char *name = sif_arch_name(sif_host_arch());
  return name ? name : "unknown";
}

/* An index entry for this machine: os linux (or unsaid) and the host's
 * architecture.  Entries that name no platform match too: a single-image
 * index often leaves it out, and the config's architecture is checked
 * later anyway. */
static bool platform_matches_host(json_t *entry)
{
  json_t *platform = json_object_get(entry, "platform");
  if (platform == NULL)
    return true;
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  if (os != NULL && strcmp(os, "linux") != 0)
    return false;
  return arch == NULL || strcmp(arch, host_arch_name()) == 0;
}

static void append_platform(char *buf, size_t size, json_t *entry)
{
  json_t *platform = json_object_get(entry, "platform");
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  size_t len = strlen(buf);
  if (len + 1 >= size)
    return;
  snprintf(buf + len, size - len, "%s%.32s/%.32s", len ? ", " : "", os ? os : "?",
           arch ? arch : "?");
}

/* OCI-SIF: root index -> the image manifest for this machine (cosign
 * signatures skipped; among several images the one whose platform is the
 * host's). */
static int load_oci_manifest(const struct sif_image *img, json_t **ret, oci_error **err)
{
  const struct sif_descriptor *idx_desc = NULL;
  for (size_t i = 0; i < img->n_descs; i++) {
    if (img->descs[i].datatype != SIF_DATA_OCI_ROOT_INDEX)
      continue;
    if (idx_desc != NULL)
      return oci_error_set(err, 0, "OCI-SIF has more than one root index");
    idx_desc = &img->descs[i];
  }
  if (idx_desc == NULL)
    return oci_error_set(err, 0, "OCI-SIF has no root index");
  json_auto_t *index = NULL;
  if (load_json_object(img, idx_desc, "OCI root index", &index, err) < 0)
    return -1;
  json_t *manifests = json_object_get(index, "manifests");
  if (!json_is_array(manifests))
    return oci_error_set(err, 0, "OCI root index has no manifests array");
  json_t *chosen = NULL;
  size_t n_images = 0;
  char seen[256] = "";
  size_t i;
  json_t *m;
  json_array_foreach(manifests, i, m)
  {
    const char *mt = json_string_value(json_object_get(m, "mediaType"));
    const char *ref = json_string_value(
        json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
    if (mt == NULL || (strcmp(mt, OCI_MANIFEST_TYPE) != 0 && strcmp(mt, DOCKER_MANIFEST_TYPE) != 0))
      continue;
    if (ref != NULL && strstr(ref, COSIGN_REF_PREFIX) != NULL && strstr(ref, ".sig") != NULL)
      continue;
    n_images++;
    append_platform(seen, sizeof(seen), m);
    if (!platform_matches_host(m))
      continue;
    if (chosen != NULL)
      return oci_error_set(err, 0, "OCI-SIF holds more than one image for linux/%s",
                           host_arch_name());
    chosen = m;
  }
  if (n_images == 0)
    return oci_error_set(err, 0, "OCI root index names no image manifest");
  if (chosen == NULL)
    return oci_error_set(err, 0, "OCI-SIF holds no image for linux/%s (it holds %s)",
                         host_arch_name(), seen);
  const struct sif_descriptor *md = find_blob(img, chosen, "OCI manifest", err);
  if (md == NULL)
    return -1;
  return load_json_object(img, md, "OCI manifest", ret, err);
}

int bundle_image_config_load(const struct sif_image *img, json_t **ret, oci_error **err)
{
  *ret = NULL;
  if (sif_is_oci(img)) {
    json_auto_t *manifest = NULL;
    if (load_oci_manifest(img, &manifest, err) < 0)
      return -1;
    const struct sif_descriptor *cd =
        find_blob(img, json_object_get(manifest, "config"), "OCI image config", err);
    if (cd == NULL)
      return -1;
    json_auto_t *blob = NULL;
    if (load_json_object(img, cd, "OCI image config", &blob, err) < 0)
      return -1;
    const char *arch = json_string_value(json_object_get(blob, "architecture"));
    if (arch != NULL && !oci_arch_runnable(arch))
      return oci_error_set(err, 0, "OCI image config: the image is for %.32s, this machine runs %s",
                           arch, host_arch_name());
    json_t *config = json_object_get(blob, "config");
    if (config == NULL || json_is_null(config))
      return 0;
    if (image_config_validate(config, err) < 0)
      return -1;
    *ret = json_incref(config);
    return 0;
  }
  const struct sif_descriptor *d = sif_find_named(img, SIF_DATA_GENERIC_JSON, "oci-config.json");
  if (d == NULL)
    return 0;
  json_auto_t *config = NULL;
  if (load_json_object(img, d, "oci-config.json", &config, err) < 0)
    return -1;
  if (image_config_validate(config, err) < 0)
    return oci_error_prefix(err, "oci-config.json");
  *ret = steal_ptr(&config);
  return 0;
}

static int check_rootfs_object(const struct sif_descriptor *d, oci_error **err)
{
  if (!sif_arch_runnable(d->arch)) {
    const char *name = sif_arch_name(d->arch);
    return oci_error_set(err, 0, "partition %u is for %s, this machine runs %s", d->id,
                         name ? name : d->arch, sif_arch_name(sif_host_arch()));
  }
  return 0;
}

int bundle_image_rootfs_object(const struct sif_image *img, const struct sif_descriptor **ret,
                               oci_error **err)
{
  if (!sif_is_oci(img)) {
    const struct sif_descriptor *d;
    if (sif_primary_partition(img, &d, err) < 0)
      return -1;
    if (d->fstype != SIF_FS_SQUASH)
      return oci_error_set(err, 0, "partition %u holds %s, only squashfs can be mounted", d->id,
                           sif_fstype_name(d->fstype));
    if (check_rootfs_object(d, err) < 0)
      return -1;
    *ret = d;
    return 0;
  }
  json_auto_t *manifest = NULL;
  if (load_oci_manifest(img, &manifest, err) < 0)
    return -1;
  json_t *layers = json_object_get(manifest, "layers");
  if (!json_is_array(layers) || json_array_size(layers) == 0)
    return oci_error_set(err, 0, "OCI manifest has no layers");
  if (json_array_size(layers) > 1)
    return oci_error_set(err, 0, "OCI-SIF with %zu layers: only single-layer images are supported",
                         json_array_size(layers));
  json_t *layer = json_array_get(layers, 0);
  const char *mt = json_string_value(json_object_get(layer, "mediaType"));
  if (mt == NULL || strcmp(mt, SQUASHFS_LAYER_TYPE) != 0)
    return oci_error_set(err, 0, "OCI layer is '%s', only squashfs layers can be mounted",
                         mt ? mt : "(no media type)");
  const struct sif_descriptor *d = find_blob(img, layer, "OCI layer", err);
  if (d == NULL)
    return -1;
  /* The whole layer is read and hashed before the kernel sees it.  What it
   * then mounts is what was checked unless someone who can write the image
   * file rewrites it meanwhile: nobody else's image is safer than its
   * owner. */
  if (sif_blob_verify(img, d, err) < 0)
    return oci_error_prefix(err, "OCI layer");
  *ret = d;
  return 0;
}

int bundle_image_oci_manifest(const struct sif_image *img, json_t **ret, oci_error **err)
{
  return load_oci_manifest(img, ret, err);
}

const struct sif_descriptor *bundle_image_oci_blob(const struct sif_image *img, json_t *ref,
                                                   const char *what, oci_error **err)
{
  return find_blob(img, ref, what, err);
}

int bundle_image_oci_json(const struct sif_image *img, json_t *ref, const char *what, json_t **ret,
                          oci_error **err)
{
  const struct sif_descriptor *d = find_blob(img, ref, what, err);
  return d == NULL ? -1 : load_json_object(img, d, what, ret, err);
}
