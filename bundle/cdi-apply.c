/* SPDX-License-Identifier: Apache-2.0 */
/* A CDI device's containerEdits into config.json (cdi-apply.h). */
#include "cdi-apply.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* OBJ[KEY], made an empty array or object (MAKE) when missing. */
static json_t *get_or_make(json_t *obj, const char *key, json_t *(*make)(void))
{
  json_t *v = json_object_get(obj, key);
  if (v == NULL && obj != NULL && json_object_set_new(obj, key, make()) == 0)
    v = json_object_get(obj, key);
  return v;
}

static int append_copy(json_t *a, json_t *v, const char *what, oci_error **err)
{
  if (!json_is_array(a) || json_array_append_new(a, json_deep_copy(v)) < 0)
    return oci_error_set(err, ENOMEM, "config.json %s", what);
  return 0;
}

static int apply_env(json_t *config, json_t *env, oci_error **err)
{
  json_t *penv = get_or_make(get_or_make(config, "process", json_object), "env", json_array);
  size_t i;
  json_t *e;
  json_array_foreach(env, i, e)
  {
    if (append_copy(penv, e, "process.env", err) < 0)
      return -1;
  }
  return 0;
}

static int apply_mount(json_t *config, json_t *m, oci_error **err);

/* In a user namespace no device node can be made (runc binds the host's
 * node at the container's path instead, which for a hostPath elsewhere
 * would be the wrong node, or none): the host node is bound itself, and
 * what the spec says of it must be what the host has. */
static int bind_device_node(json_t *config, const char *path, const char *host,
                            const struct stat *st, bool have_host, const char *type, json_t *jmajor,
                            json_t *jminor, const char *file, oci_error **err)
{
  bool dev = have_host && (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode));
  if (!dev)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "%s: device node '%s': '%s' is not a device node here, and in a "
                              "user namespace (a bundle made by a user other than root) a node "
                              "can only be bound from the host, not made",
                              file, path, host);
  char host_type = S_ISBLK(st->st_mode) ? 'b' : 'c';
  if ((type != NULL && type[0] != host_type && !(type[0] == 'u' && host_type == 'c')) ||
      (jmajor != NULL && json_integer_value(jmajor) != (json_int_t)major(st->st_rdev)) ||
      (jminor != NULL && json_integer_value(jminor) != (json_int_t)minor(st->st_rdev)))
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "%s: device node '%s': the type or numbers given are not those of "
                              "'%s', the host node a user namespace must bind",
                              file, path, host);
  json_t *m =
      json_pack("{s:s, s:s, s:[s]}", "hostPath", host, "containerPath", path, "options", "bind");
  if (m == NULL)
    return oci_error_set(err, ENOMEM, "mounts");
  int r = apply_mount(config, m, err);
  json_decref(m);
  return r;
}

/* What the spec leaves out of a node is the host node's: its type,
 * numbers, mode and owner. */
static int apply_device_node(json_t *config, json_t *node, const char *file, bool in_userns,
                             oci_error **err)
{
  const char *path = json_string_value(json_object_get(node, "path"));
  const char *host = json_string_value(json_object_get(node, "hostPath"));
  const char *type = json_string_value(json_object_get(node, "type"));
  const char *perm = json_string_value(json_object_get(node, "permissions"));
  json_t *jmajor = json_object_get(node, "major"), *jminor = json_object_get(node, "minor");
  json_t *mode = json_object_get(node, "fileMode");
  json_t *uid = json_object_get(node, "uid"), *gid = json_object_get(node, "gid");
  if (host == NULL)
    host = path;
  struct stat st = {0};
  bool have_host = stat(host, &st) == 0;
  char host_type[2] = {0};
  if (have_host)
    host_type[0] = S_ISBLK(st.st_mode)    ? 'b'
                   : S_ISCHR(st.st_mode)  ? 'c'
                   : S_ISFIFO(st.st_mode) ? 'p'
                                          : 0;
  if (in_userns)
    return bind_device_node(config, path, host, &st, have_host, type, jmajor, jminor, file, err);
  if (type == NULL)
    type = host_type[0] ? host_type : NULL;
  bool numbered = type != NULL && type[0] != 'p';
  bool host_matches = type != NULL && host_type[0] != 0 &&
                      (host_type[0] == type[0] || (type[0] == 'u' && host_type[0] == 'c'));
  if (type == NULL || (numbered && (jmajor == NULL || jminor == NULL) && !host_matches))
    return oci_error_set(err, 0,
                         "%s: device node '%s': no type or numbers given and '%s' is not a "
                         "matching device node to take them from",
                         file, path, host);
  json_int_t maj = jmajor ? json_integer_value(jmajor) : (json_int_t)major(st.st_rdev);
  json_int_t min = jminor ? json_integer_value(jminor) : (json_int_t)minor(st.st_rdev);
  json_t *dev = json_pack("{s:s, s:s}", "path", path, "type", type);
  if (dev == NULL)
    return oci_error_set(err, ENOMEM, "linux.devices");
  if (numbered) {
    json_object_set_new(dev, "major", json_integer(maj));
    json_object_set_new(dev, "minor", json_integer(min));
  }
  if (mode || host_matches)
    json_object_set_new(dev, "fileMode",
                        mode ? json_incref(mode) : json_integer((json_int_t)(st.st_mode & 07777)));
  if (uid || host_matches)
    json_object_set_new(dev, "uid", uid ? json_incref(uid) : json_integer((json_int_t)st.st_uid));
  if (gid || host_matches)
    json_object_set_new(dev, "gid", gid ? json_incref(gid) : json_integer((json_int_t)st.st_gid));

  json_t *linux_ = get_or_make(config, "linux", json_object);
  json_t *devices = get_or_make(linux_, "devices", json_array);
  if (!json_is_array(devices)) {
    json_decref(dev);
    return oci_error_set(err, 0, "config.json linux.devices is not a list");
  }
  /* the same path twice: the later edit wins, as CDI merges */
  size_t i;
  json_t *e;
  json_array_foreach(devices, i, e)
  {
    if (json_equal(json_object_get(e, "path"), json_object_get(dev, "path"))) {
      json_array_remove(devices, i);
      break;
    }
  }
  if (json_array_append_new(devices, dev) < 0)
    return oci_error_set(err, ENOMEM, "linux.devices");
  if (!numbered)
    return 0;
  json_t *rules = get_or_make(get_or_make(linux_, "resources", json_object), "devices", json_array);
  json_t *rule =
      json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", type[0] == 'b' ? "b" : "c",
                "major", maj, "minor", min, "access", perm ? perm : "rwm");
  if (rule == NULL || !json_is_array(rules) || json_array_append_new(rules, rule) < 0)
    return oci_error_set(err, ENOMEM, "linux.resources.devices");
  return 0;
}

/* A mount without a type is a bind mount, and runc wants "bind" among the
 * options for it. */
static int apply_mount(json_t *config, json_t *m, oci_error **err)
{
  json_t *opts = json_object_get(m, "options");
  const char *type = json_string_value(json_object_get(m, "type"));
  json_t *out = json_pack("{s:O, s:O, s:s}", "destination", json_object_get(m, "containerPath"),
                          "source", json_object_get(m, "hostPath"), "type", type ? type : "bind");
  json_t *o = opts ? json_deep_copy(opts) : json_array();
  if (out == NULL || o == NULL) {
    json_decref(out);
    json_decref(o);
    return oci_error_set(err, ENOMEM, "mounts");
  }
  bool bind = type == NULL || strcmp(type, "bind") == 0, has_bind = false;
  size_t i;
  json_t *e;
  json_array_foreach(o, i, e)
  {
    const char *s = json_string_value(e);
    has_bind |= strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0;
  }
  if (bind && !has_bind)
    json_array_insert_new(o, 0, json_string("bind"));
  json_object_set_new(out, "options", o);
  json_t *mounts = get_or_make(config, "mounts", json_array);
  if (!json_is_array(mounts) || json_array_append_new(mounts, out) < 0)
    return oci_error_set(err, ENOMEM, "mounts");
  return 0;
}

static int apply_hook(json_t *config, json_t *h, oci_error **err)
{
  json_t *hook = json_pack("{s:O}", "path", json_object_get(h, "path"));
  static const char *const keys[] = {"args", "env", "timeout"};
  for (size_t i = 0; hook && i < sizeof(keys) / sizeof(keys[0]); i++) {
    json_t *v = json_object_get(h, keys[i]);
    if (v)
      json_object_set_new(hook, keys[i], json_deep_copy(v));
  }
  const char *name = json_string_value(json_object_get(h, "hookName"));
  json_t *list = get_or_make(get_or_make(config, "hooks", json_object), name, json_array);
  if (hook == NULL || !json_is_array(list) || json_array_append_new(list, hook) < 0)
    return oci_error_set(err, ENOMEM, "hooks.%s", name);
  return 0;
}

/* additionalGids: into process.user.additionalGids, each once.  Group 0
 * is left out, as CDI's own runtimes leave it: a device spec has no say
 * over the root group. */
static int apply_gids(json_t *config, json_t *gids, oci_error **err)
{
  if (json_array_size(gids) == 0)
    return 0;
  json_t *user = get_or_make(get_or_make(config, "process", json_object), "user", json_object);
  json_t *have = get_or_make(user, "additionalGids", json_array);
  if (!json_is_array(have))
    return oci_error_set(err, 0, "config.json process.user.additionalGids is not a list");
  size_t i, j;
  json_t *g, *h;
  json_array_foreach(gids, i, g)
  {
    bool dup = json_integer_value(g) == 0;
    json_array_foreach(have, j, h) dup = dup || json_equal(g, h);
    if (!dup && append_copy(have, g, "process.user.additionalGids", err) < 0)
      return -1;
  }
  return 0;
}

/* intelRdt: linux.intelRdt, the later edit replacing the earlier as CDI
 * merges it; only the fields runtime-spec 1.0.2 (runc 1.1) has. */
static int apply_intel_rdt(json_t *config, json_t *rdt, oci_error **err)
{
  json_t *out = json_object();
  static const char *const keys[] = {"closID", "l3CacheSchema", "memBwSchema", "enableCMT",
                                     "enableMBM"};
  for (size_t i = 0; out && i < sizeof(keys) / sizeof(keys[0]); i++) {
    json_t *v = json_object_get(rdt, keys[i]);
    if (v && json_object_set(out, keys[i], v) < 0) {
      json_decref(out);
      out = NULL;
    }
  }
  json_t *linux_ = get_or_make(config, "linux", json_object);
  if (out == NULL || json_object_set_new(linux_, "intelRdt", out) < 0)
    return oci_error_set(err, ENOMEM, "linux.intelRdt");
  return 0;
}

int cdi_apply_edits(json_t *config, json_t *edits, const char *file, bool in_userns,
                    oci_error **err)
{
  if (edits == NULL)
    return 0;
  size_t i;
  json_t *e;
  /* Moving a host interface into the container is runtime-spec 1.2's
   * linux.netDevices; runc 1.1 does not know it and would start the
   * container without the interface.  Refused rather than dropped. */
  if (json_array_size(json_object_get(edits, "netDevices")) > 0)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "%s: netDevices are not supported: linux.netDevices needs "
                              "runtime-spec 1.2 (runc 1.3), newer than the runc 1.1 bundles "
                              "are made for",
                              file);
  if (apply_env(config, json_object_get(edits, "env"), err) < 0 ||
      apply_gids(config, json_object_get(edits, "additionalGids"), err) < 0)
    return -1;
  json_t *rdt = json_object_get(edits, "intelRdt");
  if (rdt != NULL && apply_intel_rdt(config, rdt, err) < 0)
    return -1;
  json_array_foreach(json_object_get(edits, "deviceNodes"), i, e)
  {
    if (apply_device_node(config, e, file, in_userns, err) < 0)
      return -1;
  }
  json_array_foreach(json_object_get(edits, "mounts"), i, e)
  {
    if (apply_mount(config, e, err) < 0)
      return -1;
  }
  json_array_foreach(json_object_get(edits, "hooks"), i, e)
  {
    if (apply_hook(config, e, err) < 0)
      return -1;
  }
  return 0;
}
