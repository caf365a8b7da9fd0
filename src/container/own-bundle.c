/* SPDX-License-Identifier: Apache-2.0 */
#include "own-bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "container.h"
#include "fs.h"
#include "oci-spec.h"
#include "own-bundle-env.h"
#include "rootless.h"

/* FNV-1a: a short stable name for a state root, not a secret. */
static uint64_t fnv1a(const char *s)
{
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ull;
  }
  return h;
}

char *own_bundle_cgroup_path(const char *root, const char *id)
{
  char *path = NULL;
  if (asprintf(&path, "/sifoci-%016" PRIx64 "-%s", fnv1a(root), id) < 0)
    return NULL;
  return path;
}

/* PATH relative to BUNDLE made absolute, as the runtime would have read it
 * from the user's bundle directory. */
static int make_absolute(json_t *obj, const char *key, const char *bundle)
{
  const char *path = json_string_value(json_object_get(obj, key));
  if (path == NULL || path[0] == '/')
    return 0;
  cleanup_free char *abs = NULL;
  if (asprintf(&abs, "%s/%s", bundle, path) < 0)
    return -1;
  return json_object_set_new(obj, key, json_string(abs));
}

static bool is_bind(json_t *mount)
{
  const char *type = json_string_value(json_object_get(mount, "type"));
  if (type != NULL && strcmp(type, "bind") == 0)
    return true;
  size_t i;
  json_t *o;
  json_array_foreach(json_object_get(mount, "options"), i, o)
  {
    const char *s = json_string_value(o);
    if (s != NULL && (strcmp(s, "bind") == 0 || strcmp(s, "rbind") == 0))
      return true;
  }
  return false;
}

/* Does the config give the container a UTS namespace (a hostname of its
 * own)? */
static bool has_uts_namespace(const json_t *linux_obj)
{
  size_t i;
  json_t *ns;
  json_array_foreach(json_object_get(linux_obj, "namespaces"), i, ns)
  {
    const char *type = json_string_value(json_object_get(ns, "type"));
    if (type && strcmp(type, "uts") == 0)
      return true;
  }
  return false;
}

json_t *own_bundle_config(const json_t *config, const char *bundle, const char *root,
                          const char *id, oci_error **err)
{
  cleanup_free char *cgroup = NULL;
  json_auto_t *c = json_deep_copy(config);
  if (c == NULL || own_bundle_env_last_wins(c) < 0)
    goto oom;
  json_t *rootobj = json_object_get(c, "root");
  if (json_is_object(rootobj) && make_absolute(rootobj, "path", bundle) < 0)
    goto oom;
  size_t i;
  json_t *m;
  json_array_foreach(json_object_get(c, "mounts"), i, m)
  {
    if (json_is_object(m) && is_bind(m) && make_absolute(m, "source", bundle) < 0)
      goto oom;
  }
  json_t *annotations = json_object_get(c, "annotations");
  if (!json_is_object(annotations)) {
    annotations = json_object();
    if (json_object_set_new(c, "annotations", annotations) < 0)
      goto oom;
  }
  if (json_object_set_new(annotations, OWN_BUNDLE_SOURCE_ANNOTATION, json_string(bundle)) < 0)
    goto oom;
  /* Without a cgroupsPath the runtime uses /ID: one ID under two state
   * roots, or ours and a plain runc container of that name, would share a
   * cgroup (pause of one froze the other).  A path the user set stands. */
  json_t *linux_obj = json_object_get(c, "linux");
  if (!json_is_object(linux_obj)) {
    linux_obj = json_object();
    if (json_object_set_new(c, "linux", linux_obj) < 0)
      goto oom;
  }
  /* the cgroup's name, as delete -f finds it again (own_bundle_cgroup_path) */
  cgroup = own_bundle_cgroup_path(root, id);
  if (cgroup == NULL)
    goto oom;
  /* not root: no cgroup of ours unless one is delegated (rootless.h) */
  if (rootless_active()) {
    if (rootless_adjust_config(c, cgroup + 1, err) < 0)
      return NULL;
  } else if (json_string_value(json_object_get(linux_obj, "cgroupsPath")) == NULL) {
    if (json_object_set_new(linux_obj, "cgroupsPath", json_string(cgroup)) < 0)
      goto oom;
  }
  /* The hostname is the container's ID (runc's `spec` and podman do
   * likewise), unless the user set one: `oci mount`'s placeholder is no
   * choice of theirs.  Only with a UTS namespace: without one the runtime
   * refuses any hostname. */
  const char *hostname = json_string_value(json_object_get(c, "hostname"));
  if ((hostname == NULL || strcmp(hostname, BUNDLE_SPEC_HOSTNAME) == 0) &&
      has_uts_namespace(linux_obj) && json_object_set_new(c, "hostname", json_string(id)) < 0)
    goto oom;
  return steal_ptr(&c);
oom:
  oci_error_set(err, ENOMEM, "container config");
  return NULL;
}

int own_bundle_write(struct ctr *c, const json_t *config, oci_error **err)
{
  if (fs_mkdir_at(c->dirfd, OWN_BUNDLE_DIR, 0700, NULL, err) < 0)
    return oci_error_prefix(err, "container '%s'", c->id);
  cleanup_close int dfd =
      openat(c->dirfd, OWN_BUNDLE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd < 0)
    return oci_error_set(err, errno, "container '%s': %s", c->id, OWN_BUNDLE_DIR);
  cleanup_free char *text = json_dumps(config, JSON_COMPACT);
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "container '%s': config.json", c->id);
  if (fs_write_file_at(dfd, "config.json", text, strlen(text), 0600, FS_WRITE_EXCLUSIVE, err) < 0)
    return oci_error_prefix(err, "container '%s'", c->id);
  return 0;
}

char *own_bundle_source(const char *dir)
{
  cleanup_error oci_error *e = NULL;
  json_auto_t *config = container_load_bundle_config(dir, &e);
  const char *src = json_string_value(
      json_object_get(json_object_get(config, "annotations"), OWN_BUNDLE_SOURCE_ANNOTATION));
  return src ? strdup(src) : NULL;
}
