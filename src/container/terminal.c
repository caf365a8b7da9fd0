/* SPDX-License-Identifier: Apache-2.0 */
#include "terminal.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

int term_make_raw(int fd, struct term_saved *saved, oci_error **err)
{
  saved->fd = -1;
  if (tcgetattr(fd, &saved->tio) < 0)
    return oci_error_set(err, errno, "raw mode");
  struct termios raw = saved->tio;
  /* The container's own pty does the line discipline (echo, ^C, CR/LF);
   * ours must pass every byte through untouched, both ways. */
  cfmakeraw(&raw);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  while (tcsetattr(fd, TCSANOW, &raw) < 0) {
    if (errno != EINTR)
      return oci_error_set(err, errno, "raw mode");
  }
  saved->fd = fd;
  return 0;
}

void term_restore(struct term_saved *saved)
{
  if (saved->fd < 0)
    return;
  while (tcsetattr(saved->fd, TCSANOW, &saved->tio) < 0 && errno == EINTR)
    ;
  saved->fd = -1;
}

int term_find_tty(void)
{
  if (isatty(0))
    return 0;
  if (isatty(1))
    return 1;
  return -1;
}

bool term_get_size(int fd, uint16_t *rows, uint16_t *cols)
{
  struct winsize ws;
  if (fd < 0 || ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return false;
  *rows = ws.ws_row;
  *cols = ws.ws_col;
  return true;
}
