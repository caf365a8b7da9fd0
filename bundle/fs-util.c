/* SPDX-License-Identifier: Apache-2.0 */
#include "fs-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"

/* Deeper trees than this in a bundle (container writes in overlay/upper)
 * are refused rather than risk running out of fds. */
#define RM_MAX_DEPTH 256

static int write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int bundle_write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                         bool exclusive, oci_error **err)
{
  char tmp[256];
  if (snprintf(tmp, sizeof(tmp), "%s%s.tmp", name[0] == '.' ? "" : ".", name) >= (int)sizeof(tmp))
    return oci_error_set(err, ENAMETOOLONG, "writing '%s'", name);
  /* A leftover from a crash is ours (the bundle is 0700 and root's). */
  if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
    return oci_error_set(err, errno, "removing stale '%s'", tmp);
  cleanup_close int fd =
      openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0600);
  if (fd < 0)
    return oci_error_set(err, errno, "creating '%s'", tmp);
  if (write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return oci_error_set(err, e, "writing '%s'", tmp);
  }
  int r = exclusive ? renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE)
                    : renameat(dirfd, tmp, dirfd, name);
  if (r < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return oci_error_set(err, e, "renaming '%s' to '%s'", tmp, name);
  }
  return 0;
}

static int read_file_at(int dirfd, const char *name, size_t max, bool root_owned, char **ret_data,
                        size_t *ret_len, oci_error **err)
{
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
  if (fd < 0 && errno == ENOENT)
    return 1;
  if (fd < 0)
    return oci_error_set(err, errno, "opening '%s'", name);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return oci_error_set(err, errno, "stat '%s'", name);
  if (!S_ISREG(st.st_mode))
    return oci_error_set(err, 0, "'%s' is not a regular file", name);
  if (root_owned && (st.st_uid != 0 || (st.st_mode & 0022)))
    return oci_error_set(err, 0, "'%s' is not a regular root-owned file writable only by root",
                         name);
  if ((uint64_t)st.st_size > max)
    return oci_error_set(err, 0, "'%s' is larger than %zu bytes", name, max);
  cleanup_free char *buf = malloc(max + 1);
  if (buf == NULL)
    return oci_error_set(err, ENOMEM, "reading '%s'", name);
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, buf + got, max + 1 - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return oci_error_set(err, errno, "reading '%s'", name);
    if (n == 0)
      break;
    got += (size_t)n;
    if (got > max)
      return oci_error_set(err, 0, "'%s' is larger than %zu bytes", name, max);
  }
  buf[got] = '\0';
  *ret_data = steal_ptr(&buf);
  if (ret_len)
    *ret_len = got;
  return 0;
}

int bundle_read_file_at(int dirfd, const char *name, size_t max, char **ret_data, size_t *ret_len,
                        oci_error **err)
{
  return read_file_at(dirfd, name, max, true, ret_data, ret_len, err);
}

int bundle_read_regular_file_at(int dirfd, const char *name, size_t max, char **ret_data,
                                size_t *ret_len, oci_error **err)
{
  return read_file_at(dirfd, name, max, false, ret_data, ret_len, err);
}

int bundle_mkdir_at(int dirfd, const char *name, mode_t mode, bool *ret_created, oci_error **err)
{
  bool created = true;
  if (mkdirat(dirfd, name, mode) < 0) {
    if (errno != EEXIST || ret_created == NULL)
      return oci_error_set(err, errno, "creating '%s'", name);
    created = false;
  }
  if (ret_created)
    *ret_created = created;
  if (!created)
    return 0;
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fchmod(fd, mode) < 0)
    return oci_error_set(err, errno, "setting the mode of '%s'", name);
  return 0;
}

struct entry_info {
  bool is_dir;
  uint64_t mnt_id;
  bool has_mnt_id;
  dev_t dev;
  bool mount_root;
};

static int entry_info_at(int dirfd, const char *name, struct entry_info *ret)
{
  struct statx stx;
  if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_MNT_ID, &stx) <
      0)
    return -errno;
  ret->is_dir = S_ISDIR(stx.stx_mode);
  ret->has_mnt_id = (stx.stx_mask & STATX_MNT_ID) != 0;
  ret->mnt_id = stx.stx_mnt_id;
  ret->dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
  ret->mount_root = (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                    (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
  return 0;
}

static bool same_mount(const struct entry_info *a, const struct entry_info *b)
{
  if (a->has_mnt_id && b->has_mnt_id)
    return a->mnt_id == b->mnt_id;
  return a->dev == b->dev;
}

static int rm_rf(int parent, const char *name, const struct entry_info *top, int depth,
                 oci_error **err)
{
  struct entry_info info;
  int r = entry_info_at(parent, name, &info);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return oci_error_set(err, -r, "stat '%s'", name);
  if (!info.is_dir) {
    if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
      return oci_error_set(err, errno, "removing '%s'", name);
    return 0;
  }
  if (!same_mount(&info, top) || info.mount_root)
    return oci_error_set(err, EBUSY, "not removing '%s': something is mounted on it", name);
  if (depth > RM_MAX_DEPTH)
    return oci_error_set(err, 0, "not removing '%s': nested more than %d levels", name,
                         RM_MAX_DEPTH);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return oci_error_set(err, errno, "opening '%s'", name);
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return oci_error_set(err, errno, "reading '%s'", name);
  }
  struct dirent *e;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (rm_rf(dirfd(d), e->d_name, top, depth + 1, err) < 0)
      return oci_error_prefix(err, "%s", name);
  }
  if (errno != 0)
    return oci_error_set(err, errno, "reading '%s'", name);
  if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
    return oci_error_set(err, errno, "removing '%s'", name);
  return 0;
}

int bundle_rm_rf_at(int dirfd, const char *name, oci_error **err)
{
  struct entry_info top;
  int r = entry_info_at(dirfd, ".", &top);
  if (r < 0)
    return oci_error_set(err, -r, "stat of the bundle directory");
  return rm_rf(dirfd, name, &top, 0, err);
}

int bundle_mount_state_at(int dirfd, const char *name, bool *ret_is_mount, long *ret_fstype,
                          dev_t *ret_dev, oci_error **err)
{
  *ret_is_mount = false;
  *ret_fstype = 0;
  if (ret_dev)
    *ret_dev = 0;
  struct entry_info info, parent;
  int r = entry_info_at(dirfd, name, &info);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return oci_error_set(err, -r, "stat '%s'", name);
  r = entry_info_at(dirfd, ".", &parent);
  if (r < 0)
    return oci_error_set(err, -r, "stat of the bundle directory");
  *ret_is_mount = info.mount_root || !same_mount(&info, &parent);
  if (ret_dev)
    *ret_dev = info.dev;
  cleanup_close int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  struct statfs sfs;
  if (fd < 0 || fstatfs(fd, &sfs) < 0)
    return oci_error_set(err, errno, "statfs '%s'", name);
  *ret_fstype = (long)sfs.f_type;
  return 0;
}

int bundle_mount_at(const char *source, int dirfd, const char *name, const char *fstype,
                    unsigned long flags, const char *options, oci_error **err)
{
  /* Mount onto the directory we opened, through its /proc/self/fd link:
   * no path walk that a symlink could redirect. */
  cleanup_close int fd = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return oci_error_set(err, errno, "opening '%s'", name);
  char target[64];
  snprintf(target, sizeof(target), "/proc/self/fd/%d", fd);
  if (mount(source, target, fstype, flags, options) < 0)
    return oci_error_set(err, errno, "mounting %s on '%s'", fstype, name);
  return 0;
}

int bundle_umount_at(int dirfd, const char *name, oci_error **err)
{
  /* The directory part goes through our dirfd; the last component is not
   * followed.  No fd may be open on the mount itself, or it is busy. */
  char path[PATH_MAX];
  if (snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name) >= (int)sizeof(path))
    return oci_error_set(err, ENAMETOOLONG, "unmounting '%s'", name);
  if (umount2(path, UMOUNT_NOFOLLOW) < 0)
    return oci_error_set(err, errno, "unmounting '%s'", name);
  return 0;
}

int bundle_dir_is_empty(int dirfd, bool *ret, oci_error **err)
{
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_set(err, errno, "opening the directory");
  cleanup_dir DIR *d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return oci_error_set(err, errno, "reading the directory");
  }
  struct dirent *e;
  *ret = true;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      *ret = false;
      break;
    }
  }
  if (errno != 0)
    return oci_error_set(err, errno, "reading the directory");
  return 0;
}
