/* SPDX-License-Identifier: Apache-2.0 */
/* STATE/monitor.log (notes.h). */
#include "notes.h"

#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "timefmt.h"

struct MonNotes {
  int dirfd; /* borrowed */
  int fd;
  size_t bytes;
};

MonNotes *mon_notes_new(int dirfd)
{
  MonNotes *n = g_new0(MonNotes, 1);
  n->dirfd = dirfd;
  n->fd = -1;
  return n;
}

void mon_notes_free(MonNotes *notes)
{
  if (notes == NULL)
    return;
  mon_close(&notes->fd);
  g_free(notes);
}

void mon_notes_close(MonNotes *notes)
{
  if (notes)
    mon_close(&notes->fd);
}

void mon_note(MonNotes *n, const char *fmt, ...)
{
  if (n == NULL || n->bytes >= MON_NOTE_MAX || n->dirfd < 0)
    return;
  if (n->fd < 0) {
    n->fd = openat(n->dirfd, "monitor.log",
                   O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (n->fd < 0)
      return;
  }
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  struct timespec ts;
  char tbuf[32];
  clock_gettime(CLOCK_REALTIME, &ts);
  timefmt_rfc3339(&ts, tbuf);
  g_autofree char *line = g_strdup_printf("%s oci-monitor[%d]: %s\n", tbuf, (int)getpid(), msg);
  size_t len = strlen(line);
  if (write(n->fd, line, len) > 0)
    n->bytes += len;
}
