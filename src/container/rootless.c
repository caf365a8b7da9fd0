/* SPDX-License-Identifier: Apache-2.0 */
#include "rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "idmap.h"

#define CGROUP2_ROOT "/sys/fs/cgroup"

bool rootless_active(void)
{
  return geteuid() != 0;
}

static json_t *mappings_json(const struct idmap_range *r, size_t n)
{
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++)
    if (json_array_append_new(
            a, json_pack("{s:I, s:I, s:I}", "containerID", (json_int_t)r[i].inside, "hostID",
                         (json_int_t)r[i].outside, "size", (json_int_t)r[i].count)) < 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

static int add_user_namespace(json_t *linux_obj)
{
  json_t *ns = json_object_get(linux_obj, "namespaces");
  if (!json_is_array(ns)) {
    ns = json_array();
    if (json_object_set_new(linux_obj, "namespaces", ns) < 0)
      return -1;
  }
  size_t i;
  json_t *n;
  json_array_foreach(ns, i, n)
  {
    const char *type = json_string_value(json_object_get(n, "type"));
    if (type != NULL && strcmp(type, "user") == 0)
      return 0;
  }
  return json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
}

/* "gid=5" on devpts names a group the namespace may not map: the mount
 * would fail.  Such options go, as runc's own rootless spec does. */
static int drop_unmapped_id_options(json_t *config, const struct idmap *m)
{
  size_t i;
  json_t *mount;
  json_array_foreach(json_object_get(config, "mounts"), i, mount)
  {
    json_t *opts = json_object_get(mount, "options");
    for (size_t j = json_array_size(opts); j-- > 0;) {
      const char *o = json_string_value(json_array_get(opts, j));
      bool gid = o != NULL && strncmp(o, "gid=", 4) == 0;
      if (o == NULL || (!gid && strncmp(o, "uid=", 4) != 0))
        continue;
      char *end;
      unsigned long id = strtoul(o + 4, &end, 10);
      if (*end != '\0' || id > UINT32_MAX || !idmap_maps(m, gid, (uint32_t)id))
        if (json_array_remove(opts, j) < 0)
          return -1;
    }
  }
  return 0;
}

/* The cgroup v2 directory this process is in, when the user owns it (a
 * delegated subtree, as systemd gives user@UID.service): its path under
 * the hierarchy in RET ("/user.slice/..."); false otherwise. */
static bool delegated_cgroup(char *ret, size_t len)
{
  struct stat st;
  if (stat(CGROUP2_ROOT "/cgroup.controllers", &st) < 0)
    return false; /* not a unified hierarchy: no delegation for users */
  cleanup_free char *text = NULL;
  cleanup_error oci_error *e = NULL;
  if (fs_read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, 0, &text, NULL, &e) != 0)
    return false;
  char *line = strstr(text, "0::");
  if (line == NULL || line != text)
    return false;
  char *nl = strchr(line, '\n');
  if (nl)
    *nl = '\0';
  const char *path = line + 3;
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), CGROUP2_ROOT "%s", path);
  /* our own leaf holds us: the container's cgroup goes beside it, in the
   * parent we must own too */
  char *slash = strrchr(dir, '/');
  if (slash == NULL || slash == dir + strlen(CGROUP2_ROOT))
    return false;
  *slash = '\0';
  if (stat(dir, &st) < 0 || st.st_uid != geteuid() || access(dir, W_OK) < 0)
    return false;
  snprintf(ret, len, "%s", dir + strlen(CGROUP2_ROOT));
  return true;
}

/* Resource settings the runtime would have to apply (devices rules are
 * not limits: without cgroups the runtime's own device list applies). */
static const char *first_limit(json_t *resources)
{
  const char *key;
  json_t *v;
  json_object_foreach(resources, key, v)
  {
    if (strcmp(key, "devices") == 0 || json_is_null(v))
      continue;
    if ((json_is_object(v) && json_object_size(v) == 0) ||
        (json_is_array(v) && json_array_size(v) == 0))
      continue;
    return key;
  }
  return NULL;
}

int rootless_adjust_config(json_t *config, const char *cgroup_leaf, oci_error **err)
{
  struct idmap m;
  if (idmap_for_user(getuid(), getgid(), &m, err) < 0)
    return -1;
  if (idmap_has_subids(&m) && !idmap_helpers_found(NULL))
    return oci_error_set(err, 0,
                         "this user has subordinate IDs in /etc/subuid or /etc/subgid but "
                         "newuidmap/newgidmap are not installed (Debian: apt-get install uidmap)");
  json_t *linux_obj = json_object_get(config, "linux");
  if (add_user_namespace(linux_obj) < 0)
    return oci_error_set(err, ENOMEM, "config");
  if (json_object_get(linux_obj, "uidMappings") == NULL &&
      json_object_set_new(linux_obj, "uidMappings", mappings_json(m.uid, m.n_uid)) < 0)
    return oci_error_set(err, ENOMEM, "config");
  if (json_object_get(linux_obj, "gidMappings") == NULL &&
      json_object_set_new(linux_obj, "gidMappings", mappings_json(m.gid, m.n_gid)) < 0)
    return oci_error_set(err, ENOMEM, "config");
  if (drop_unmapped_id_options(config, &m) < 0)
    return oci_error_set(err, ENOMEM, "config");

  char base[PATH_MAX];
  json_t *resources = json_object_get(linux_obj, "resources");
  if (delegated_cgroup(base, sizeof(base))) {
    cleanup_free char *path = NULL;
    if (asprintf(&path, "%s/%s", base, cgroup_leaf) < 0 ||
        json_object_set_new(linux_obj, "cgroupsPath", json_string(path)) < 0)
      return oci_error_set(err, ENOMEM, "config");
    return 0;
  }
  const char *limit = first_limit(resources);
  if (limit != NULL)
    return oci_error_set(err, 0,
                         "config.json sets linux.resources.%s, but as a user other than root "
                         "without a delegated cgroup (cgroup v2, owned by you) no limit can be "
                         "applied; remove it or run where cgroups are delegated",
                         limit);
  json_object_del(linux_obj, "resources");
  json_object_del(linux_obj, "cgroupsPath");
  return 0;
}

bool rootless_has_cgroup(void)
{
  char base[PATH_MAX];
  return delegated_cgroup(base, sizeof(base));
}

const char *rootless_mapping_note(void)
{
  struct idmap m;
  cleanup_error oci_error *e = NULL;
  if (!rootless_active() || idmap_for_user(getuid(), getgid(), &m, &e) < 0 || idmap_has_subids(&m))
    return NULL;
  return "note: no subordinate IDs for this user in /etc/subuid and /etc/subgid: the container "
         "has one user and one group (root, which is you); other IDs cannot be used";
}
