/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz the image config -> config.json translation (bundle/image-to-spec.c,
 * image-user.c): hostile oci-config.json text (huge arrays, deep nesting,
 * odd types, NUL bytes, overlong strings) with the image's /etc/passwd and
 * /etc/group from the input too.
 *
 * Input: JSON text [ NUL passwd text [ NUL group text ] ].  JSON "null" is a
 * native image (no config).  The parse is laxer than oci mount's (NUL
 * escapes allowed, any top-level value) so that the checks after it see
 * more.  What comes out is checked against what config.json promises. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image-files.h"
#include "image-to-spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake_image {
  const char *passwd, *group;
  size_t passwd_len, group_len;
  bool has_run;
};

static int fake_read(void *ctx, const char *path, size_t max, char **ret, size_t *ret_len,
                     oci_error **err)
{
  const struct fake_image *img = ctx;
  const char *text = NULL;
  size_t len = 0;
  if (strcmp(path, "/etc/passwd") == 0) {
    text = img->passwd;
    len = img->passwd_len;
  } else if (strcmp(path, "/etc/group") == 0) {
    text = img->group;
    len = img->group_len;
  }
  if (text == NULL)
    return 1;
  if (len > max)
    return oci_error_set(err, 0, "'%s' is too big", path);
  char *copy = malloc(len + 1);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "reading '%s'", path);
  memcpy(copy, text, len);
  copy[len] = '\0';
  *ret = copy;
  if (ret_len)
    *ret_len = len;
  return 0;
}

static int fake_is_file(void *ctx, const char *path, bool *ret, oci_error **err)
{
  const struct fake_image *img = ctx;
  *ret = img->has_run && strcmp(path, BUNDLE_ACTION_RUN) == 0;
  return 0;
}

static const char default_passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                                     "app:x:1000:100::/:/bin/sh\n"
                                     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
static const char default_group[] = "root:x:0:\nusers:x:100:app\nnogroup:x:65534:\n";

static bool is_string_array(json_t *a, bool nonempty)
{
  if (!json_is_array(a) || (nonempty && json_array_size(a) == 0))
    return false;
  size_t i;
  json_t *e;
  json_array_foreach(a, i, e)
  {
    if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
      return false;
  }
  return true;
}

/* What a built config must look like, whatever the image said. */
static void check_spec(const struct bundle_spec *spec)
{
  json_t *c = spec->config;
  json_t *p = json_object_get(c, "process");
  if (!json_is_object(c) || !json_is_object(p))
    abort();
  if (!is_string_array(json_object_get(p, "args"), true) ||
      !is_string_array(json_object_get(p, "env"), false))
    abort();
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(p, "env"), i, e)
  {
    const char *kv = json_string_value(e);
    if (kv[0] == '=' || strchr(kv, '=') == NULL)
      abort();
  }
  const char *cwd = json_string_value(json_object_get(p, "cwd"));
  if (cwd == NULL || cwd[0] != '/' || strlen(cwd) >= BUNDLE_SPEC_MAX_PATH)
    abort();
  json_t *user = json_object_get(p, "user");
  if (!json_is_integer(json_object_get(user, "uid")) ||
      !json_is_integer(json_object_get(user, "gid")))
    abort();
  if (spec->n_volumes > BUNDLE_SPEC_MAX_VOLUMES)
    abort();
  for (size_t v = 0; v < spec->n_volumes; v++) {
    const char *name = spec->volume_dirs[v];
    if (name == NULL || name[0] != '_' || strchr(name, '/') != NULL || strlen(name) > 255)
      abort();
  }
  if (spec->volume_dirs != NULL && spec->volume_dirs[spec->n_volumes] != NULL)
    abort();
  char *text = json_dumps(c, JSON_COMPACT);
  if (text == NULL)
    abort();
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *in = (const char *)data;
  const char *nul = memchr(in, '\0', size);
  size_t json_len = nul ? (size_t)(nul - in) : size;
  struct fake_image img = {default_passwd, default_group, sizeof(default_passwd) - 1,
                           sizeof(default_group) - 1, true};
  if (nul != NULL) {
    const char *rest = nul + 1;
    size_t rest_len = size - json_len - 1;
    const char *nul2 = memchr(rest, '\0', rest_len);
    img.passwd = rest;
    img.passwd_len = nul2 ? (size_t)(nul2 - rest) : rest_len;
    if (nul2 != NULL) {
      img.group = nul2 + 1;
      img.group_len = rest_len - img.passwd_len - 1;
    }
    img.has_run = (rest_len & 1) == 0;
  }
  json_error_t jerr;
  json_t *ic = json_loadb(in, json_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (ic == NULL)
    return 0;
  struct bundle_image_files files = {&img, fake_read, fake_is_file};
  struct bundle_spec spec;
  oci_error *err = NULL;
  if (bundle_spec_build(json_is_null(ic) ? NULL : ic, &files, "/run/sifoci/b", &spec, &err) == 0) {
    check_spec(&spec);
    bundle_spec_clear(&spec);
  } else if (err == NULL || err->msg == NULL) {
    abort(); /* a failure always says why */
  }
  oci_error_free(&err);
  json_decref(ic);
  return 0;
}
