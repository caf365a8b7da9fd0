/* SPDX-License-Identifier: Apache-2.0 */
#include "write-all.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

bool write_all_wait(int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0 && errno == EAGAIN) {
      /* O_NONBLOCK set by whoever shares the fd with us: wait, not spin */
      struct pollfd pfd = {.fd = fd, .events = POLLOUT};
      poll(&pfd, 1, -1);
      continue;
    }
    if (w <= 0) {
      if (w == 0)
        errno = EPIPE;
      return false;
    }
    p += w;
    len -= (size_t)w;
  }
  return true;
}
