/* SPDX-License-Identifier: Apache-2.0 */
#include "overlay-files.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "loop.h"
#include "overlay-image.h"

#define SQUASHFS_MAGIC_NUMBER 0x73717368L
#define EXT_MAGIC_NUMBER 0xEF53L

/* REC's entry for mount point MNT */
static json_t *entry_of(const struct bundle_record *rec, const char *mnt)
{
  size_t i;
  json_t *e;
  json_array_foreach(rec->overlays, i, e)
  {
    const char *m = json_string_value(json_object_get(e, "mount"));
    if (m != NULL && strcmp(m, mnt) == 0)
      return e;
  }
  return NULL;
}

static int record_loop(json_t *entry, const struct bundle_loop *loop, int dirfd,
                       const struct bundle_record *rec, oci_error **err)
{
  json_t *l = json_pack("{s:s, s:I, s:I, s:b}", "device", loop->path, "major",
                        (json_int_t)major(loop->rdev), "minor", (json_int_t)minor(loop->rdev),
                        "attached", loop->attached);
  if (l == NULL || json_object_set_new(entry, "loop", l) < 0)
    return oci_error_set(err, ENOMEM, "mount record");
  return bundle_record_save(dirfd, rec, err);
}

/* e2fsck -n on the device about to be mounted read-write */
static int fsck(const struct bundle_overlay_file *f, const char *device, oci_error **err)
{
  int status = 0;
  if (bundle_ext3_fsck(device, &status, err) < 0)
    return oci_error_prefix(err, "--overlay '%s' (or add ':ro')", f->path);
  if (status == 0)
    return 0;
  return oci_error_set(err, 0,
                       "--overlay '%s': e2fsck -n finds the ext3 file system damaged (exit %d): "
                       "repair it first (e2fsck -f '%s') or add ':ro'",
                       f->path, status, f->path);
}

/* The image file, again, for what the loop device is backed by: the same
 * file parse checked, opened read-write only when it is the upper. */
static int open_file(const struct bundle_overlay_file *f, oci_error **err)
{
  cleanup_close int fd = open(f->path, (f->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return oci_error_set(err, errno, "--overlay '%s'%s", f->path,
                         f->writable && (errno == EROFS || errno == EACCES || errno == EPERM)
                             ? ": cannot be opened for writing (add ':ro')"
                             : "");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return oci_error_set(err, errno, "--overlay '%s'", f->path);
  if (st.st_dev != f->dev || st.st_ino != f->ino || (uint64_t)st.st_size != f->size)
    return oci_error_set(err, 0, "--overlay '%s': the file was replaced or changed size", f->path);
  return steal_fd(&fd);
}

static int in_use(const struct bundle_overlay_file *f, oci_error **err)
{
  return oci_error_set(err, 0, "--overlay '%s': in use by another bundle%s (umount that one first)",
                       f->path, f->writable ? "" : " that writes to it");
}

/* Loop device, record, check, mount: under the file's lock. */
static int mount_locked(const struct bundle_overlay_file *f, int fd, const char *mnt, int dirfd,
                        struct bundle_record *rec, oci_error **err)
{
  struct bundle_loop_target t = {f->dev, f->ino, 0, f->size, f->writable};
  /* a writable file has one user; a read-only one no writer beside it */
  if (bundle_loop_maps(&t, !f->writable))
    return in_use(f, err);
  struct bundle_loop loop = {.fd = -1};
  if (bundle_loop_get(fd, f->path, &t, &loop, err) < 0)
    return oci_error_prefix(err, "--overlay '%s'", f->path);
  int r = record_loop(entry_of(rec, mnt), &loop, dirfd, rec, err);
  if (r == 0 && f->writable)
    r = fsck(f, loop.path, err);
  if (r == 0 && (r = fs_mkdir_at(dirfd, mnt, 0700, NULL, err)) == 0 &&
      (r = fs_mount_at(loop.path, dirfd, mnt, bundle_overlay_kind_name(f->kind),
                       (f->writable ? 0 : MS_RDONLY) | MS_NODEV | MS_NOSUID, NULL, err)) < 0)
    oci_error_replace(err, "--overlay '%s': mounting it (%s) from %s on '%s'", f->path,
                      bundle_overlay_kind_name(f->kind), loop.path, mnt);
  /* the mount holds the device now; autoclear frees it with the mount */
  bundle_loop_put(&loop);
  return r;
}

/* An ext3 layer's upper/ (and, writable, work/: both made when missing). */
static int check_dirs(const struct bundle_overlay_file *f, int dirfd, const char *mnt,
                      oci_error **err)
{
  cleanup_close int fd = openat(dirfd, mnt, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return oci_error_set(err, errno, "--overlay '%s'", f->path);
  bool created;
  if (f->writable && (fs_mkdir_at(fd, "upper", 0755, &created, err) < 0 ||
                      fs_mkdir_at(fd, "work", 0700, &created, err) < 0))
    return oci_error_prefix(err, "--overlay '%s'", f->path);
  struct stat st;
  if (fstatat(fd, "upper", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
    return oci_error_set(err, 0,
                         "--overlay '%s': the ext3 file system has no upper/ directory (one "
                         "used writable, or made by singularity overlay create, has)",
                         f->path);
  if (f->writable && (fstatat(fd, "work", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode)))
    return oci_error_set(err, 0, "--overlay '%s': its work is not a directory", f->path);
  return 0;
}

int bundle_overlay_files_mount(const struct bundle_overlays *o, int dirfd,
                               struct bundle_record *rec, oci_error **err)
{
  if (o == NULL || o->n_files == 0)
    return 0;
  if (bundle_record_add_created(rec, BUNDLE_OVERLAY_FILES_DIR, err) < 0 ||
      bundle_record_save(dirfd, rec, err) < 0 ||
      fs_mkdir_at(dirfd, BUNDLE_OVERLAY_FILES_DIR, 0700, NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < o->n_files; i++) {
    const struct bundle_overlay_file *f = &o->files[i];
    char mnt[32];
    bundle_overlays_file_mount(i, mnt, sizeof(mnt));
    if (entry_of(rec, mnt) == NULL)
      return oci_error_set(err, EINVAL, "mount record: no entry for '%s'", mnt);
    cleanup_close int fd = open_file(f, err);
    if (fd < 0)
      return -1;
    if (flock(fd, (f->writable ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0)
      return errno == EWOULDBLOCK
                 ? in_use(f, err)
                 : oci_error_set(err, errno, "--overlay '%s': locking it", f->path);
    if (mount_locked(f, fd, mnt, dirfd, rec, err) < 0)
      return -1;
    if (f->kind == BUNDLE_OVERLAY_EXT3 && check_dirs(f, dirfd, mnt, err) < 0)
      return -1;
  }
  return 0;
}

static int unmount_one(int dirfd, const json_t *e, oci_error **err)
{
  const char *mnt = json_string_value(json_object_get(e, "mount"));
  enum bundle_overlay_kind kind =
      bundle_overlay_kind_from_name(json_string_value(json_object_get(e, "kind")));
  bool is_mount = false;
  long fstype = 0;
  dev_t dev = 0;
  if (fs_mount_state_at(dirfd, mnt, &is_mount, &fstype, &dev, err) < 0)
    return -1;
  if (is_mount &&
      fstype != (kind == BUNDLE_OVERLAY_EXT3 ? EXT_MAGIC_NUMBER : SQUASHFS_MAGIC_NUMBER))
    return oci_error_set(err, 0, "'%s' holds a mount that is not the %s oci mount made", mnt,
                         bundle_overlay_kind_name(kind));
  if (is_mount && fs_umount_at(dirfd, mnt, err) < 0)
    return oci_error_replace(
        err, "unmounting '%s'%s", mnt,
        oci_error_errnum(err ? *err : NULL) == EBUSY ? " (is a process using the bundle?)" : "");
  json_t *l = json_object_get(e, "loop");
  if (l == NULL || !json_is_true(json_object_get(l, "attached")))
    return 0;
  struct bundle_loop_target t = {(dev_t)json_integer_value(json_object_get(e, "dev")),
                                 (ino_t)json_integer_value(json_object_get(e, "ino")), 0,
                                 (uint64_t)json_integer_value(json_object_get(e, "size")),
                                 strcmp(json_string_value(json_object_get(e, "mode")), "rw") == 0};
  dev_t rdev = makedev((unsigned)json_integer_value(json_object_get(l, "major")),
                       (unsigned)json_integer_value(json_object_get(l, "minor")));
  return bundle_loop_release(json_string_value(json_object_get(l, "device")), rdev, &t, err);
}

int bundle_overlay_files_unmount(int dirfd, const struct bundle_record *rec, oci_error **err)
{
  size_t i;
  json_t *e;
  /* bundle_record_load checked every entry (bundle_overlays_json_ok) */
  json_array_foreach(rec->overlays, i, e)
  {
    if (json_object_get(e, "mount") != NULL && unmount_one(dirfd, e, err) < 0)
      return -1;
  }
  return 0;
}
