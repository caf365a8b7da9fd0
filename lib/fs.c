/* SPDX-License-Identifier: Apache-2.0 */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"

int fs_write_all(int fd, const void *data, size_t len)
{
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      /* O_NONBLOCK set by whoever shares the fd with us: wait, not spin */
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      (void)poll(&pfd, 1, -1);
      continue;
    }
    if (n <= 0) {
      if (n == 0)
        errno = EPIPE;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int fs_tmp_name(const char *name, char *buf, size_t size)
{
  int n = snprintf(buf, size, "%s%s.tmp", name[0] == '.' ? "" : ".", name);
  return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int fs_write_file_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                     unsigned flags, oci_error **err)
{
  char tmp[256];
  if (fs_tmp_name(name, tmp, sizeof(tmp)) < 0)
    return oci_error_set(err, ENAMETOOLONG, "writing '%s'", name);
  /* A leftover from a crash is ours: the directory is private to its
   * owner. */
  if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
    return oci_error_set(err, errno, "removing stale '%s'", tmp);
  cleanup_close int fd =
      openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0600);
  if (fd < 0)
    return oci_error_set(err, errno, "creating '%s'", tmp);
  if (fs_write_all(fd, data, len) < 0 || fchmod(fd, mode) < 0 ||
      ((flags & FS_WRITE_DURABLE) && fsync(fd) < 0)) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return oci_error_set(err, e, "writing '%s'", tmp);
  }
  int r = (flags & FS_WRITE_EXCLUSIVE) ? renameat2(dirfd, tmp, dirfd, name, RENAME_NOREPLACE)
                                       : renameat(dirfd, tmp, dirfd, name);
  if (r < 0) {
    int e = errno;
    unlinkat(dirfd, tmp, 0);
    return oci_error_set(err, e, "renaming '%s' to '%s'", tmp, name);
  }
  return 0;
}

int fs_read_file_at(int dirfd, const char *name, size_t max, unsigned flags, char **ret_data,
                    size_t *ret_len, oci_error **err)
{
  /* O_NONBLOCK: a FIFO in the file's place must not block the open; it is
   * refused below like anything else that is not a regular file */
  cleanup_close int fd =
      openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0 && errno == ENOENT)
    return 1;
  if (fd < 0)
    return oci_error_set(err, errno, "opening '%s'", name);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return oci_error_set(err, errno, "stat '%s'", name);
  if (!S_ISREG(st.st_mode))
    return oci_error_set(err, 0, "'%s' is not a regular file", name);
  if ((flags & FS_READ_ROOT_OWNED) &&
      ((st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 0022)))
    return oci_error_set(err, 0,
                         "'%s' is not a root-owned (or our own) regular file writable only by "
                         "its owner",
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

int fs_mkdir_at(int dirfd, const char *name, mode_t mode, bool *ret_created, oci_error **err)
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

/* One directory on the way down: its identity, to check that ".." still
 * leads to it on the way up, and its name in it. */
struct rm_level {
  dev_t dev;
  ino_t ino;
  char *name;
};

struct rm_walk {
  struct rm_level *levels;
  size_t depth, cap;
  const struct entry_info *top;
};

static void rm_walk_clear(struct rm_walk *w)
{
  for (size_t i = 0; i < w->depth; i++)
    free(w->levels[i].name);
  free(w->levels);
}

/* "a/b/c" of the levels and NAME, for messages. */
static char *rm_walk_path(const struct rm_walk *w, const char *name)
{
  size_t len = name ? strlen(name) + 1 : 1;
  for (size_t i = 0; i < w->depth; i++)
    len += strlen(w->levels[i].name) + 1;
  char *p = malloc(len), *o = p;
  if (p == NULL)
    return NULL;
  for (size_t i = 0; i < w->depth; i++)
    o += sprintf(o, "%s%s", i ? "/" : "", w->levels[i].name);
  if (name)
    sprintf(o, "%s%s", w->depth ? "/" : "", name);
  return p;
}

static int rm_fail(const struct rm_walk *w, const char *name, int errnum, const char *what,
                   oci_error **err)
{
  cleanup_free char *path = rm_walk_path(w, name);
  return oci_error_set(err, errnum, "%s '%s'", what, path ? path : "?");
}

static int rm_push(struct rm_walk *w, int fd, const char *name, oci_error **err)
{
  struct stat st;
  if (fstat(fd, &st) < 0)
    return rm_fail(w, name, errno, "stat", err);
  if (w->depth == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    struct rm_level *l = realloc(w->levels, cap * sizeof(*l));
    if (l == NULL)
      return oci_error_set(err, ENOMEM, "removing");
    w->levels = l;
    w->cap = cap;
  }
  char *copy = strdup(name);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "removing");
  w->levels[w->depth++] = (struct rm_level){.dev = st.st_dev, .ino = st.st_ino, .name = copy};
  return 0;
}

/* Unlink every non-directory in FD; *ret_subdir is the first directory
 * found (allocated), NULL when FD holds nothing else. */
static int rm_files_find_subdir(struct rm_walk *w, int fd, char **ret_subdir, oci_error **err)
{
  *ret_subdir = NULL;
  /* a new open file description: its offset starts at 0, whatever an
   * earlier listing of this directory read */
  int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (lfd < 0)
    return rm_fail(w, NULL, errno, "opening", err);
  cleanup_dir DIR *d = fdopendir(lfd);
  if (d == NULL) {
    close(lfd);
    return rm_fail(w, NULL, errno, "reading", err);
  }
  struct dirent *e;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) {
      if (unlinkat(fd, e->d_name, 0) == 0 || errno == ENOENT)
        continue;
      if (errno != EISDIR)
        return rm_fail(w, e->d_name, errno, "removing", err);
    }
    struct entry_info info = {0};
    int r = entry_info_at(fd, e->d_name, &info);
    if (r == -ENOENT)
      continue;
    if (r < 0)
      return rm_fail(w, e->d_name, -r, "stat", err);
    if (!info.is_dir) {
      if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT)
        return rm_fail(w, e->d_name, errno, "removing", err);
      continue;
    }
    if (!same_mount(&info, w->top) || info.mount_root)
      return rm_fail(w, e->d_name, EBUSY, "not removing (something is mounted on it)", err);
    *ret_subdir = strdup(e->d_name);
    if (*ret_subdir == NULL)
      return oci_error_set(err, ENOMEM, "removing");
    return 0;
  }
  if (errno != 0)
    return rm_fail(w, NULL, errno, "reading", err);
  return 0;
}

/* Depth first, holding one directory fd at a time: down by name, up by
 * "..", checked against the identity recorded on the way down, so a
 * directory moved meanwhile stops the walk instead of redirecting it. */
static int rm_tree(struct rm_walk *w, int dirfd, const char *name, oci_error **err)
{
  cleanup_close int cur = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (cur < 0)
    return errno == ENOENT ? 0 : rm_fail(w, name, errno, "opening", err);
  if (rm_push(w, cur, name, err) < 0)
    return -1;
  while (w->depth > 0) {
    cleanup_free char *sub = NULL;
    if (rm_files_find_subdir(w, cur, &sub, err) < 0)
      return -1;
    if (sub != NULL) {
      int fd = openat(cur, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0)
        return rm_fail(w, sub, errno, "opening", err);
      close(cur);
      cur = fd;
      if (rm_push(w, cur, sub, err) < 0)
        return -1;
      continue;
    }
    struct rm_level *done = &w->levels[w->depth - 1];
    int parent = dirfd;
    if (w->depth > 1) {
      parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      struct stat st;
      const struct rm_level *up = &w->levels[w->depth - 2];
      if (parent < 0 || fstat(parent, &st) < 0) {
        int e = errno;
        if (parent >= 0)
          close(parent);
        return rm_fail(w, NULL, e, "opening the parent of", err);
      }
      if (st.st_dev != up->dev || st.st_ino != up->ino) {
        close(parent);
        return rm_fail(w, NULL, 0, "moved while being removed:", err);
      }
    }
    if (unlinkat(parent, done->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
      int e = errno;
      if (parent != dirfd)
        close(parent);
      return rm_fail(w, NULL, e, "removing", err);
    }
    free(done->name);
    w->depth--;
    close(cur);
    cur = parent == dirfd ? -1 : parent;
  }
  return 0;
}

int fs_rm_rf_at(int dirfd, const char *name, oci_error **err)
{
  struct entry_info top = {0}, info = {0};
  int r = entry_info_at(dirfd, ".", &top);
  if (r < 0)
    return oci_error_set(err, -r, "stat of the directory holding '%s'", name);
  r = entry_info_at(dirfd, name, &info);
  if (r == -ENOENT)
    return 0;
  if (r < 0)
    return oci_error_set(err, -r, "stat '%s'", name);
  if (!info.is_dir) {
    if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
      return oci_error_set(err, errno, "removing '%s'", name);
    return 0;
  }
  if (!same_mount(&info, &top) || info.mount_root)
    return oci_error_set(err, EBUSY, "not removing '%s': something is mounted on it", name);
  struct rm_walk w = {.top = &top};
  r = rm_tree(&w, dirfd, name, err);
  rm_walk_clear(&w);
  return r;
}

int fs_mount_state_at(int dirfd, const char *name, bool *ret_is_mount, long *ret_fstype,
                      dev_t *ret_dev, oci_error **err)
{
  *ret_is_mount = false;
  *ret_fstype = 0;
  if (ret_dev)
    *ret_dev = 0;
  struct entry_info info = {0}, parent = {0};
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

bool fs_is_executable_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int fs_mount_at(const char *source, int dirfd, const char *name, const char *fstype,
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

int fs_umount_at(int dirfd, const char *name, oci_error **err)
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

int fs_dir_scan(int dirfd, fs_dir_scan_fn fn, void *data, oci_error **err)
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
  int r = 0;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    r = fn(dirfd, e, data, err);
    if (r != 0)
      return r;
  }
  if (errno != 0)
    return oci_error_set(err, errno, "reading the directory");
  return 0;
}

static int stop_at_first(int dirfd, const struct dirent *entry, void *data, oci_error **err)
{
  return 1;
}

int fs_dir_is_empty(int dirfd, bool *ret, oci_error **err)
{
  int r = fs_dir_scan(dirfd, stop_at_first, NULL, err);
  if (r < 0)
    return -1;
  *ret = r == 0;
  return 0;
}
