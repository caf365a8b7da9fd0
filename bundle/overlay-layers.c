/* SPDX-License-Identifier: Apache-2.0 */
#include "overlay-layers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

/* the longest overlay path: a few of them must fit one page of options */
#define OVERLAY_PATH_MAX 1024

void bundle_overlays_clear(struct bundle_overlays *o)
{
  free(o->upper_base);
  for (size_t i = 0; i < o->n_lower; i++)
    free(o->lower_dirs[i]);
  free(o->lower_dirs);
  memset(o, 0, sizeof(*o));
}

bool bundle_overlays_any(const struct bundle_overlays *o)
{
  return o != NULL &&
         (o->upper_base != NULL || o->n_lower > 0 || o->tmpfs_upper || o->sif_writable);
}

/* ARG's directory, canonical, checked for what overlayfs options carry. */
static int resolve_dir(const char *arg, const char *path, char **ret, oci_error **err)
{
  cleanup_free char *real = realpath(path, NULL);
  if (real == NULL)
    return oci_error_set(err, errno, "--overlay '%s'", arg);
  struct stat st;
  if (stat(real, &st) < 0)
    return oci_error_set(err, errno, "--overlay '%s'", arg);
  if (!S_ISDIR(st.st_mode))
    return oci_error_set(err, 0,
                         "--overlay '%s': not a directory (image-file overlays, ext3 or squashfs, "
                         "are not supported yet)",
                         arg);
  if (strpbrk(real, ",:\\\n") != NULL)
    return oci_error_set(err, 0,
                         "--overlay '%s': the path '%s' contains ',', ':', '\\' or a newline, "
                         "which overlayfs options cannot carry",
                         arg, real);
  if (strlen(real) > OVERLAY_PATH_MAX)
    return oci_error_set(err, ENAMETOOLONG, "--overlay '%s'", arg);
  *ret = steal_ptr(&real);
  return 0;
}

/* A read-only layer: DIR/upper when DIR was a writable overlay before. */
static int resolve_lower(const char *arg, const char *path, char **ret, oci_error **err)
{
  cleanup_free char *dir = NULL;
  if (resolve_dir(arg, path, &dir, err) < 0)
    return -1;
  cleanup_free char *upper = NULL;
  struct stat st;
  if (asprintf(&upper, "%s/upper", dir) < 0)
    return oci_error_set(err, ENOMEM, "--overlay '%s'", arg);
  if (lstat(upper, &st) == 0 && S_ISDIR(st.st_mode)) {
    *ret = steal_ptr(&upper);
    return 0;
  }
  *ret = steal_ptr(&dir);
  return 0;
}

static int parse_one(const char *arg, struct bundle_overlays *o, oci_error **err)
{
  size_t len = strlen(arg);
  bool ro = len > 3 && strcmp(arg + len - 3, ":ro") == 0;
  bool rw = len > 3 && strcmp(arg + len - 3, ":rw") == 0;
  cleanup_free char *path = strndup(arg, ro || rw ? len - 3 : len);
  if (path == NULL)
    return oci_error_set(err, ENOMEM, "--overlay");
  if (*path == '\0')
    return oci_error_set(err, 0, "--overlay '%s': no path", arg);
  if (!ro) {
    if (o->upper_base != NULL || o->tmpfs_upper || o->sif_writable)
      return oci_error_set(
          err, 0, "--overlay '%s': only one writable layer (%s; add ':ro' to the others)", arg,
          o->tmpfs_upper    ? "--writable-tmpfs is one"
          : o->sif_writable ? "--writable is one"
                            : "another --overlay is one");
    return resolve_dir(arg, path, &o->upper_base, err);
  }
  char **n = realloc(o->lower_dirs, (o->n_lower + 1) * sizeof(char *));
  if (n == NULL)
    return oci_error_set(err, ENOMEM, "--overlay");
  o->lower_dirs = n;
  if (resolve_lower(arg, path, &o->lower_dirs[o->n_lower], err) < 0)
    return -1;
  o->n_lower++;
  return 0;
}

/* PATH is DIR or below it */
static bool is_inside(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

int bundle_overlays_parse(const char *const *args, size_t n, bool writable_tmpfs, bool writable,
                          struct bundle_overlays *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  if (n > BUNDLE_OVERLAYS_MAX)
    return oci_error_set(err, 0, "at most %d --overlay options", BUNDLE_OVERLAYS_MAX);
  if (writable_tmpfs && writable)
    return oci_error_set(err, 0, "--writable and --writable-tmpfs: only one writable layer");
  ret->tmpfs_upper = writable_tmpfs;
  ret->sif_writable = writable;
  for (size_t i = 0; i < n; i++)
    if (parse_one(args[i], ret, err) < 0) {
      bundle_overlays_clear(ret);
      return -1;
    }
  for (size_t i = 0; ret->upper_base != NULL && i < ret->n_lower; i++)
    if (is_inside(ret->lower_dirs[i], ret->upper_base)) {
      bundle_overlays_clear(ret);
      return oci_error_set(err, 0, "--overlay: a read-only layer inside the writable one");
    }
  return 0;
}

int bundle_overlays_prepare_upper(const struct bundle_overlays *o, oci_error **err)
{
  if (o->upper_base == NULL)
    return 0;
  cleanup_close int fd = open(o->upper_base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return oci_error_set(err, errno, "--overlay '%s'", o->upper_base);
  bool created;
  if (fs_mkdir_at(fd, "upper", 0755, &created, err) < 0 ||
      fs_mkdir_at(fd, "work", 0700, &created, err) < 0)
    return oci_error_prefix(err, "--overlay '%s'", o->upper_base);
  /* an existing name must be a directory, not a link out of DIR */
  struct stat st;
  if (fstatat(fd, "upper", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode) ||
      fstatat(fd, "work", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
    return oci_error_set(err, 0, "--overlay '%s': upper and work must be directories",
                         o->upper_base);
  return 0;
}

static int append(json_t *list, const char *path, const char *mode)
{
  return json_array_append_new(list, json_pack("{s:s?, s:s}", "path", path, "mode", mode));
}

json_t *bundle_overlays_json(const struct bundle_overlays *o)
{
  if (!bundle_overlays_any(o))
    return NULL;
  json_t *list = json_array();
  if (list == NULL)
    return NULL;
  int r = 0;
  if (o->upper_base != NULL)
    r |= append(list, o->upper_base, "rw");
  if (o->tmpfs_upper)
    r |= append(list, NULL, "tmpfs");
  if (o->sif_writable)
    r |= append(list, NULL, "sif-partition");
  for (size_t i = 0; i < o->n_lower; i++)
    r |= append(list, o->lower_dirs[i], "ro");
  if (r != 0) {
    json_decref(list);
    return NULL;
  }
  return list;
}

bool bundle_overlays_json_ok(const json_t *j)
{
  if (!json_is_array(j) || json_array_size(j) > BUNDLE_OVERLAYS_MAX + 1)
    return false;
  size_t i;
  json_t *e;
  json_array_foreach(j, i, e)
  {
    const char *mode = json_string_value(json_object_get(e, "mode"));
    json_t *path = json_object_get(e, "path");
    if (mode == NULL)
      return false;
    bool pathless = strcmp(mode, "tmpfs") == 0 || strcmp(mode, "sif-partition") == 0;
    bool with_path = strcmp(mode, "rw") == 0 || strcmp(mode, "ro") == 0;
    if (pathless ? path != NULL && !json_is_null(path) : !with_path || !json_is_string(path))
      return false;
  }
  return true;
}
