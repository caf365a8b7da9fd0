/* SPDX-License-Identifier: Apache-2.0 */
/* fd and file helpers (files.h): thin wrappers over lib/fs.h. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
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

gboolean mon_rm_rf_at(int dfd, const char *name, GError **error)
{
  oci_error *e = NULL;
  if (fs_rm_rf_at(dfd, name, &e) < 0)
    return mon_set_error_from_oci(error, &e, NULL);
  return TRUE;
}
