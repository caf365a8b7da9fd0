/* SPDX-License-Identifier: Apache-2.0 */
#include "log-reader.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"

#define FOLLOW_INTERVAL_MS 100
#define OUT_BUF 65536

static const char *next_field(const char *p, const char *end, const char **ret_field,
                              size_t *ret_len)
{
  const char *sp = memchr(p, ' ', (size_t)(end - p));
  *ret_field = p;
  *ret_len = (size_t)((sp ? sp : end) - p);
  return sp ? sp + 1 : end;
}

static int base64_value(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/* RFC 4648 base64, padded: bytes written to OUT (at most CAP), or -1. */
static ssize_t base64_decode(const char *in, size_t len, char *out, size_t cap)
{
  if (len % 4 != 0)
    return -1;
  size_t n = 0;
  for (size_t i = 0; i < len; i += 4) {
    int v[4], pad = 0;
    for (int k = 0; k < 4; k++) {
      bool last = i + 4 == len;
      if (last && in[i + k] == '=' && k >= 2 && (k == 3 || in[i + 3] == '=')) {
        v[k] = 0;
        pad++;
      } else if ((v[k] = base64_value(in[i + k])) < 0) {
        return -1;
      }
    }
    uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
    if (n + 3 - (size_t)pad > cap)
      return -1;
    out[n++] = (char)(w >> 16);
    if (pad < 2)
      out[n++] = (char)(w >> 8);
    if (pad < 1)
      out[n++] = (char)w;
  }
  return (ssize_t)n;
}

int log_parse_line(enum log_format fmt, const char *line, size_t len, char *scratch,
                   struct log_record *ret)
{
  *ret = (struct log_record){0};
  const char *end = line + len;
  if (fmt == LOG_KUBERNETES) {
    const char *ts, *stream, *tag;
    size_t ts_len, stream_len, tag_len;
    const char *p = next_field(line, end, &ts, &ts_len);
    p = next_field(p, end, &stream, &stream_len);
    const char *text = next_field(p, end, &tag, &tag_len);
    if (ts_len == 0 || tag_len == 0)
      return -1;
    if (stream_len == 6 && memcmp(stream, "stdout", 6) == 0)
      ret->stream = 1;
    else if (stream_len == 6 && memcmp(stream, "stderr", 6) == 0)
      ret->stream = 2;
    else
      return -1;
    /* the tag may carry more flags after ':' (CRI); the first is F or P */
    if (tag[0] != 'F' && tag[0] != 'P')
      return -1;
    ret->text = text;
    ret->len = (size_t)(end - text);
    ret->newline = ret->ends_line = tag[0] == 'F';
    return 0;
  }
  json_error_t jerr;
  json_auto_t *j = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
  const char *stream = json_string_value(json_object_get(j, "stream"));
  json_t *log = json_object_get(j, "log");
  json_t *exact = json_object_get(j, "logBase64");
  if (stream == NULL || !json_is_string(log))
    return -1;
  ret->stream = strcmp(stream, "stderr") == 0 ? 2 : 1;
  if (json_is_string(exact)) {
    /* the record's bytes as they were (not UTF-8: "log" has U+FFFD) */
    ssize_t n = base64_decode(json_string_value(exact), json_string_length(exact), scratch, len);
    if (n < 0)
      return -1;
    ret->len = (size_t)n;
  } else {
    ret->len = json_string_length(log);
    if (ret->len > len)
      return -1;
    memcpy(scratch, json_string_value(log), ret->len);
  }
  ret->text = scratch;
  ret->ends_line = ret->len > 0 && scratch[ret->len - 1] == '\n';
  return 0;
}

/* Output, buffered per stream; flushed when the stream changes so stdout
 * and stderr keep their order on a shared terminal. */
struct out {
  int fd;
  size_t len;
  char buf[OUT_BUF];
};

static void out_flush(struct out *o)
{
  (void)fs_write_all(o->fd, o->buf, o->len); /* reader gone: nothing to tell */
  o->len = 0;
}

static void out_put(struct out *o, int fd, const char *p, size_t n)
{
  if (fd != o->fd) {
    out_flush(o);
    o->fd = fd;
  }
  while (n > 0) {
    if (o->len == OUT_BUF)
      out_flush(o);
    size_t k = OUT_BUF - o->len < n ? OUT_BUF - o->len : n;
    memcpy(o->buf + o->len, p, k);
    o->len += k;
    p += k;
    n -= k;
  }
}

/* A piece of a line held back (--tail): whether it is shown is known only
 * at the line's end, which may come after other streams' lines. */
struct held {
  char *buf;
  size_t len, cap;
};

/* A log file read in chunks; complete lines are handed out, a partial last
 * line waits for the rest (the monitor may be half-way through it). */
struct reader {
  int fd;
  char *buf;
  size_t len, cap, start;
  char *scratch;
  size_t scratch_cap;
  long skip;     /* lines to skip (--tail); each line's pieces go with it */
  long lines;    /* lines seen (ended) */
  bool counting; /* count only */
  bool open[2];  /* counting: a stream's last line has not ended (yet) */
  struct held held[2];
};

static void reader_close(struct reader *r)
{
  if (r->fd >= 0)
    close(r->fd);
  r->fd = -1;
  r->len = r->start = 0;
}

static void reader_free(struct reader *r)
{
  reader_close(r);
  free(r->buf);
  free(r->scratch);
  for (int s = 0; s < 2; s++)
    free(r->held[s].buf);
}

static int hold(struct held *h, const char *p, size_t n)
{
  if (h->len + n > h->cap) {
    size_t cap = h->cap ? h->cap : 4096;
    while (cap < h->len + n)
      cap *= 2;
    char *b = realloc(h->buf, cap);
    if (b == NULL)
      return -ENOMEM;
    h->buf = b;
    h->cap = cap;
  }
  memcpy(h->buf + h->len, p, n);
  h->len += n;
  return 0;
}

static void held_out(struct reader *r, int stream, struct out *o)
{
  struct held *h = &r->held[stream - 1];
  if (h->len > 0)
    out_put(o, stream, h->buf, h->len);
  h->len = 0;
}

/* All there is has been read: what was held back belongs to lines that
 * have not ended, so they are among the last; from here on all is shown. */
static void reader_release(struct reader *r, struct out *o)
{
  held_out(r, 1, o);
  held_out(r, 2, o);
  if (r->skip > r->lines)
    r->skip = r->lines;
}

static int emit_line(struct reader *r, enum log_format fmt, const char *line, size_t len,
                     struct out *o)
{
  if (len > r->scratch_cap) {
    char *s = realloc(r->scratch, len);
    if (s == NULL)
      return -ENOMEM;
    r->scratch = s;
    r->scratch_cap = len;
  }
  struct log_record rec;
  if (log_parse_line(fmt, line, len, r->scratch, &rec) < 0)
    return 0;
  int s = rec.stream - 1;
  if (r->counting) {
    if (rec.ends_line)
      r->lines++;
    r->open[s] = !rec.ends_line && (rec.len > 0 || r->open[s]);
    return 0;
  }
  if (r->lines >= r->skip) {
    held_out(r, rec.stream, o); /* the start of this line, held before */
    out_put(o, rec.stream, rec.text, rec.len);
    if (rec.newline)
      out_put(o, rec.stream, "\n", 1);
    if (rec.ends_line)
      r->lines++;
    return 0;
  }
  if (!rec.ends_line)
    return hold(&r->held[s], rec.text, rec.len);
  r->lines++; /* a line among the skipped ones, pieces and all */
  r->held[s].len = 0;
  return 0;
}

/* Read what is there; returns bytes read (0 at EOF for now) or -errno. */
static ssize_t reader_pump(struct reader *r, enum log_format fmt, struct out *o)
{
  ssize_t total = 0;
  for (;;) {
    if (r->start > 0 && r->start == r->len)
      r->start = r->len = 0;
    if (r->len == r->cap) {
      if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->len - r->start);
        r->len -= r->start;
        r->start = 0;
      } else {
        size_t cap = r->cap ? r->cap * 2 : 65536;
        char *b = realloc(r->buf, cap);
        if (b == NULL)
          return -ENOMEM;
        r->buf = b;
        r->cap = cap;
      }
      continue;
    }
    ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return total;
    total += n;
    size_t scan = r->len;
    r->len += (size_t)n;
    char *nl;
    while ((nl = memchr(r->buf + scan, '\n', r->len - scan)) != NULL) {
      int e = emit_line(r, fmt, r->buf + r->start, (size_t)(nl - (r->buf + r->start)), o);
      if (e < 0)
        return e;
      r->start = (size_t)(nl - r->buf) + 1;
      scan = r->start;
    }
  }
}

/* The lines (for --tail) of the rotated part and the log, as one; a line
 * that has not ended counts too (it is the last of its stream). */
static long count_lines(const char *rotated, const char *path, enum log_format fmt)
{
  struct reader r = {.fd = -1, .counting = true};
  struct out sink = {.fd = -1};
  const char *files[] = {rotated, path};
  for (size_t i = 0; i < 2; i++) {
    r.fd = open(files[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (r.fd >= 0)
      reader_pump(&r, fmt, &sink);
    reader_close(&r);
  }
  long n = r.lines + r.open[0] + r.open[1];
  reader_free(&r);
  return n;
}

static bool same_file(int fd, const char *path)
{
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int open_log(const char *path)
{
  return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
}

int log_print(const char *path, enum log_format fmt, long tail, const struct log_follow *follow,
              oci_error **err)
{
  cleanup_free char *rotated = NULL;
  if (asprintf(&rotated, "%s.1", path) < 0)
    return oci_error_set(err, ENOMEM, "log");
  struct out o = {.fd = 1};
  struct reader r = {.fd = -1};
  if (tail >= 0) {
    long total = count_lines(rotated, path, fmt);
    r.skip = total > tail ? total - tail : 0;
  }
  int ret = 0;
  /* Followed by identity: the file we read stays ours when it is renamed
   * (logrotate's mv, or the monitor's own rotation to PATH.1); once a new
   * file is at PATH, the rest of ours is read, then the new one.  The
   * rotated part first: until PATH exists (a mv the monitor has not been
   * told about yet) it may be the one still written. */
  r.fd = open_log(rotated);
  for (;;) {
    ssize_t n = 0;
    if (r.fd >= 0 && (n = reader_pump(&r, fmt, &o)) < 0) {
      ret = oci_error_set(err, (int)-n, "log '%s'", path);
      break;
    }
    if (r.fd < 0 || !same_file(r.fd, path)) {
      int fd = open_log(path);
      if (fd >= 0) {
        if (r.fd >= 0)
          reader_pump(&r, fmt, &o); /* the old file's last bytes */
        reader_close(&r);
        r.fd = fd;
        continue;
      }
      if (errno != ENOENT && r.fd < 0 && follow == NULL) {
        ret = oci_error_set(err, errno, "log '%s'", path);
        break;
      }
    }
    if (n > 0)
      continue;
    reader_release(&r, &o);
    if (follow == NULL)
      break;
    if (follow->finished(follow->data)) {
      /* the writer is done: what it wrote before is all there is */
      if (r.fd >= 0)
        reader_pump(&r, fmt, &o);
      if (r.fd < 0 || !same_file(r.fd, path)) {
        reader_close(&r);
        r.fd = open_log(path);
        if (r.fd >= 0)
          reader_pump(&r, fmt, &o);
      }
      reader_release(&r, &o);
      break;
    }
    out_flush(&o);
    struct timespec ts = {0, FOLLOW_INTERVAL_MS * 1000000L};
    nanosleep(&ts, NULL);
  }
  out_flush(&o);
  reader_free(&r);
  return ret;
}
