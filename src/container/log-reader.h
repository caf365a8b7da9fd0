/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a container log as oci-monitor writes it (monitor/README.md):
 * kubernetes (CRI) `<RFC3339Nano> stdout|stderr F|P <text>` lines, or json
 * `{"time","stream","log"}` lines.  Each record goes back to the stream it
 * came from; P pieces rejoin because they are written out as they come.
 */
#ifndef SIFOCI_LOG_READER_H
#define SIFOCI_LOG_READER_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

enum log_format {
  LOG_KUBERNETES,
  LOG_JSON,
  LOG_FORMAT_MAX,
};

struct log_record {
  int stream;       /* 1 stdout, 2 stderr */
  const char *text; /* not NUL-terminated */
  size_t len;
  bool newline;   /* the record ends a line: write "\n" after text */
  bool ends_line; /* counts as a line for --tail */
};

/* Parse one line (without its '\n').  Returns 0, or -1 for a line that is
 * not a record (skipped).  For json, TEXT points into SCRATCH (len bytes,
 * at least LINE_LEN long). */
int log_parse_line(enum log_format fmt, const char *line, size_t line_len, char *scratch,
                   struct log_record *ret);

struct log_follow {
  /* -f: called when there is nothing new; returns true once the writer is
   * done for good (the container's exit record exists). */
  bool (*finished)(void *data);
  void *data;
};

/* Print PATH (after PATH.1, the rotated part) to stdout/stderr.  TAIL >= 0:
 * only the last TAIL lines.  FOLLOW non-NULL: then wait for more. */
int log_print(const char *path, enum log_format fmt, long tail, const struct log_follow *follow,
              oci_error **err);

#endif
