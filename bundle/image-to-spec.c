/* SPDX-License-Identifier: Apache-2.0 */
#include "image-to-spec.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "image-config.h"
#include "image-user.h"
#include "oci-spec.h"

/* Running total of bytes taken by args and env, capped as a whole. */
struct budget {
  size_t count, bytes;
};

static int charge(struct budget *b, const char *what, size_t i, const char *s, oci_error **err)
{
  size_t len = strlen(s);
  if (len > BUNDLE_SPEC_MAX_STRING)
    return oci_error_set(err, 0, "image config: %s[%zu] is %zu bytes, more than the %u allowed",
                         what, i, len, BUNDLE_SPEC_MAX_STRING);
  if (++b->count > BUNDLE_SPEC_MAX_STRINGS)
    return oci_error_set(err, 0, "image config: more than %d args and env entries",
                         BUNDLE_SPEC_MAX_STRINGS);
  b->bytes += len + 1;
  if (b->bytes > BUNDLE_SPEC_MAX_TOTAL)
    return oci_error_set(err, 0, "image config: args and env exceed %u bytes",
                         BUNDLE_SPEC_MAX_TOTAL);
  return 0;
}

static int append_strings(json_t *dst, json_t *src, const char *what, struct budget *b,
                          oci_error **err)
{
  size_t i;
  json_t *e;
  json_array_foreach(src, i, e)
  {
    if (charge(b, what, i, json_string_value(e), err) < 0)
      return -1;
    if (json_array_append(dst, e) < 0)
      return oci_error_set(err, ENOMEM, "image config: %s", what);
  }
  return 0;
}

/* *RET_FIXED: 1 for the action or runscript (a user's args are theirs),
 * 0 for the /bin/sh of an image that has neither (they replace it). */
static int native_args(const struct bundle_image_files *files, json_t *args, size_t *ret_fixed,
                       oci_error **err)
{
  static const char *const candidates[] = {BUNDLE_ACTION_RUN, BUNDLE_RUNSCRIPT};
  const char *chosen = "/bin/sh";
  for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
    bool is_file = false;
    if (files->is_file(files->ctx, candidates[i], &is_file, err) < 0)
      return oci_error_prefix(err, "looking for '%s' in the image", candidates[i]);
    if (is_file) {
      chosen = candidates[i];
      break;
    }
  }
  *ret_fixed = strcmp(chosen, "/bin/sh") != 0;
  json_array_clear(args);
  return json_array_append_new(args, json_string(chosen)) < 0
             ? oci_error_set(err, ENOMEM, "process.args")
             : 0;
}

/* *RET_FIXED: how many args come before Cmd's (bundle_spec_set_args) */
static int merge_args(json_t *ic, const struct bundle_image_files *files, json_t *process,
                      struct budget *b, size_t *ret_fixed, oci_error **err)
{
  json_t *args = json_object_get(process, "args");
  json_t *entrypoint = json_object_get(ic, "Entrypoint");
  json_t *cmd = json_object_get(ic, "Cmd");
  json_auto_t *merged = json_array();
  if (merged == NULL)
    return oci_error_set(err, ENOMEM, "process.args");
  if ((json_is_array(entrypoint) && append_strings(merged, entrypoint, "Entrypoint", b, err) < 0))
    return -1;
  *ret_fixed = json_array_size(merged);
  if ((json_is_array(cmd) && append_strings(merged, cmd, "Cmd", b, err) < 0))
    return -1;
  if (json_array_size(merged) == 0)
    return native_args(files, args, ret_fixed, err);
  return json_object_set(process, "args", merged) < 0 ? oci_error_set(err, ENOMEM, "process.args")
                                                      : 0;
}

/* Image values win: same name replaces in place, new names are appended.
 * "K=" entries are kept (an empty value is still a value). */
static int merge_env(json_t *ic, json_t *process, struct budget *b, oci_error **err)
{
  json_t *env = json_object_get(process, "env");
  json_t *image_env = json_object_get(ic, "Env");
  size_t i;
  json_t *e;
  json_array_foreach(env, i, e)
  {
    if (charge(b, "default env", i, json_string_value(e), err) < 0)
      return -1;
  }
  json_array_foreach(image_env, i, e)
  {
    const char *kv = json_string_value(e);
    const char *eq = strchr(kv, '=');
    if (eq == NULL)
      return oci_error_set(err, 0, "image config: Env[%zu] '%.64s' is not NAME=VALUE", i, kv);
    size_t klen = (size_t)(eq - kv) + 1; /* with the '=' */
    bool replaced = false;
    size_t j;
    json_t *d;
    json_array_foreach(env, j, d)
    {
      if (strncmp(json_string_value(d), kv, klen) == 0) {
        json_array_set(env, j, e);
        replaced = true;
        break;
      }
    }
    if (charge(b, "Env", i, kv, err) < 0)
      return -1;
    if (!replaced && json_array_append(env, e) < 0)
      return oci_error_set(err, ENOMEM, "process.env");
  }
  return 0;
}

static int merge_cwd(json_t *ic, json_t *process, oci_error **err)
{
  const char *wd = json_string_value(json_object_get(ic, "WorkingDir"));
  if (wd == NULL || *wd == '\0')
    return 0;
  if (wd[0] != '/')
    return oci_error_set(err, 0, "image config: WorkingDir '%.256s' is not an absolute path", wd);
  if (strlen(wd) >= BUNDLE_SPEC_MAX_PATH)
    return oci_error_set(err, 0, "image config: WorkingDir is too long");
  return json_object_set_new(process, "cwd", json_string(wd)) < 0
             ? oci_error_set(err, ENOMEM, "process.cwd")
             : 0;
}

static int merge_user(json_t *ic, const struct bundle_image_files *files, json_t *process,
                      oci_error **err)
{
  const char *user = json_string_value(json_object_get(ic, "User"));
  uint32_t uid = 0, gid = 0;
  if (user == NULL || *user == '\0')
    return 0;
  if (bundle_user_resolve(user, files, &uid, &gid, err) < 0)
    return oci_error_prefix(err, "image config");
  return json_object_set_new(
             process, "user",
             json_pack("{s:I, s:I}", "uid", (json_int_t)uid, "gid", (json_int_t)gid)) < 0
             ? oci_error_set(err, ENOMEM, "process.user")
             : 0;
}

int bundle_volume_name(const char *dst, char **ret_norm, char **ret_name, oci_error **err)
{
  size_t len = strlen(dst);
  if (dst[0] != '/')
    return oci_error_set(err, 0, "image config: volume '%.256s' is not an absolute path", dst);
  if (len >= BUNDLE_SPEC_MAX_PATH)
    return oci_error_set(err, 0, "image config: volume path is too long (%zu bytes)", len);
  cleanup_free char *norm = malloc(len + 1);
  cleanup_free char *copy = strdup(dst);
  if (norm == NULL || copy == NULL)
    return oci_error_set(err, ENOMEM, "volume '%s'", dst);
  size_t n = 0;
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
    if (strcmp(c, ".") == 0)
      continue;
    if (strcmp(c, "..") == 0)
      return oci_error_set(err, 0, "image config: volume '%.256s' has a '..' component", dst);
    norm[n++] = '/';
    memcpy(norm + n, c, strlen(c));
    n += strlen(c);
  }
  norm[n] = '\0';
  if (n == 0)
    return oci_error_set(err, 0, "image config: volume '%.256s' would cover the whole root", dst);
  if (n > NAME_MAX)
    return oci_error_set(err, 0, "image config: volume '%.256s' is too long for a directory name",
                         dst);
  char *name = strdup(norm);
  if (name == NULL)
    return oci_error_set(err, ENOMEM, "volume '%s'", dst);
  for (char *p = name; *p; p++)
    if (*p == '/')
      *p = '_';
  *ret_name = name;
  *ret_norm = steal_ptr(&norm);
  return 0;
}

struct volume {
  char *dst;  /* normalized destination */
  char *name; /* directory under BUNDLE/volumes */
};

static int cmp_volume(const void *a, const void *b)
{
  return strcmp(((const struct volume *)a)->dst, ((const struct volume *)b)->dst);
}

static void free_volumes(struct volume *v, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(v[i].dst);
    free(v[i].name);
  }
  free(v);
}

/* Add the bind mounts (sorted by destination, so a parent is mounted before
 * what lies inside it) and record the directory names to create. */
static int add_volume_mounts(const struct volume *v, size_t n, json_t *config,
                             const char *bundle_path, struct bundle_spec *spec, oci_error **err)
{
  json_t *mounts = json_object_get(config, "mounts");
  spec->volume_dirs = calloc(n + 1, sizeof(char *));
  if (spec->volume_dirs == NULL)
    return oci_error_set(err, ENOMEM, "volumes");
  for (size_t i = 0; i < n; i++) {
    cleanup_free char *src = NULL;
    if (asprintf(&src, "%s/volumes/%s", bundle_path, v[i].name) < 0)
      return oci_error_set(err, ENOMEM, "volumes");
    /* nosuid,nodev: the container's root can write a setuid file or a
     * device node to a volume, and a later process (an exec as another
     * user) must not gain by it */
    json_t *m = json_pack("{s:s, s:s, s:s, s:[s, s, s, s]}", "destination", v[i].dst, "type",
                          "none", "source", src, "options", "rbind", "rw", "nosuid", "nodev");
    spec->volume_dirs[i] = strdup(v[i].name);
    if (spec->volume_dirs[i] == NULL || json_array_append_new(mounts, m) < 0)
      return oci_error_set(err, ENOMEM, "volumes");
    spec->n_volumes = i + 1;
  }
  return 0;
}

static int merge_volumes(json_t *ic, json_t *config, const char *bundle_path,
                         struct bundle_spec *spec, oci_error **err)
{
  json_t *volumes = json_object_get(ic, "Volumes");
  size_t count = json_is_object(volumes) ? json_object_size(volumes) : 0;
  if (count == 0)
    return 0;
  if (count > BUNDLE_SPEC_MAX_VOLUMES)
    return oci_error_set(err, 0, "image config: %zu volumes, more than the %d allowed", count,
                         BUNDLE_SPEC_MAX_VOLUMES);
  struct volume *v = calloc(count, sizeof(*v));
  if (v == NULL)
    return oci_error_set(err, ENOMEM, "volumes");
  size_t n = 0;
  const char *key;
  json_t *val;
  int r = 0;
  json_object_foreach(volumes, key, val)
  {
    struct volume cur = {0};
    if (bundle_volume_name(key, &cur.dst, &cur.name, err) < 0) {
      r = -1;
      break;
    }
    bool dup = false;
    for (size_t i = 0; i < n && r == 0; i++) {
      if (strcmp(v[i].dst, cur.dst) == 0) {
        dup = true; /* "/data" and "/data/" are one volume */
      } else if (strcmp(v[i].name, cur.name) == 0) {
        /* "/a/b" and "/a_b" would share one directory: refuse. */
        r = oci_error_set(err, 0, "image config: volumes '%s' and '%s' map to the same directory",
                          v[i].dst, cur.dst);
      }
    }
    if (dup || r < 0) {
      free(cur.dst);
      free(cur.name);
      if (r < 0)
        break;
      continue;
    }
    v[n++] = cur;
  }
  if (r == 0) {
    qsort(v, n, sizeof(*v), cmp_volume);
    r = add_volume_mounts(v, n, config, bundle_path, spec, err);
  }
  free_volumes(v, n);
  return r;
}

/* Image labels are the image author's words, and annotations are read by
 * runtimes (crun's run.oci.*, runc's org.criu.config, the systemd driver's
 * org.systemd.property.*, ...): an image must not configure the runtime.
 * So only the OCI image namespace, which no runtime acts on, is kept as it
 * is; every other label moves under our own prefix. */
#define OCI_IMAGE_ANNOTATION_PREFIX "org.opencontainers.image."
#define LABEL_ANNOTATION_PREFIX "org.sifoci.label."

static int merge_labels(json_t *ic, json_t *config, oci_error **err)
{
  json_t *labels = json_object_get(ic, "Labels");
  if (!json_is_object(labels) || json_object_size(labels) == 0)
    return 0;
  if (json_object_size(labels) > BUNDLE_SPEC_MAX_LABELS)
    return oci_error_set(err, 0, "image config: %zu labels, more than the %d allowed",
                         json_object_size(labels), BUNDLE_SPEC_MAX_LABELS);
  size_t total = 0;
  const char *k;
  json_t *v;
  json_object_foreach(labels, k, v)
  {
    total += strlen(k) + strlen(LABEL_ANNOTATION_PREFIX) + json_string_length(v);
    if (total > BUNDLE_SPEC_MAX_TOTAL)
      return oci_error_set(err, 0, "image config: labels exceed %u bytes", BUNDLE_SPEC_MAX_TOTAL);
  }
  json_auto_t *annotations = json_object();
  if (annotations == NULL)
    return oci_error_set(err, ENOMEM, "annotations");
  json_object_foreach(labels, k, v)
  {
    bool oci = strncmp(k, OCI_IMAGE_ANNOTATION_PREFIX, strlen(OCI_IMAGE_ANNOTATION_PREFIX)) == 0;
    cleanup_free char *key = NULL;
    if (asprintf(&key, "%s%s", oci ? "" : LABEL_ANNOTATION_PREFIX, k) < 0)
      return oci_error_set(err, ENOMEM, "annotations");
    if (json_object_set(annotations, key, v) < 0)
      return oci_error_set(err, ENOMEM, "annotations");
  }
  return json_object_set(config, "annotations", annotations) < 0
             ? oci_error_set(err, ENOMEM, "annotations")
             : 0;
}

int bundle_spec_build(json_t *ic, const struct bundle_image_files *files, const char *bundle_path,
                      struct bundle_spec *ret, oci_error **err)
{
  struct bundle_spec spec = {0};
  struct budget b = {0};
  cleanup_free char *rootfs = NULL;
  memset(ret, 0, sizeof(*ret));
  if (bundle_path[0] != '/')
    return oci_error_set(err, 0, "bundle path '%s' is not absolute", bundle_path);
  if (asprintf(&rootfs, "%s/rootfs", bundle_path) < 0)
    return oci_error_set(err, ENOMEM, "config.json");
  if (ic != NULL && image_config_validate(ic, err) < 0)
    return -1;
  spec.config = bundle_spec_default(rootfs);
  if (spec.config == NULL)
    return oci_error_set(err, ENOMEM, "config.json");
  json_t *process = json_object_get(spec.config, "process");
  if (ic == NULL) {
    if (native_args(files, json_object_get(process, "args"), &spec.n_fixed_args, err) < 0)
      goto fail;
  } else if (merge_args(ic, files, process, &b, &spec.n_fixed_args, err) < 0 ||
             merge_env(ic, process, &b, err) < 0 || merge_cwd(ic, process, err) < 0 ||
             merge_user(ic, files, process, err) < 0 ||
             merge_volumes(ic, spec.config, bundle_path, &spec, err) < 0 ||
             merge_labels(ic, spec.config, err) < 0) {
    goto fail;
  }
  *ret = spec;
  return 0;
fail:
  bundle_spec_clear(&spec);
  return -1;
}

int bundle_spec_set_args(struct bundle_spec *spec, const char *const *args, size_t n,
                         oci_error **err)
{
  json_t *process = json_object_get(spec->config, "process");
  json_t *old = json_object_get(process, "args");
  json_auto_t *merged = json_array();
  if (merged == NULL)
    return oci_error_set(err, ENOMEM, "process.args");
  for (size_t i = 0; i < spec->n_fixed_args && i < json_array_size(old); i++)
    if (json_array_append(merged, json_array_get(old, i)) < 0)
      return oci_error_set(err, ENOMEM, "process.args");
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_string(args[i]);
    if (s == NULL) /* not UTF-8: the OCI config cannot carry it */
      return oci_error_set(err, EINVAL, "argument %zu of the command is not valid UTF-8", i + 1);
    if (json_array_append_new(merged, s) < 0)
      return oci_error_set(err, ENOMEM, "process.args");
  }
  if (json_array_size(merged) == 0)
    return oci_error_set(err, EINVAL, "the command is empty");
  return json_object_set(process, "args", merged) < 0 ? oci_error_set(err, ENOMEM, "process.args")
                                                      : 0;
}

void bundle_spec_clear(struct bundle_spec *spec)
{
  json_decref(spec->config);
  spec->config = NULL;
  cleanup_strv_fn(&spec->volume_dirs);
  spec->volume_dirs = NULL;
  spec->n_volumes = 0;
}
