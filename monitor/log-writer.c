/* SPDX-License-Identifier: Apache-2.0 */
#include "log-writer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "errors.h"
#include "timefmt.h"

#define IOV_BATCH 512              /* below IOV_MAX */
#define STAGE_SIZE (256u * 1024)   /* small pieces are copied here */
#define BIG_PIECE 4096             /* pieces this big are written from the caller's buffer */
#define WRITEBACK_CHUNK (8u << 20) /* start writeback every this many bytes */

struct MonLog {
  char *path, *path1;
  MonLogFormat format;
  uint64_t max_size;
  int keep; /* rotated files: PATH.1 .. PATH.keep */
  int fd;
  uint64_t size;           /* bytes in the current file, as far as we wrote them */
  uint64_t rotate_hold;    /* after a failed rotation: no new try below this size */
  uint64_t writeback_from; /* start of the range not yet handed to writeback */
  gboolean partial[MON_STREAM_MAX];
  uint8_t carry[MON_STREAM_MAX][4]; /* json: start of a UTF-8 character cut by a read */
  size_t carry_len[MON_STREAM_MAX];
  MonLogErrorFunc on_error;
  gpointer user_data;
  gboolean failing;
  /* Each said once: a full disk makes writes fail and succeed by turns
   * (cutting the file back frees a little room), which is no news. */
  gboolean failure_reported, recovery_reported;
  uint64_t dropped, dropped_episode;

  /* the batch being gathered */
  struct iovec iov[IOV_BATCH];
  int niov;
  size_t batch_bytes;
  uint8_t *stage;
  size_t stage_used;
  gboolean in_record, drop_record;
  uint64_t record_start; /* file offset of the open record */

  char ts[32];
  size_t ts_len;
};

static const char *const stream_names[MON_STREAM_MAX] = {"stdout", "stderr"};

gboolean mon_log_parse_format(const char *name, MonLogFormat *ret)
{
  if (g_strcmp0(name, "kubernetes") == 0 || g_strcmp0(name, "k8s-file") == 0)
    *ret = MON_LOG_KUBERNETES;
  else if (g_strcmp0(name, "json") == 0)
    *ret = MON_LOG_JSON;
  else
    return FALSE;
  return TRUE;
}

MonLog *mon_log_new(const char *path, MonLogFormat format, uint64_t max_size,
                    MonLogErrorFunc on_error, gpointer user_data)
{
  MonLog *log = g_new0(MonLog, 1);
  log->path = g_strdup(path);
  log->path1 = g_strconcat(path, ".1", NULL);
  log->format = format;
  log->max_size = max_size;
  log->keep = 1;
  log->fd = -1;
  log->on_error = on_error;
  log->user_data = user_data;
  return log;
}

void mon_log_free(MonLog *log)
{
  if (log == NULL)
    return;
  if (log->fd >= 0)
    close(log->fd);
  g_free(log->stage);
  g_free(log->path);
  g_free(log->path1);
  g_free(log);
}

uint64_t mon_log_dropped_bytes(const MonLog *log)
{
  return log->dropped;
}

static void report(MonLog *log, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void report(MonLog *log, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (log->on_error)
    log->on_error(msg, log->user_data);
}

static const char *file_kind(mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFIFO: return "FIFO";
  case S_IFLNK: return "symbolic link";
  case S_IFDIR: return "directory";
  case S_IFSOCK: return "socket";
  case S_IFCHR: return "character device";
  case S_IFBLK: return "block device";
  default: return "special file";
  }
}

/* The log must be a regular file.  Opened without blocking (a FIFO with no
 * reader fails with ENXIO, one with a reader is refused after fstat) and
 * without following a symlink as its last part: either would block the
 * monitor or take the output somewhere else. */
static int open_file(const char *path, gboolean *ret_created, GError **error)
{
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK;
  int fd = open(path, flags | O_CREAT | O_EXCL, 0640);
  gboolean created = fd >= 0;
  if (fd < 0 && errno == EEXIST)
    fd = open(path, flags);
  struct stat st;
  if (fd < 0) {
    int errsv = errno;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
      mon_set_error(error, "log '%s' is a %s, not a regular file", path, file_kind(st.st_mode));
    else
      mon_set_error_errno(error, errsv, "open log '%s'", path);
    return -1;
  }
  if (fstat(fd, &st) < 0) {
    int errsv = errno;
    close(fd);
    mon_set_error_errno(error, errsv, "log '%s'", path);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    mon_set_error(error, "log '%s' is a %s, not a regular file", path, file_kind(st.st_mode));
    return -1;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl >= 0)
    (void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
  *ret_created = created;
  return fd;
}

static uint64_t file_size(int fd)
{
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
    return (uint64_t)st.st_size;
  return 0;
}

static void use_file(MonLog *log, int fd)
{
  if (log->fd >= 0)
    close(log->fd);
  log->fd = fd;
  log->size = file_size(fd);
  log->writeback_from = log->size;
  log->rotate_hold = 0;
}

gboolean mon_log_open(MonLog *log, gboolean *ret_created, GError **error)
{
  gboolean created = FALSE;
  int fd = open_file(log->path, &created, error);
  if (fd < 0)
    return FALSE;
  use_file(log, fd);
  if (ret_created)
    *ret_created = created;
  return TRUE;
}

/* ---- batch ---- */

static void batch_reset(MonLog *log)
{
  log->niov = 0;
  log->batch_bytes = 0;
  log->stage_used = 0;
}

static gboolean write_all(int fd, struct iovec *iov, int niov)
{
  while (niov > 0) {
    ssize_t n = writev(fd, iov, niov);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return FALSE;
    }
    if (n == 0) {
      errno = EIO;
      return FALSE;
    }
    while (niov > 0 && (size_t)n >= iov->iov_len) {
      n -= (ssize_t)iov->iov_len;
      iov++;
      niov--;
    }
    if (niov > 0) {
      iov->iov_base = (uint8_t *)iov->iov_base + n;
      iov->iov_len -= (size_t)n;
    }
  }
  return TRUE;
}

static void flush(MonLog *log)
{
  if (log->niov == 0)
    return;
  if (log->fd >= 0 && write_all(log->fd, log->iov, log->niov)) {
    log->size += log->batch_bytes;
    if (log->size - log->writeback_from >= WRITEBACK_CHUNK) {
      /* Start writing to disk now rather than all at the final fsync(),
       * which would hold the exit record back (conmon's weak point). */
      (void)sync_file_range(log->fd, (off64_t)log->writeback_from,
                            (off64_t)(log->size - log->writeback_from), SYNC_FILE_RANGE_WRITE);
      log->writeback_from = log->size;
    }
    if (log->failing) {
      if (!log->recovery_reported)
        report(log, "log '%s': writing works again; %" G_GUINT64_FORMAT " bytes were not logged",
               log->path, log->dropped_episode);
      log->recovery_reported = TRUE;
      log->failing = FALSE;
      log->dropped_episode = 0;
    }
    batch_reset(log);
    return;
  }
  int errsv = log->fd >= 0 ? errno : EBADF;
  /* Cut the file back to the last whole record so readers never see half
   * of one; the rest of an open record is dropped too. */
  uint64_t keep = log->size;
  if (log->in_record && log->record_start < keep)
    keep = log->record_start;
  if (log->fd >= 0 && file_size(log->fd) > keep && ftruncate(log->fd, (off_t)keep) < 0) {
    /* nothing better to do: the next record starts on a fresh line anyway */
  }
  uint64_t lost = log->batch_bytes + (log->size - keep);
  log->size = keep;
  log->writeback_from = MIN(log->writeback_from, keep);
  log->dropped += lost;
  log->dropped_episode += lost;
  if (log->in_record)
    log->drop_record = TRUE;
  if (!log->failure_reported)
    report(log, "log '%s': write failed: %s; output goes on to attach clients, logging is retried",
           log->path, g_strerror(errsv));
  log->failure_reported = TRUE;
  log->failing = TRUE;
  batch_reset(log);
}

static void put(MonLog *log, const void *data, size_t len)
{
  if (len == 0)
    return;
  if (log->drop_record) {
    log->dropped += len;
    log->dropped_episode += len;
    return;
  }
  if (len >= BIG_PIECE) {
    if (log->niov == IOV_BATCH)
      flush(log);
    if (log->drop_record) {
      put(log, data, len);
      return;
    }
    log->iov[log->niov].iov_base = (void *)data;
    log->iov[log->niov].iov_len = len;
    log->niov++;
    log->batch_bytes += len;
    return;
  }
  if (log->stage == NULL)
    log->stage = g_malloc(STAGE_SIZE);
  if (STAGE_SIZE - log->stage_used < len || log->niov == IOV_BATCH) {
    flush(log);
    if (log->drop_record) {
      put(log, data, len);
      return;
    }
  }
  uint8_t *dst = log->stage + log->stage_used;
  memcpy(dst, data, len);
  log->stage_used += len;
  struct iovec *last = log->niov > 0 ? &log->iov[log->niov - 1] : NULL;
  if (last && (uint8_t *)last->iov_base + last->iov_len == dst) {
    last->iov_len += len;
  } else {
    log->iov[log->niov].iov_base = dst;
    log->iov[log->niov].iov_len = len;
    log->niov++;
  }
  log->batch_bytes += len;
}

static void record_begin(MonLog *log)
{
  log->in_record = TRUE;
  log->drop_record = FALSE;
  log->record_start = log->size + log->batch_bytes;
}

static void record_end(MonLog *log)
{
  log->in_record = FALSE;
  log->drop_record = FALSE;
}

/* ---- rotation ---- */

void mon_log_set_keep(MonLog *log, int keep)
{
  log->keep = MAX(keep, 1);
}

/* PATH.(keep-1) .. PATH.1 move one up (the oldest, PATH.keep, is
 * replaced); a missing one is no error, another failure is noted. */
static void shift_rotated(MonLog *log)
{
  for (int i = log->keep - 1; i >= 1; i--) {
    g_autofree char *from = g_strdup_printf("%s.%d", log->path, i);
    g_autofree char *to = g_strdup_printf("%s.%d", log->path, i + 1);
    if (rename(from, to) < 0 && errno != ENOENT)
      report(log, "log '%s': cannot rotate to '%s': %s", from, to, g_strerror(errno));
  }
}

static void rotate(MonLog *log)
{
  flush(log);
  shift_rotated(log);
  if (rename(log->path, log->path1) < 0) {
    report(log, "log '%s': cannot rotate to '%s': %s; going on in the same file", log->path,
           log->path1, g_strerror(errno));
    log->rotate_hold = log->size + log->max_size;
    return;
  }
  gboolean created;
  g_autoptr(GError) error = NULL;
  int fd = open_file(log->path, &created, &error);
  if (fd < 0) {
    report(log, "%s after rotation; going on in '%s'", error->message, log->path1);
    log->rotate_hold = log->size + log->max_size;
    return;
  }
  use_file(log, fd);
}

gboolean mon_log_reopen(MonLog *log, GError **error)
{
  flush(log);
  gboolean created;
  int fd = open_file(log->path, &created, error);
  if (fd < 0)
    return FALSE;
  struct stat a, b;
  if (log->fd >= 0 && fstat(fd, &a) == 0 && fstat(log->fd, &b) == 0 && a.st_dev == b.st_dev &&
      a.st_ino == b.st_ino) {
    close(fd); /* not moved: nothing to do */
    return TRUE;
  }
  use_file(log, fd);
  return TRUE;
}

/* json: a record whose bytes are not all valid UTF-8 also carries them as
 * base64 (log-writer.h); its worst case, added to a text of LEN bytes. */
#define B64_FIELD "\",\"logBase64\":\""
static size_t b64_cost(size_t len)
{
  return 2 * len + 40; /* 4/3 per byte, rounding, the carry, the field */
}

static size_t json_byte_cost(uint8_t c)
{
  if (c >= 0x80)
    return 3; /* U+FFFD at worst */
  if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
    return 2;
  if (c < 0x20 || c == 0x7f)
    return 6;
  return 1;
}

/* An upper bound of the bytes TEXT takes in a record. */
static size_t text_cost(const MonLog *log, const uint8_t *text, size_t len)
{
  if (log->format == MON_LOG_KUBERNETES)
    return len;
  size_t cost = 0;
  gboolean high = FALSE;
  for (size_t i = 0; i < len; i++) {
    cost += json_byte_cost(text[i]);
    high |= text[i] >= 0x80;
  }
  return high ? cost + b64_cost(len) : cost;
}

/* Bytes of a record besides its text. */
static size_t record_overhead(const MonLog *log, MonStream stream, gboolean complete)
{
  if (log->format == MON_LOG_KUBERNETES)
    return log->ts_len + 1 + strlen(stream_names[stream]) + 3 + 1;
  /* {"time":"","stream":"","log":""}\n + \n escape + carried bytes */
  return 34 + log->ts_len + strlen(stream_names[stream]) + (complete ? 2 : 0) +
         3 * log->carry_len[stream];
}

/* How much of TEXT fits in ROOM bytes (at least 1). */
static size_t text_fit(const MonLog *log, const uint8_t *text, size_t len, size_t room)
{
  if (log->format == MON_LOG_KUBERNETES)
    return CLAMP(room, 1, len);
  size_t n = 0, cost = 0;
  gboolean high = FALSE;
  while (n < len) {
    size_t c = cost + json_byte_cost(text[n]);
    gboolean h = high || text[n] >= 0x80;
    if ((h ? c + b64_cost(n + 1) : c) > room)
      break;
    cost = c;
    high = h;
    n++;
  }
  return MAX(n, 1);
}

/* ---- record bodies ---- */

static void k8s_body(MonLog *log, MonStream stream, const uint8_t *text, size_t len,
                     gboolean complete, gboolean nl_follows)
{
  char hdr[64];
  size_t n = log->ts_len;
  memcpy(hdr, log->ts, n);
  hdr[n++] = ' ';
  size_t sl = strlen(stream_names[stream]);
  memcpy(hdr + n, stream_names[stream], sl);
  n += sl;
  hdr[n++] = ' ';
  hdr[n++] = complete ? 'F' : 'P';
  hdr[n++] = ' ';
  put(log, hdr, n);
  if (nl_follows) {
    put(log, text, len + 1); /* the line with its own newline */
  } else {
    put(log, text, len);
    put(log, "\n", 1);
  }
}

/* Length of the valid UTF-8 character at P (N bytes available): >0 valid,
 * 0 invalid, -1 a valid but incomplete prefix. */
static int utf8_char(const uint8_t *p, size_t n)
{
  uint8_t c = p[0];
  int len;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf)
    len = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
  } else
    return 0;
  for (int i = 1; i < len; i++) {
    if ((size_t)i >= n)
      return -1;
    uint8_t b = p[i];
    if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
      return 0;
  }
  return len;
}

static const char replacement[] = "\xef\xbf\xbd";

/* Escapes TEXT into the batch; with CAN_CARRY an incomplete character at the
 * end is kept for the stream's next piece. */
static void json_text(MonLog *log, MonStream stream, const uint8_t *text, size_t len,
                      gboolean can_carry)
{
  size_t i = 0;
  if (log->carry_len[stream] > 0) {
    uint8_t tmp[8];
    size_t cl = log->carry_len[stream];
    size_t take = MIN(len, 4 - cl);
    memcpy(tmp, log->carry[stream], cl);
    memcpy(tmp + cl, text, take);
    int r = utf8_char(tmp, cl + take);
    log->carry_len[stream] = 0;
    if (r > 0 && (size_t)r > cl) {
      put(log, tmp, (size_t)r);
      i = (size_t)r - cl;
    } else if (r < 0 && take == len && can_carry) {
      memcpy(log->carry[stream], tmp, cl + take);
      log->carry_len[stream] = cl + take;
      return;
    } else {
      for (size_t k = 0; k < cl; k++)
        put(log, replacement, 3);
    }
  }
  size_t run = i;
  while (i < len) {
    uint8_t c = text[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      i++;
      continue;
    }
    put(log, text + run, i - run);
    if (c >= 0x80) {
      int r = utf8_char(text + i, len - i);
      if (r > 0) {
        put(log, text + i, (size_t)r);
        i += (size_t)r;
      } else if (r < 0 && can_carry) {
        memcpy(log->carry[stream], text + i, len - i);
        log->carry_len[stream] = len - i;
        return;
      } else {
        put(log, replacement, 3);
        i++;
      }
    } else {
      char esc[8];
      switch (c) {
      case '"': put(log, "\\\"", 2); break;
      case '\\': put(log, "\\\\", 2); break;
      case '\n': put(log, "\\n", 2); break;
      case '\r': put(log, "\\r", 2); break;
      case '\t': put(log, "\\t", 2); break;
      case '\b': put(log, "\\b", 2); break;
      case '\f': put(log, "\\f", 2); break;
      default:
        snprintf(esc, sizeof(esc), "\\u%04x", c);
        put(log, esc, 6);
        break;
      }
      i++;
    }
    run = i;
  }
  put(log, text + run, i - run);
}

/* Would json_text() keep every byte of CARRY + TEXT, i.e. is it valid
 * UTF-8 (but for a cut character at the end when CAN_CARRY)?  The same walk
 * as json_text(). */
static gboolean json_text_exact(const MonLog *log, MonStream stream, const uint8_t *text,
                                size_t len, gboolean can_carry)
{
  size_t i = 0;
  size_t cl = log->carry_len[stream];
  if (cl > 0) {
    uint8_t tmp[8];
    size_t take = MIN(len, 4 - cl);
    memcpy(tmp, log->carry[stream], cl);
    memcpy(tmp + cl, text, take);
    int r = utf8_char(tmp, cl + take);
    if (r < 0 && take == len && can_carry)
      return TRUE;
    if (r <= 0 || (size_t)r <= cl)
      return FALSE;
    i = (size_t)r - cl;
  }
  while (i < len) {
    if (text[i] < 0x80) {
      i++;
      continue;
    }
    int r = utf8_char(text + i, len - i);
    if (r < 0 && can_carry)
      return TRUE;
    if (r <= 0)
      return FALSE;
    i += (size_t)r;
  }
  return TRUE;
}

/* Appends base64 of the pieces (NULL-terminated pairs of pointer, length).
 * Encoded in small steps: each output piece is copied into the stage, so
 * nothing points into a buffer of ours. */
static void put_base64(MonLog *log, const void *p1, size_t n1, const void *p2, size_t n2,
                       const void *p3, size_t n3)
{
  const struct {
    const uint8_t *p;
    size_t n;
  } parts[] = {{p1, n1}, {p2, n2}, {p3, n3}};
  char out[(2048 / 3 + 1) * 4 + 4];
  gint state = 0, save = 0;
  for (size_t k = 0; k < G_N_ELEMENTS(parts); k++) {
    for (size_t off = 0; off < parts[k].n; off += 2048) {
      size_t step = MIN(parts[k].n - off, 2048);
      put(log, out, g_base64_encode_step(parts[k].p + off, step, FALSE, out, &state, &save));
    }
  }
  put(log, out, g_base64_encode_close(FALSE, out, &state, &save));
}

static void json_header(MonLog *log, MonStream stream)
{
  char hdr[96];
  int n = snprintf(hdr, sizeof(hdr), "{\"time\":\"%.*s\",\"stream\":\"%s\",\"log\":\"",
                   (int)log->ts_len, log->ts, stream_names[stream]);
  put(log, hdr, (size_t)n);
}

static void json_body(MonLog *log, MonStream stream, const uint8_t *text, size_t len,
                      gboolean complete)
{
  uint8_t carried[4];
  size_t ncarried = log->carry_len[stream];
  memcpy(carried, log->carry[stream], ncarried);
  gboolean exact = json_text_exact(log, stream, text, len, !complete);
  json_header(log, stream);
  json_text(log, stream, text, len, !complete);
  put(log, complete ? "\\n" : "", complete ? 2 : 0);
  if (!exact) {
    /* the record's own bytes: what was carried in, the text but for what
     * is carried on, its newline */
    put(log, B64_FIELD, strlen(B64_FIELD));
    put_base64(log, carried, ncarried, text, len - log->carry_len[stream], "\n", complete ? 1 : 0);
  }
  put(log, "\"}\n", 3);
}

/* The output ended inside a character: log what there is as U+FFFD, and
 * its bytes. */
static void json_flush_carry(MonLog *log, MonStream stream)
{
  record_begin(log);
  json_header(log, stream);
  for (size_t k = 0; k < log->carry_len[stream]; k++)
    put(log, replacement, 3);
  put(log, B64_FIELD, strlen(B64_FIELD));
  put_base64(log, log->carry[stream], log->carry_len[stream], NULL, 0, NULL, 0);
  put(log, "\"}\n", 3);
  record_end(log);
  log->carry_len[stream] = 0;
}

/* One record (or more when rotation needs a long one split).  NL_FOLLOWS:
 * TEXT[LEN] is the line's newline, in the same buffer. */
static void emit(MonLog *log, MonStream stream, const uint8_t *text, size_t len, gboolean complete,
                 gboolean nl_follows)
{
  for (;;) {
    gboolean piece_complete = complete;
    size_t piece = len;
    if (log->max_size > 0) {
      uint64_t used = log->size + log->batch_bytes;
      uint64_t need = record_overhead(log, stream, complete) + text_cost(log, text, len);
      if (used + need > log->max_size && used > 0 && used >= log->rotate_hold) {
        rotate(log);
        used = log->size + log->batch_bytes;
      }
      if (used == 0 && need > log->max_size && len > 1) {
        /* Too long for any file: split it into pieces. */
        uint64_t over = record_overhead(log, stream, FALSE);
        size_t room = log->max_size > over ? (size_t)(log->max_size - over) : 1;
        piece = text_fit(log, text, len, room);
        if (piece < len)
          piece_complete = FALSE;
      }
    }
    record_begin(log);
    if (log->format == MON_LOG_KUBERNETES)
      k8s_body(log, stream, text, piece, piece_complete, nl_follows && piece == len);
    else
      json_body(log, stream, text, piece, piece_complete);
    record_end(log);
    log->partial[stream] = !piece_complete;
    if (piece == len)
      return;
    text += piece;
    len -= piece;
  }
}

void mon_log_write(MonLog *log, MonStream stream, const struct timespec *ts, const void *data,
                   size_t len)
{
  const uint8_t *p = data, *end = p + len;
  if (len == 0 || stream >= MON_STREAM_MAX)
    return;
  timefmt_rfc3339(ts, log->ts);
  log->ts_len = strlen(log->ts);
  while (p < end) {
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) {
      emit(log, stream, p, (size_t)(end - p), FALSE, FALSE);
      break;
    }
    emit(log, stream, p, (size_t)(nl - p), TRUE, TRUE);
    p = nl + 1;
  }
  flush(log); /* the batch points into the caller's buffer */
}

void mon_log_finish(MonLog *log, const struct timespec *ts)
{
  timefmt_rfc3339(ts, log->ts);
  log->ts_len = strlen(log->ts);
  for (int s = 0; s < MON_STREAM_MAX; s++) {
    if (log->format == MON_LOG_KUBERNETES && log->partial[s])
      emit(log, (MonStream)s, (const uint8_t *)"", 0, TRUE, FALSE);
    else if (log->format == MON_LOG_JSON && log->carry_len[s] > 0)
      json_flush_carry(log, (MonStream)s);
    log->partial[s] = FALSE;
    log->carry_len[s] = 0;
  }
  flush(log);
}

gboolean mon_log_sync(MonLog *log)
{
  flush(log);
  if (log->fd < 0) {
    errno = EBADF;
    return FALSE;
  }
  if (fsync(log->fd) < 0 && errno != EINVAL && errno != EROFS)
    return FALSE; /* EINVAL: a device or pipe, nothing to sync */
  return TRUE;
}

void mon_log_trim(MonLog *log)
{
  if (log->niov == 0) {
    g_free(log->stage);
    log->stage = NULL;
  }
}
