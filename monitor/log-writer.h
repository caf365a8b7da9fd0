/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The container log: records in the Kubernetes CRI format or JSON lines,
 * written as output arrives, with size rotation to PATH.1.
 *
 * kubernetes: "<RFC3339Nano UTC> stdout|stderr F|P <text>\n".  F ends a line
 *   (its newline is the record's), P is a piece of a line that continues in
 *   the stream's next record.  When a stream ends inside a line,
 *   mon_log_finish() writes an empty F record so every line is closed.
 * json: {"time":"...","stream":"stdout","log":"text\n"} per line; a piece of
 *   a line has no "\n" at the end of "log" (Docker's json-file convention);
 *   nothing is added at the end.  A multi-byte character split between two
 *   reads is kept whole.  Every byte is kept: a record whose bytes are not
 *   all valid UTF-8 has them in "log" with U+FFFD for each invalid byte (for
 *   readers of Docker's format) and exactly, in base64 (RFC 4648, padded),
 *   in a last field: {"time":..,"stream":..,"log":"a\ufffd\n",
 *   "logBase64":"Yf8K"}.  A reader takes "logBase64" when it is there, else
 *   "log".  NUL and other control bytes are JSON escapes (\u0000).
 *
 * One timestamp per mon_log_write() call (one read of the container).  Writes
 * go out with writev(): big pieces straight from the caller's buffer, small
 * ones gathered into a staging buffer.  A failed write (ENOSPC, EIO, ...)
 * drops that batch, truncates the file back to the last whole record,
 * reports once through the error callback and keeps trying with later
 * output.  Every 8 MiB the written range is handed to writeback, so the
 * final fsync has little left to do.
 */
#ifndef SIFOCI_MON_LOG_WRITER_H
#define SIFOCI_MON_LOG_WRITER_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum {
  MON_LOG_KUBERNETES,
  MON_LOG_JSON,
  MON_LOG_FORMAT_MAX,
} MonLogFormat;

typedef enum {
  MON_STREAM_STDOUT,
  MON_STREAM_STDERR,
  MON_STREAM_MAX,
} MonStream;

typedef void (*MonLogErrorFunc)(const char *message, gpointer user_data);

typedef struct MonLog MonLog;

/* MAX_SIZE 0: no rotation. */
/* Rotation keeps KEEP files, PATH.1 (newest) .. PATH.KEEP; 1 by default. */
void mon_log_set_keep(MonLog *log, int keep);
MonLog *mon_log_new(const char *path, MonLogFormat format, uint64_t max_size,
                    MonLogErrorFunc on_error, gpointer user_data);
void mon_log_free(MonLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MonLog, mon_log_free)

/* Opens (appends to) the file; RET_CREATED tells whether it was made now.
 * Only a regular file will do: a FIFO, device, socket, directory or a
 * symlink as PATH's last part fails at once (never blocks). */
gboolean mon_log_open(MonLog *log, gboolean *ret_created, GError **error);
/* Opens PATH again (after logrotate moved it away) and writes there from
 * now on; the same file if it was not moved.  On failure the current file
 * stays in use. */
gboolean mon_log_reopen(MonLog *log, GError **error);
void mon_log_write(MonLog *log, MonStream stream, const struct timespec *ts, const void *data,
                   size_t len);
/* Closes partial lines (kubernetes: empty F record) and flushes. */
void mon_log_finish(MonLog *log, const struct timespec *ts);
/* fsync; FALSE with errno set on failure. */
gboolean mon_log_sync(MonLog *log);
/* Releases the staging buffer (when idle). */
void mon_log_trim(MonLog *log);

/* Exposed for tests. */
gboolean mon_log_parse_format(const char *name, MonLogFormat *ret);
uint64_t mon_log_dropped_bytes(const MonLog *log);

#endif
