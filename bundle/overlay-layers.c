/* SPDX-License-Identifier: Apache-2.0 */
#include "overlay-layers.h"

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

/* the longest overlay path: a few of them must fit one page of options */
#define OVERLAY_PATH_MAX 1024

void bundle_overlays_clear(struct bundle_overlays *o)
{
  free(o->upper_base);
  for (size_t i = 0; i < o->n_files; i++)
    free(o->files[i].path);
  for (size_t i = 0; i < o->n_lower; i++)
    free(o->lower_dirs[i]);
  free(o->lower_dirs);
  memset(o, 0, sizeof(*o));
}

bool bundle_overlays_any(const struct bundle_overlays *o)
{
  return o != NULL && (o->upper_base != NULL || o->n_lower > 0 || o->n_files > 0 ||
                       o->tmpfs_upper || o->sif_writable);
}

void bundle_overlays_file_mount(size_t i, char *buf, size_t size)
{
  snprintf(buf, size, "%s/%zu", BUNDLE_OVERLAY_FILES_DIR, i);
}

const struct bundle_overlay_file *bundle_overlays_upper_file(const struct bundle_overlays *o)
{
  for (size_t i = 0; o != NULL && i < o->n_files; i++)
    if (o->files[i].writable)
      return &o->files[i];
  return NULL;
}

int bundle_overlays_lower_path(const struct bundle_overlays *o, size_t i, const char *bundle,
                               char *buf, size_t size)
{
  int n;
  if (o->lower_dirs[i] != NULL) {
    n = snprintf(buf, size, "%s", o->lower_dirs[i]);
  } else {
    size_t f = o->lower_file[i];
    char mnt[32];
    bundle_overlays_file_mount(f, mnt, sizeof(mnt));
    n = snprintf(buf, size, "%s/%s%s", bundle, mnt,
                 o->files[f].kind == BUNDLE_OVERLAY_EXT3 ? "/upper" : "");
  }
  return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* A directory's path, checked for what overlayfs options carry. */
static int check_dir_path(const char *arg, const char *real, oci_error **err)
{
  if (strpbrk(real, ",:\\\n") != NULL)
    return oci_error_set(err, 0,
                         "--overlay '%s': the path '%s' contains ',', ':', '\\' or a newline, "
                         "which overlayfs options cannot carry",
                         arg, real);
  if (strlen(real) > OVERLAY_PATH_MAX)
    return oci_error_set(err, ENAMETOOLONG, "--overlay '%s'", arg);
  return 0;
}

/* A read-only DIR layer: DIR/upper when DIR was a writable overlay before. */
static int lower_dir(const char *arg, char **dir, char **ret, oci_error **err)
{
  cleanup_free char *upper = NULL;
  struct stat st;
  if (asprintf(&upper, "%s/upper", *dir) < 0)
    return oci_error_set(err, ENOMEM, "--overlay '%s'", arg);
  if (lstat(upper, &st) == 0 && S_ISDIR(st.st_mode))
    *ret = steal_ptr(&upper);
  else
    *ret = steal_ptr(dir);
  return 0;
}

enum mode_suffix { SUFFIX_NONE, SUFFIX_RO, SUFFIX_RW };

static int only_one_writable(const char *arg, const struct bundle_overlays *o, oci_error **err)
{
  if (o->upper_base == NULL && bundle_overlays_upper_file(o) == NULL && !o->tmpfs_upper &&
      !o->sif_writable)
    return 0;
  return oci_error_set(err, 0,
                       "--overlay '%s': only one writable layer (%s; add ':ro' to the others)", arg,
                       o->tmpfs_upper    ? "--writable-tmpfs is one"
                       : o->sif_writable ? "--writable is one"
                                         : "another --overlay is one");
}

/* An image file: its kind by content, what the suffix may make of it, and
 * not given twice. */
static int parse_file(const char *arg, char **real, const struct stat *st, enum mode_suffix sfx,
                      struct bundle_overlays *o, oci_error **err)
{
  cleanup_close int fd = open(*real, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return oci_error_set(err, errno, "--overlay '%s'", arg);
  struct bundle_overlay_file f = {
      .dev = st->st_dev, .ino = st->st_ino, .size = (uint64_t)st->st_size};
  if (bundle_overlay_image_probe(fd, &f.kind, err) < 0)
    return oci_error_prefix(err, "--overlay '%s'", arg);
  if (f.kind == BUNDLE_OVERLAY_SQUASHFS && sfx == SUFFIX_RW)
    return oci_error_set(err, 0,
                         "--overlay '%s': a squashfs file is read-only; it cannot be the writable "
                         "layer (leave out ':rw')",
                         arg);
  for (size_t i = 0; i < o->n_files; i++)
    if (o->files[i].dev == f.dev && o->files[i].ino == f.ino)
      return oci_error_set(err, 0, "--overlay '%s': the same file as '%s', given twice", arg,
                           o->files[i].path);
  f.writable = f.kind == BUNDLE_OVERLAY_EXT3 && sfx != SUFFIX_RO;
  if (f.writable && only_one_writable(arg, o, err) < 0)
    return -1;
  if (!f.writable) {
    o->lower_dirs[o->n_lower] = NULL;
    o->lower_file[o->n_lower++] = o->n_files;
  }
  f.path = steal_ptr(real);
  o->files[o->n_files++] = f;
  return 0;
}

static int parse_one(const char *arg, struct bundle_overlays *o, oci_error **err)
{
  size_t len = strlen(arg);
  enum mode_suffix sfx = len > 3 && strcmp(arg + len - 3, ":ro") == 0   ? SUFFIX_RO
                         : len > 3 && strcmp(arg + len - 3, ":rw") == 0 ? SUFFIX_RW
                                                                        : SUFFIX_NONE;
  cleanup_free char *path = strndup(arg, sfx != SUFFIX_NONE ? len - 3 : len);
  if (path == NULL)
    return oci_error_set(err, ENOMEM, "--overlay");
  if (*path == '\0')
    return oci_error_set(err, 0, "--overlay '%s': no path", arg);
  cleanup_free char *real = realpath(path, NULL);
  struct stat st;
  if (real == NULL || stat(real, &st) < 0)
    return oci_error_set(err, errno, "--overlay '%s'", arg);
  /* room for one more lower layer (at most BUNDLE_OVERLAYS_MAX in all) */
  char **n = realloc(o->lower_dirs, (o->n_lower + 1) * sizeof(char *));
  if (n == NULL)
    return oci_error_set(err, ENOMEM, "--overlay");
  o->lower_dirs = n;
  if (S_ISREG(st.st_mode))
    return parse_file(arg, &real, &st, sfx, o, err);
  if (!S_ISDIR(st.st_mode))
    return oci_error_set(err, 0,
                         "--overlay '%s': neither a directory nor an image file (ext3 or "
                         "squashfs)",
                         arg);
  if (check_dir_path(arg, real, err) < 0)
    return -1;
  if (sfx != SUFFIX_RO) {
    if (only_one_writable(arg, o, err) < 0)
      return -1;
    o->upper_base = steal_ptr(&real);
    return 0;
  }
  if (lower_dir(arg, &real, &o->lower_dirs[o->n_lower], err) < 0)
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
    if (ret->lower_dirs[i] != NULL && is_inside(ret->lower_dirs[i], ret->upper_base)) {
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

int bundle_overlays_check_method(const struct bundle_overlays *o, const char *method,
                                 oci_error **err)
{
  if (!bundle_overlays_any(o))
    return 0;
  if (strcmp(method, "extract") == 0)
    return oci_error_set(err, 0,
                         "--method extract unpacks the image into a plain directory, with no "
                         "overlay to stack layers in: --overlay, --writable-tmpfs and --writable "
                         "need --method kernel (root)");
  if (o->n_files > 0)
    return oci_error_set(
        err, 0, "--overlay '%s': %s", o->files[0].path,
        o->files[0].kind == BUNDLE_OVERLAY_EXT3
            ? "an ext3 image file needs --method kernel (root); without root it would take "
              "fuse2fs, which oci mount does not drive yet"
            : "a squashfs file as a layer needs --method kernel (root); --method fuse does not "
              "stack it yet");
  if (o->sif_writable)
    return oci_error_set(err, 0,
                         "--writable needs --method kernel (root): the SIF's ext3 partition is "
                         "mounted from a loop device");
  if (o->tmpfs_upper)
    return oci_error_set(err, 0,
                         "--writable-tmpfs needs --method kernel (root); --method %s does not "
                         "take it yet",
                         method);
  return 0; /* directories: fuse-overlayfs stacks them */
}

static int append(json_t *list, const char *path, const char *mode)
{
  return json_array_append_new(list, json_pack("{s:s?, s:s}", "path", path, "mode", mode));
}

static int append_file(json_t *list, const struct bundle_overlays *o, size_t i)
{
  const struct bundle_overlay_file *f = &o->files[i];
  char mnt[32];
  bundle_overlays_file_mount(i, mnt, sizeof(mnt));
  return json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "path",
                                               f->path, "mode", f->writable ? "rw" : "ro", "kind",
                                               bundle_overlay_kind_name(f->kind), "dev",
                                               (json_int_t)f->dev, "ino", (json_int_t)f->ino,
                                               "size", (json_int_t)f->size, "mount", mnt));
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
  const struct bundle_overlay_file *upper = bundle_overlays_upper_file(o);
  if (upper != NULL)
    r |= append_file(list, o, (size_t)(upper - o->files));
  if (o->tmpfs_upper)
    r |= append(list, NULL, "tmpfs");
  if (o->sif_writable)
    r |= append(list, NULL, "sif-partition");
  for (size_t i = 0; i < o->n_lower; i++)
    r |= o->lower_dirs[i] != NULL ? append(list, o->lower_dirs[i], "ro")
                                  : append_file(list, o, o->lower_file[i]);
  if (r != 0) {
    json_decref(list);
    return NULL;
  }
  return list;
}

/* D is 1 to MAX decimal digits and nothing else, without a leading zero
 * (so one number has one spelling) */
static bool digits_ok(const char *d, size_t max)
{
  size_t nd = strspn(d, "0123456789");
  return nd > 0 && nd <= max && d[nd] == '\0' && (d[0] != '0' || nd == 1);
}

bool bundle_overlays_mount_name_ok(const char *name)
{
  size_t n = strlen(BUNDLE_OVERLAY_FILES_DIR);
  if (name == NULL || strncmp(name, BUNDLE_OVERLAY_FILES_DIR "/", n + 1) != 0)
    return false;
  return digits_ok(name + n + 1, 2) && (size_t)atoi(name + n + 1) < BUNDLE_OVERLAYS_MAX;
}

static bool is_count(const json_t *v)
{
  return json_is_integer(v) && json_integer_value(v) >= 0;
}

/* {"device": "/dev/loopN", "major": M, "minor": N, "attached": B} */
static bool loop_ok(const json_t *l)
{
  const char *dev = json_string_value(json_object_get(l, "device"));
  if (dev == NULL || strncmp(dev, "/dev/loop", 9) != 0 || !digits_ok(dev + 9, 7))
    return false;
  json_t *maj = json_object_get(l, "major"), *min = json_object_get(l, "minor");
  return is_count(maj) && json_integer_value(maj) <= 0xfff && is_count(min) &&
         json_integer_value(min) <= 0xfffff && json_is_boolean(json_object_get(l, "attached"));
}

/* An image file's entry: its kind, identity, mount point, loop device. */
static bool file_entry_ok(const json_t *e, const char *mode, bool *seen)
{
  enum bundle_overlay_kind kind =
      bundle_overlay_kind_from_name(json_string_value(json_object_get(e, "kind")));
  const char *mnt = json_string_value(json_object_get(e, "mount"));
  json_t *loop = json_object_get(e, "loop");
  if (kind == BUNDLE_OVERLAY_KIND_MAX ||
      (kind == BUNDLE_OVERLAY_SQUASHFS && strcmp(mode, "ro") != 0) ||
      !is_count(json_object_get(e, "dev")) || !is_count(json_object_get(e, "ino")) ||
      !is_count(json_object_get(e, "size")) || !bundle_overlays_mount_name_ok(mnt) ||
      (loop != NULL && !loop_ok(loop)))
    return false;
  size_t n = (size_t)atoi(mnt + strlen(BUNDLE_OVERLAY_FILES_DIR) + 1);
  if (seen[n])
    return false; /* two entries, one mount point */
  seen[n] = true;
  return true;
}

bool bundle_overlays_json_ok(const json_t *j)
{
  if (!json_is_array(j) || json_array_size(j) > BUNDLE_OVERLAYS_MAX + 1)
    return false;
  bool seen[BUNDLE_OVERLAYS_MAX] = {false};
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
    if (json_object_get(e, "kind") != NULL && (pathless || !file_entry_ok(e, mode, seen)))
      return false;
  }
  return true;
}
