/* SPDX-License-Identifier: Apache-2.0 */
#include "image-config.h"

#include <errno.h>
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

/* os, architecture, variant: short words of a-z, 0-9, '_', '-', '.' */
static bool platform_word_ok(const char *w, size_t len, size_t max)
{
  if (len == 0 || len >= max)
    return false;
  for (size_t i = 0; i < len; i++)
    if (!((w[i] >= 'a' && w[i] <= 'z') || (w[i] >= '0' && w[i] <= '9') || w[i] == '_' ||
          w[i] == '-' || w[i] == '.'))
      return false;
  return true;
}

int bundle_platform_parse(const char *text, struct bundle_platform *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  char *fields[3] = {ret->os, ret->arch, ret->variant};
  const char *p = text;
  size_t n = 0;
  for (;;) {
    size_t len = strcspn(p, "/");
    if (n == 3 || !platform_word_ok(p, len, sizeof(ret->os)))
      return oci_error_set(err, 0, "--platform '%s' is not OS/ARCH[/VARIANT] (e.g. linux/%s)", text,
                           host_arch_name());
    memcpy(fields[n++], p, len);
    if (p[len] == '\0')
      break;
    p += len + 1;
  }
  if (n < 2)
    return oci_error_set(err, 0, "--platform '%s' is not OS/ARCH[/VARIANT] (e.g. linux/%s)", text,
                         host_arch_name());
  return 0;
}

/* The platform asked for; the host's (linux/ARCH, any variant) when none. */
static struct bundle_platform wanted_platform(const struct bundle_platform *asked)
{
  struct bundle_platform p = {0};
  if (asked != NULL && asked->os[0] != '\0')
    return *asked;
  snprintf(p.os, sizeof(p.os), "linux");
  snprintf(p.arch, sizeof(p.arch), "%s", host_arch_name());
  return p;
}

static void platform_text(const struct bundle_platform *p, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%s%s%s", p->os, p->arch, p->variant[0] ? "/" : "", p->variant);
}

/* How well an index entry fits WANT: 0 not at all; 1 it names no
 * platform (a single-image index often leaves it out; the config's
 * architecture is checked later anyway) or a variant nobody asked for;
 * 2 an exact fit. */
static int platform_fit(json_t *entry, const struct bundle_platform *want)
{
  json_t *platform = json_object_get(entry, "platform");
  if (platform == NULL)
    return 1;
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  const char *variant = json_string_value(json_object_get(platform, "variant"));
  if ((os != NULL && strcmp(os, want->os) != 0) || (arch != NULL && strcmp(arch, want->arch) != 0))
    return 0;
  if (want->variant[0] != '\0')
    return variant != NULL && strcmp(variant, want->variant) == 0 ? 2 : 0;
  return variant == NULL || variant[0] == '\0' ? 2 : 1;
}

static void append_platform(char *buf, size_t size, json_t *entry)
{
  json_t *platform = json_object_get(entry, "platform");
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  const char *variant = json_string_value(json_object_get(platform, "variant"));
  size_t len = strlen(buf);
  if (len + 1 >= size)
    return;
  snprintf(buf + len, size - len, "%s%.32s/%.32s%s%.32s", len ? ", " : "", os ? os : "?",
           arch ? arch : "?", variant && variant[0] ? "/" : "", variant ? variant : "");
}

/* An image manifest entry of the index (cosign signatures skipped)? */
static bool is_image_entry(json_t *m)
{
  const char *mt = json_string_value(json_object_get(m, "mediaType"));
  const char *ref = json_string_value(
      json_object_get(json_object_get(m, "annotations"), "org.opencontainers.image.ref.name"));
  if (mt == NULL || (strcmp(mt, OCI_MANIFEST_TYPE) != 0 && strcmp(mt, DOCKER_MANIFEST_TYPE) != 0))
    return false;
  return ref == NULL || strstr(ref, COSIGN_REF_PREFIX) == NULL || strstr(ref, ".sig") == NULL;
}

int bundle_oci_index_images(const struct sif_image *img, json_t **ret, oci_error **err)
{
  *ret = NULL;
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
  json_auto_t *images = json_array();
  size_t i;
  json_t *m;
  json_array_foreach(manifests, i, m)
  {
    if (is_image_entry(m) && json_array_append(images, m) < 0)
      return oci_error_set(err, ENOMEM, "OCI root index");
  }
  if (json_array_size(images) == 0)
    return oci_error_set(err, 0, "OCI root index names no image manifest");
  *ret = steal_ptr(&images);
  return 0;
}

/* OCI-SIF: the index entry of the image for the platform: among several
 * the best fit, an exact one, else the only one that fits at all. */
static int choose_image(const struct sif_image *img, const struct bundle_platform *asked,
                        json_t **ret, oci_error **err)
{
  json_auto_t *images = NULL;
  if (bundle_oci_index_images(img, &images, err) < 0)
    return -1;
  struct bundle_platform want = wanted_platform(asked);
  char want_text[100];
  platform_text(&want, want_text, sizeof(want_text));
  json_t *chosen = NULL;
  int chosen_fit = 0;
  size_t n_best = 0;
  char seen[512] = "";
  size_t i;
  json_t *m;
  json_array_foreach(images, i, m)
  {
    append_platform(seen, sizeof(seen), m);
    int fit = platform_fit(m, &want);
    if (fit == 0 || fit < chosen_fit)
      continue;
    if (fit > chosen_fit)
      n_best = 0;
    n_best++;
    chosen = m;
    chosen_fit = fit;
  }
  if (chosen == NULL)
    return oci_error_set(err, 0, "OCI-SIF holds no image for %s (it holds %s)", want_text, seen);
  if (n_best > 1)
    return oci_error_set(err, 0,
                         "OCI-SIF holds more than one image for %s (it holds %s; --platform "
                         "OS/ARCH/VARIANT picks one)",
                         want_text, seen);
  *ret = json_incref(chosen);
  return 0;
}

static void entry_platform(json_t *entry, struct bundle_platform *ret)
{
  json_t *platform = json_object_get(entry, "platform");
  const char *os = json_string_value(json_object_get(platform, "os"));
  const char *arch = json_string_value(json_object_get(platform, "architecture"));
  const char *variant = json_string_value(json_object_get(platform, "variant"));
  memset(ret, 0, sizeof(*ret));
  snprintf(ret->os, sizeof(ret->os), "%s", os ? os : "");
  snprintf(ret->arch, sizeof(ret->arch), "%s", arch ? arch : "");
  snprintf(ret->variant, sizeof(ret->variant), "%s", variant ? variant : "");
}

int bundle_oci_image_load_entry(const struct sif_image *img, json_t *entry, bool check_arch,
                                struct bundle_oci_image *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  entry_platform(entry, &ret->platform);
  ret->manifest_desc = find_blob(img, entry, "OCI manifest", err);
  if (ret->manifest_desc == NULL ||
      load_json_object(img, ret->manifest_desc, "OCI manifest", &ret->manifest, err) < 0)
    goto fail;
  ret->config_desc =
      find_blob(img, json_object_get(ret->manifest, "config"), "OCI image config", err);
  if (ret->config_desc == NULL ||
      load_json_object(img, ret->config_desc, "OCI image config", &ret->config_blob, err) < 0)
    goto fail;
  const char *arch = json_string_value(json_object_get(ret->config_blob, "architecture"));
  if (check_arch && arch != NULL && !oci_arch_runnable(arch)) {
    oci_error_set(err, 0, "OCI image config: the image is for %.32s, this machine runs %s", arch,
                  host_arch_name());
    goto fail;
  }
  /* the index said which platform; the config must agree */
  if (arch != NULL && ret->platform.arch[0] != '\0' && strcmp(arch, ret->platform.arch) != 0) {
    oci_error_set(err, 0, "OCI image config: the image is for %.32s, its index entry says %s", arch,
                  ret->platform.arch);
    goto fail;
  }
  json_t *layers = json_object_get(ret->manifest, "layers");
  if (!json_is_array(layers) || json_array_size(layers) == 0) {
    oci_error_set(err, 0, "OCI manifest has no layers");
    goto fail;
  }
  if (json_array_size(layers) > BUNDLE_LAYERS_MAX) {
    oci_error_set(err, 0, "OCI manifest has %zu layers, at most %d are taken",
                  json_array_size(layers), BUNDLE_LAYERS_MAX);
    goto fail;
  }
  size_t i;
  json_t *layer;
  json_array_foreach(layers, i, layer)
  {
    const char *mt = json_string_value(json_object_get(layer, "mediaType"));
    if (mt == NULL || strcmp(mt, SQUASHFS_LAYER_TYPE) != 0) {
      oci_error_set(err, 0, "OCI layer %zu is '%s', only squashfs layers can be mounted", i,
                    mt ? mt : "(no media type)");
      goto fail;
    }
    const struct sif_descriptor *d = find_blob(img, layer, "OCI layer", err);
    if (d == NULL)
      goto fail;
    ret->layers[ret->n_layers++] = d;
  }
  return 0;
fail:
  bundle_oci_image_clear(ret);
  return -1;
}

int bundle_oci_image_load(const struct sif_image *img, const struct bundle_platform *platform,
                          struct bundle_oci_image *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  json_auto_t *entry = NULL;
  if (choose_image(img, platform, &entry, err) < 0)
    return -1;
  return bundle_oci_image_load_entry(img, entry, true, ret, err);
}

void bundle_oci_image_clear(struct bundle_oci_image *oi)
{
  json_decref(oi->manifest);
  json_decref(oi->config_blob);
  memset(oi, 0, sizeof(*oi));
}

int bundle_image_config_load_for(const struct sif_image *img,
                                 const struct bundle_platform *platform, json_t **ret,
                                 oci_error **err)
{
  *ret = NULL;
  if (sif_is_oci(img)) {
    struct bundle_oci_image oi;
    if (bundle_oci_image_load(img, platform, &oi, err) < 0)
      return -1;
    json_t *config = json_object_get(oi.config_blob, "config");
    int r = 0;
    if (config != NULL && !json_is_null(config)) {
      r = image_config_validate(config, err);
      if (r == 0)
        *ret = json_incref(config);
    }
    bundle_oci_image_clear(&oi);
    return r;
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

int bundle_image_config_load(const struct sif_image *img, json_t **ret, oci_error **err)
{
  return bundle_image_config_load_for(img, NULL, ret, err);
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

int bundle_image_rootfs_layers(const struct sif_image *img, const struct bundle_platform *platform,
                               const struct sif_descriptor **ret, size_t *ret_n, oci_error **err)
{
  *ret_n = 0;
  if (!sif_is_oci(img)) {
    const struct sif_descriptor *d;
    if (sif_primary_partition(img, &d, err) < 0)
      return -1;
    if (d->fstype != SIF_FS_SQUASH)
      return oci_error_set(err, 0, "partition %u holds %s, only squashfs can be mounted", d->id,
                           sif_fstype_name(d->fstype));
    if (check_rootfs_object(d, err) < 0)
      return -1;
    ret[0] = d;
    *ret_n = 1;
    return 0;
  }
  struct bundle_oci_image oi;
  if (bundle_oci_image_load(img, platform, &oi, err) < 0)
    return -1;
  /* Every layer is read and hashed, streaming, before the kernel sees it.
   * What it then mounts is what was checked unless someone who can write
   * the image file rewrites it meanwhile: nobody else's image is safer
   * than its owner. */
  size_t n = 0;
  for (size_t i = 0; i < oi.n_layers; i++) {
    /* A blob named again higher up (an image that repeats a layer, often
     * an empty one) is taken there only: overlayfs refuses one file system
     * twice among its lower dirs, and the upper copy covers all the lower
     * one holds, its whiteouts and opaque directories included. */
    bool again = false;
    for (size_t j = i + 1; j < oi.n_layers && !again; j++)
      again = oi.layers[j] == oi.layers[i];
    if (again)
      continue;
    if (sif_blob_verify(img, oi.layers[i], err) < 0) {
      bundle_oci_image_clear(&oi);
      return oci_error_prefix(err, "OCI layer");
    }
    ret[n++] = oi.layers[i];
  }
  *ret_n = n;
  bundle_oci_image_clear(&oi);
  return 0;
}

int bundle_image_rootfs_object(const struct sif_image *img, const struct sif_descriptor **ret,
                               oci_error **err)
{
  const struct sif_descriptor *layers[BUNDLE_LAYERS_MAX];
  size_t n = 0;
  if (bundle_image_rootfs_layers(img, NULL, layers, &n, err) < 0)
    return -1;
  if (n > 1)
    return oci_error_set(err, 0, "OCI-SIF with %zu layers: no single root file system object", n);
  *ret = layers[0];
  return 0;
}
