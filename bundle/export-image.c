/* SPDX-License-Identifier: Apache-2.0 */
#include "export-image.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cleanup.h"
#include "export-dir.h"
#include "export-layer.h"
#include "export-layout.h"
#include "image-config.h"
#include "image-source.h"
#include "image-to-spec.h"
#include "sif-digest.h"
#include "sif.h"
#include "squashfs-image.h"

#define LAYER_TAR_TYPE "application/vnd.oci.image.layer.v1.tar"
#define CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define SQUASHFS_LAYER_TYPE "application/vnd.sylabs.image.layer.v1.squashfs"
#define REF_ANNOTATION "org.opencontainers.image.ref.name"
#define MAX_REF 255

struct export
{
  struct bundle_layout layout;
  int stop_fd;
  json_t *layers;   /* manifest descriptors */
  json_t *diff_ids; /* the config's */
  struct bundle_export_result *res;
};

/* SQ, or else the sandbox directory DIR_FD, as the next layer. */
static int add_layer(struct export *x, struct bundle_sqfs *sq, int dir_fd, bool whiteouts,
                     oci_error **err)
{
  char name[32];
  cleanup_close int fd = -1;
  struct bundle_layer_result lr;
  if (bundle_layout_blob_open(&x->layout, name, &fd, err) < 0)
    return -1;
  int r = sq ? bundle_export_layer(sq, fd, whiteouts, x->stop_fd, &lr, err)
             : bundle_export_dir_layer(dir_fd, fd, x->stop_fd, &lr, err);
  if (r < 0 || bundle_layout_commit(&x->layout, name, lr.digest_hex, err) < 0)
    return -1;
  json_t *desc = json_pack("{s:s, s:s+, s:I}", "mediaType", LAYER_TAR_TYPE, "digest",
                           "sha256:", lr.digest_hex, "size", (json_int_t)lr.size);
  if (json_array_append_new(x->layers, desc) < 0 ||
      json_array_append_new(x->diff_ids, json_pack("s+", "sha256:", lr.digest_hex)) < 0)
    return oci_error_set(err, ENOMEM, "export");
  x->res->layers++;
  x->res->whiteouts += lr.whiteouts;
  x->res->opaque_dirs += lr.opaque_dirs;
  x->res->sockets_skipped += lr.sockets_skipped;
  return 0;
}

static bool nonempty_array(json_t *cfg, const char *key)
{
  json_t *v = json_object_get(cfg, key);
  return json_is_array(v) && json_array_size(v) > 0;
}

/* The process env `oci mount` gives, but the terminal type: that is the
 * engine's to set when it gives a terminal. */
static json_t *image_env(json_t *env)
{
  json_t *out = json_array();
  size_t i;
  json_t *e;
  json_array_foreach(env, i, e)
  {
    if (strncmp(json_string_value(e), "TERM=", 5) != 0)
      json_array_append(out, e);
  }
  return out;
}

static const char *native_arch(const struct bundle_image_source *src)
{
  /* a sandbox has neither */
  const char *codes[] = {src->rootfs ? src->rootfs->arch : NULL, src->img ? src->img->arch : NULL,
                         sif_host_arch()};
  for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
    const char *name = sif_arch_name(codes[i]);
    if (name != NULL && strcmp(codes[i], "00") != 0)
      return name;
  }
  return "unknown";
}

/* A native SIF's (or squashfs') config: what `oci mount` would run. */
static int native_config(struct export *x, struct bundle_image_source *src,
                         const struct bundle_image_files *files, json_t **ret, oci_error **err)
{
  struct bundle_spec spec;
  /* the bundle path only names mount sources, which are not used here */
  if (bundle_spec_build(src->config, files, "/", &spec, err) < 0)
    return -1;
  json_t *process = json_object_get(spec.config, "process");
  json_auto_t *cfg = src->config ? json_deep_copy(src->config) : json_object();
  int r = cfg ? 0 : -1;
  if (r == 0 && !nonempty_array(cfg, "Entrypoint") && !nonempty_array(cfg, "Cmd"))
    r = json_object_set(cfg, "Cmd", json_object_get(process, "args"));
  if (r == 0 && json_object_get(cfg, "Env") == NULL)
    r = json_object_set_new(cfg, "Env", image_env(json_object_get(process, "env")));
  bundle_spec_clear(&spec);
  if (r < 0)
    return oci_error_set(err, ENOMEM, "export");
  *ret = json_pack("{s:s, s:s, s:O, s:{s:s, s:O}}", "architecture", native_arch(src), "os", "linux",
                   "config", cfg, "rootfs", "type", "layers", "diff_ids", x->diff_ids);
  return *ret ? 0 : oci_error_set(err, ENOMEM, "export");
}

static int native_layers(struct export *x, struct bundle_image_source *src, json_t **ret_config,
                         oci_error **err)
{
  struct bundle_image_files files;
  if (src->kind == BUNDLE_IMAGE_SANDBOX) {
    bundle_image_source_dir_files(src, &files);
    if (add_layer(x, NULL, src->dir_fd, false, err) < 0)
      return -1;
    return native_config(x, src, &files, ret_config, err);
  }
  cleanup_sqfs struct bundle_sqfs *sq = NULL;
  if (bundle_sqfs_open(src->img->fd, src->rootfs->offset, src->rootfs->size, src->what, &sq, err) <
          0 ||
      add_layer(x, sq, -1, false, err) < 0)
    return -1;
  bundle_sqfs_files(sq, &files);
  return native_config(x, src, &files, ret_config, err);
}

/* History entries stand for layers unless marked empty; a count that no
 * longer matches (SingularityCE squashes a Docker image's layers into one)
 * would make the image invalid, so then it goes. */
static void fit_history(json_t *config, size_t n_layers)
{
  json_t *history = json_object_get(config, "history");
  if (history == NULL)
    return;
  size_t i, layers = 0;
  json_t *h;
  json_array_foreach(history, i, h)
  {
    if (!json_is_true(json_object_get(h, "empty_layer")))
      layers++;
  }
  if (!json_is_array(history) || layers != n_layers)
    json_object_del(config, "history");
}

/* The image mount would take (bundle_oci_image_load: index, platform,
 * manifest, config, squashfs layers), each layer checked as it is read. */
static int oci_layers(struct export *x, const struct sif_image *img, json_t **ret_config,
                      json_t **ret_annotations, oci_error **err)
{
  struct bundle_oci_image oi;
  if (bundle_oci_image_load(img, NULL, &oi, err) < 0)
    return -1;
  int r = -1;
  for (size_t i = 0; i < oi.n_layers; i++) {
    char what[48];
    snprintf(what, sizeof(what), "OCI layer %zu", i + 1);
    const struct sif_descriptor *d = oi.layers[i];
    cleanup_sqfs struct bundle_sqfs *sq = NULL;
    if (sif_blob_verify(img, d, err) < 0 ||
        bundle_sqfs_open(img->fd, d->offset, d->size, what, &sq, err) < 0 ||
        add_layer(x, sq, -1, true, err) < 0) {
      oci_error_prefix(err, "%s", what);
      goto out;
    }
  }
  if (json_object_set_new(oi.config_blob, "rootfs",
                          json_pack("{s:s, s:O}", "type", "layers", "diff_ids", x->diff_ids)) < 0) {
    oci_error_set(err, ENOMEM, "export");
    goto out;
  }
  fit_history(oi.config_blob, oi.n_layers);
  json_t *annotations = json_object_get(oi.manifest, "annotations");
  *ret_annotations = json_is_object(annotations) ? json_incref(annotations) : NULL;
  *ret_config = steal_ptr(&oi.config_blob);
  r = 0;
out:
  bundle_oci_image_clear(&oi);
  return r;
}

static json_t *platform_of(json_t *config)
{
  json_t *p = json_object();
  static const char *const keys[] = {"os", "architecture", "variant"};
  for (size_t i = 0; p && i < sizeof(keys) / sizeof(keys[0]); i++) {
    json_t *v = json_object_get(config, keys[i]);
    if (json_is_string(v))
      json_object_set(p, keys[i], v);
  }
  return p;
}

/* OCI_IMG for an OCI-SIF, else SRC */
static int write_image(struct export *x, const struct sif_image *oci_img,
                       struct bundle_image_source *src, const char *ref, oci_error **err)
{
  json_auto_t *config = NULL, *annotations = NULL, *config_desc = NULL, *manifest_desc = NULL;
  int r = oci_img ? oci_layers(x, oci_img, &config, &annotations, err)
                  : native_layers(x, src, &config, err);
  if (r < 0 || bundle_layout_put_json(&x->layout, config, CONFIG_TYPE, &config_desc, err) < 0)
    return -1;
  json_auto_t *manifest = json_pack("{s:i, s:s, s:O, s:O}", "schemaVersion", 2, "mediaType",
                                    MANIFEST_TYPE, "config", config_desc, "layers", x->layers);
  if (manifest == NULL || (annotations && json_object_set(manifest, "annotations", annotations)))
    return oci_error_set(err, ENOMEM, "export");
  if (bundle_layout_put_json(&x->layout, manifest, MANIFEST_TYPE, &manifest_desc, err) < 0)
    return -1;
  snprintf(x->res->manifest_digest, sizeof(x->res->manifest_digest), "%s",
           json_string_value(json_object_get(manifest_desc, "digest")));
  if (json_object_set_new(manifest_desc, "platform", platform_of(config)) < 0 ||
      json_object_set_new(manifest_desc, "annotations", json_pack("{s:s}", REF_ANNOTATION, ref)) <
          0)
    return oci_error_set(err, ENOMEM, "export");
  json_auto_t *index = json_pack("{s:i, s:s, s:[O]}", "schemaVersion", 2, "mediaType", INDEX_TYPE,
                                 "manifests", manifest_desc);
  if (index == NULL)
    return oci_error_set(err, ENOMEM, "export");
  return bundle_layout_finish(&x->layout, index, err);
}

/* An OCI-SIF is read here, layer by layer, whatever `oci mount` takes of
 * it (an image for another machine is still an image to export); any other
 * image as mount opens it. */
static int open_image(const char *image, struct sif_image **ret_oci,
                      struct bundle_image_source *ret_src, oci_error **err)
{
  *ret_oci = NULL;
  memset(ret_src, 0, sizeof(*ret_src));
  ret_src->dir_fd = -1;
  struct sif_image *img = NULL;
  oci_error *probe = NULL;
  if (sif_open(image, &img, &probe) == 0 && sif_is_oci(img)) {
    *ret_oci = img;
    return 0;
  }
  sif_close(img);
  oci_error_free(&probe);
  return bundle_image_source_open(image, ret_src, err);
}

int bundle_export(const char *image, const char *dest, const struct bundle_export_options *o,
                  struct bundle_export_result *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  if (bundle_export_check_ref(o->ref_name, err) < 0)
    return -1;
  int r = -1;
  struct sif_image *oci_img = NULL;
  struct bundle_image_source src;
  struct export x = {
      .res = ret, .layers = json_array(), .diff_ids = json_array(), .stop_fd = o->stop_fd};
  x.layout.tmp_fd = x.layout.layout_fd = x.layout.blobs_fd = x.layout.parent_fd = -1;
  x.layout.stop_fd = -1;
  if (open_image(image, &oci_img, &src, err) < 0)
    goto out;
  if (x.layers == NULL || x.diff_ids == NULL) {
    oci_error_set(err, ENOMEM, "export");
    goto out;
  }
  if (bundle_layout_begin(dest, o->format == BUNDLE_EXPORT_ARCHIVE, o->stop_fd, &x.layout, err) < 0)
    goto out;
  if (write_image(&x, oci_img, &src, o->ref_name, err) < 0)
    goto out;
  r = 0;
out:
  bundle_layout_clear(&x.layout);
  json_decref(x.layers);
  json_decref(x.diff_ids);
  sif_close(oci_img);
  bundle_image_source_clear(&src);
  return r;
}

static bool ref_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool ref_separator(char c)
{
  return c != '\0' && strchr("-._:@+/", c) != NULL;
}

int bundle_export_check_ref(const char *ref, oci_error **err)
{
  size_t len = strlen(ref);
  bool ok = len > 0 && len <= MAX_REF && ref_alnum(ref[0]) && ref_alnum(ref[len - 1]);
  for (size_t i = 0; ok && i < len; i++) {
    if (ref_alnum(ref[i]))
      continue;
    /* one separator between alphanumerics; "--" is allowed too */
    ok = ref_separator(ref[i]) &&
         ref_alnum(ref[i + 1] == '-' && ref[i] == '-' ? ref[i + 2] : ref[i + 1]);
    if (ok && ref[i] == '-' && ref[i + 1] == '-')
      i++;
  }
  if (!ok)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "tag '%.300s' is not an image reference name (letters and digits, "
                              "joined by one of - . _ : @ + /)",
                              ref);
  return 0;
}

char *bundle_export_default_ref(const char *image)
{
  const char *base = strrchr(image, '/');
  base = base ? base + 1 : image;
  cleanup_free char *name = strdup(*base ? base : "image");
  if (name == NULL)
    return NULL;
  char *dot = strrchr(name, '.');
  if (dot != NULL && dot != name)
    *dot = '\0';
  for (char *p = name; *p; p++)
    *p = ref_alnum(*p) || *p == '.' || *p == '_' ? (char)tolower((unsigned char)*p) : '-';
  /* from the first letter or digit to the last */
  const char *start = name;
  while (*start && !ref_alnum(*start))
    start++;
  size_t len = strlen(start);
  while (len > 0 && !ref_alnum(start[len - 1]))
    len--;
  if (len > MAX_REF - 7)
    len = MAX_REF - 7;
  if (len == 0) {
    start = "image";
    len = strlen(start);
  }
  char *ref = NULL;
  if (asprintf(&ref, "%.*s:latest", (int)len, start) < 0)
    return NULL;
  return ref;
}
