/* SPDX-License-Identifier: Apache-2.0 */
/* fd and file helpers (files.h): thin wrappers over lib/fs.h. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "errors.h"
#include "fs.h"

void mon_close(int *fd)
{
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

gboolean mon_set_nonblock(int fd, GError **error)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return mon_set_error_errno(error, errno, "fcntl O_NONBLOCK");
  return TRUE;
}

gboolean mon_write_file_at(int dfd, const char *name, const char *data, size_t len, mode_t mode,
                           gboolean durable, GError **error)
{
  oci_error *e = NULL;
  if (fs_write_file_at(dfd, name, data, len, mode, durable ? FS_WRITE_DURABLE : 0, &e) < 0)
    return mon_set_error_from_oci(error, &e, NULL);
  return TRUE;
}

gboolean mon_reserve_file_at(int dfd, const char *name, size_t size, GError **error)
{
  int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return mon_set_error_errno(error, errno, "create '%s'", name);
  int r = posix_fallocate(fd, 0, (off_t)size);
  if (r == EOPNOTSUPP || r == EINVAL) {
    /* no fallocate here: real zeros take the blocks just as well */
    char zeros[4096] = {0};
    r = 0;
    for (size_t off = 0; off < size && r == 0; off += sizeof(zeros)) {
      size_t n = MIN(sizeof(zeros), size - off);
      if (pwrite(fd, zeros, n, (off_t)off) != (ssize_t)n)
        r = errno ? errno : EIO;
    }
  }
  close(fd);
  if (r != 0) {
    unlinkat(dfd, name, 0);
    return mon_set_error_errno(error, r, "reserve %zu bytes for '%s'", size, name);
  }
  return TRUE;
}

gboolean mon_fill_reserved_at(int dfd, const char *reserved, const char *target, const char *data,
                              size_t len, gboolean durable, GError **error)
{
  int fd = openat(dfd, reserved, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return mon_set_error_errno(error, errno, "open '%s'", reserved);
  size_t off = 0;
  while (off < len) {
    ssize_t n = pwrite(fd, data + off, len - off, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int errsv = n < 0 ? errno : EIO;
      close(fd);
      return mon_set_error_errno(error, errsv, "write '%s'", reserved);
    }
    off += (size_t)n;
  }
  if (ftruncate(fd, (off_t)len) < 0 || (durable && fsync(fd) < 0)) {
    int errsv = errno;
    close(fd);
    return mon_set_error_errno(error, errsv, "write '%s'", reserved);
  }
  close(fd);
  if (renameat(dfd, reserved, dfd, target) < 0)
    return mon_set_error_errno(error, errno, "rename '%s' to '%s'", reserved, target);
  if (durable)
    (void)fsync(dfd);
  return TRUE;
}

gboolean mon_rm_rf_at(int dfd, const char *name, GError **error)
{
  oci_error *e = NULL;
  if (fs_rm_rf_at(dfd, name, &e) < 0)
    return mon_set_error_from_oci(error, &e, NULL);
  return TRUE;
}
