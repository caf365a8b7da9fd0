/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers: the monitor's own notes, atomic files, fds, removal. */
#include "monitor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The formatter would space the dashes of the quark's name. */
// clang-format off
G_DEFINE_QUARK(sifoci-monitor-error-quark, mon_error)
// clang-format on

void mon_close(int *fd)
{
  if (*fd >= 0) {
    close(*fd);
    *fd = -1;
  }
}

/* Notes go to STATE/monitor.log: the monitor has no stderr once detached.
 * Bounded, so a flapping error cannot fill the disk. */
void mon_note(MonState *m, const char *fmt, ...)
{
  if (m->note_bytes >= MON_NOTE_MAX || m->state_dfd < 0)
    return;
  if (m->note_fd < 0) {
    m->note_fd = openat(m->state_dfd, "monitor.log",
                        O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (m->note_fd < 0)
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
  if (write(m->note_fd, line, len) > 0)
    m->note_bytes += len;
}

/* NAME in DFD, written to a temporary file and renamed over (atomic).
 * DURABLE: fsync before the rename, for records that must survive a crash
 * (exit.json).  Pid files don't: they mean nothing after a reboot, and an
 * fsync costs time where the monitor is fastest to start (on tmpfs /run
 * it buys nothing at all). */
gboolean mon_write_file_at(int dfd, const char *name, const char *data, size_t len, int mode,
                           gboolean durable, GError **error)
{
  g_autofree char *tmp = g_strdup_printf(".%s.tmp", name);
  int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    goto fail;
  while (len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      int errsv = n < 0 ? errno : EIO;
      close(fd);
      errno = errsv;
      goto fail_unlink;
    }
    data += n;
    len -= (size_t)n;
  }
  if ((durable && fsync(fd) < 0) || close(fd) < 0)
    goto fail_unlink;
  if (renameat(dfd, tmp, dfd, name) < 0)
    goto fail_unlink;
  return TRUE;

fail_unlink : {
  int errsv = errno;
  unlinkat(dfd, tmp, 0);
  errno = errsv;
}
fail : {
  int errsv = errno;
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "write '%s': %s", name,
              g_strerror(errsv));
  return FALSE;
}
}

gboolean mon_set_nonblock(int fd, GError **error)
{
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    int errsv = errno;
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "fcntl O_NONBLOCK: %s",
                g_strerror(errsv));
    return FALSE;
  }
  return TRUE;
}

/* rm -rf NAME below DFD without following symlinks; best effort. */
void mon_rm_rf_at(int dfd, const char *name)
{
  if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
    return;
  int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return;
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    close(fd);
    return;
  }
  struct dirent *de;
  while ((de = readdir(dir)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    mon_rm_rf_at(dirfd(dir), de->d_name);
  }
  closedir(dir);
  unlinkat(dfd, name, AT_REMOVEDIR);
}

/* A copy of S on one line: control characters become spaces, trimmed, at
 * most MAX bytes. */
char *mon_one_line(const char *s, size_t max)
{
  GString *out = g_string_sized_new(64);
  for (const char *p = s; *p && out->len < max; p++) {
    unsigned char c = (unsigned char)*p;
    g_string_append_c(out, c < 0x20 || c == 0x7f ? ' ' : (char)c);
  }
  char *str = g_strstrip(g_string_free(out, FALSE));
  return str;
}

/* Idle memory: unmap the file-backed pages this process only ever read
 * (code and constants of the binary and its libraries).  What start-up
 * touched (option parsing, relocation, the create path) then no longer
 * counts as resident; what runs again faults back in from the page cache.
 * A forked daemon gets the same effect for free; we keep our pid instead.
 * Mappings holding private copies (relocated or written data) and shared
 * ones are left alone: dropping those would lose data. */
void mon_trim_mappings(void)
{
  FILE *f = fopen("/proc/self/smaps", "re");
  if (f == NULL)
    return;
  GArray *ranges = g_array_new(FALSE, FALSE, sizeof(unsigned long) * 2);
  char line[512], perms[8];
  unsigned long start = 0, end = 0, anon;
  gboolean candidate = FALSE;
  while (fgets(line, sizeof(line), f)) {
    unsigned long s0, e0, inode;
    /* (field lines like "Anonymous:" begin with a hex digit too) */
    if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &s0, &e0, perms, &inode) == 4) {
      start = s0;
      end = e0;
      candidate = inode != 0 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
    } else if (candidate && sscanf(line, "Anonymous: %lu kB", &anon) == 1) {
      if (anon == 0) {
        unsigned long r[2] = {start, end};
        g_array_append_val(ranges, r);
      }
      candidate = FALSE;
    }
  }
  fclose(f);
  for (guint i = 0; i < ranges->len; i++) {
    unsigned long *r = &g_array_index(ranges, unsigned long, 2 * i);
    (void)madvise((void *)r[0], r[1] - r[0], MADV_DONTNEED);
  }
  g_array_free(ranges, TRUE);
}
