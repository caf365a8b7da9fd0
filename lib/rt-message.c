/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* A JSON log record's level and message (msg, or message), when LINE is
 * one: 1, 0 when it is not JSON. */
static int json_record(const char *line, size_t len, char **ret_level, char **ret_msg)
{
  if (len == 0 || line[0] != '{')
    return 0;
  json_error_t jerr;
  json_auto_t *rec = json_loadb(line, len, 0, &jerr);
  if (!json_is_object(rec))
    return 0;
  const char *level = json_string_value(json_object_get(rec, "level"));
  const char *msg = json_string_value(json_object_get(rec, "msg"));
  if (msg == NULL)
    msg = json_string_value(json_object_get(rec, "message"));
  *ret_level = level ? strdup(level) : NULL;
  *ret_msg = msg ? strdup(msg) : NULL;
  return 1;
}

/* The value of KEY= in a logfmt line (time=... level=error msg="..."):
 * a Go-quoted string unquoted, or a bare word; NULL when absent. */
static char *logfmt_value(const char *line, size_t len, const char *key)
{
  size_t klen = strlen(key);
  const char *end = line + len, *p = line;
  for (; p + klen < end; p++) {
    if ((p == line || p[-1] == ' ') && strncmp(p, key, klen) == 0 && p[klen] == '=')
      break;
  }
  if (p + klen >= end)
    return NULL;
  p += klen + 1;
  char *out = malloc((size_t)(end - p) + 1), *o = out;
  if (out == NULL)
    return NULL;
  if (p < end && *p == '"') {
    for (p++; p < end && *p != '"'; p++) {
      if (*p == '\\' && p + 1 < end) {
        p++;
        *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
      } else {
        *o++ = *p;
      }
    }
  } else {
    while (p < end && *p != ' ')
      *o++ = *p++;
  }
  *o = '\0';
  return out;
}

static bool is_error_level(const char *level)
{
  return level && (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0);
}

/* One line's level (allocated or NULL) and message (allocated). */
static char *line_message(const char *line, size_t len, char **ret_level)
{
  char *level = NULL, *msg = NULL;
  if (json_record(line, len, &level, &msg) == 0) {
    msg = logfmt_value(line, len, "msg");
    if (msg != NULL)
      level = logfmt_value(line, len, "level");
  }
  if (msg == NULL)
    msg = strndup(line, len);
  *ret_level = level;
  return msg;
}

/* Control characters (a message's own newlines too) become spaces, and
 * the ends are trimmed: a runtime's message is one line of ours. */
static char *one_line(char *msg)
{
  if (msg == NULL)
    return NULL;
  for (char *p = msg; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      *p = ' ';
  char *start = msg;
  while (*start == ' ')
    start++;
  size_t n = strlen(start);
  while (n > 0 && start[n - 1] == ' ')
    n--;
  memmove(msg, start, n);
  msg[n] = '\0';
  if (n == 0) {
    free(msg);
    return NULL;
  }
  return msg;
}

/* The message of the last error-level line of TEXT; when ERRORS_ONLY is
 * false and there is none, of its last non-empty line. */
static char *pick_message(const char *text, size_t len, bool errors_only)
{
  if (text == NULL)
    return NULL;
  char *last = NULL;
  const char *end = text + len;
  for (const char *p = end; p > text;) {
    const char *line_end = p;
    while (line_end > text && isspace((unsigned char)line_end[-1]))
      line_end--;
    const char *start = line_end;
    while (start > text && start[-1] != '\n')
      start--;
    p = start;
    if (start == line_end)
      continue;
    char *level = NULL;
    char *msg = line_message(start, (size_t)(line_end - start), &level);
    bool error = is_error_level(level);
    free(level);
    if (error) {
      free(last);
      return one_line(msg);
    }
    if (last == NULL && !errors_only)
      last = msg;
    else
      free(msg);
  }
  return one_line(last);
}

char *rt_error_message(const char *text, size_t len)
{
  return pick_message(text, len, false);
}

char *rt_log_error_message(const char *text, size_t len)
{
  return pick_message(text, len, true);
}

static bool has(const char *s, const char *needle)
{
  return s && strstr(s, needle) != NULL;
}

static bool has_ci(const char *s, const char *needle)
{
  return s && strcasestr(s, needle) != NULL;
}

/* What a failed execve() inside the container says, per runtime.  Returns
 * 126/127, or 0 when MSG is not such a message. */
static int classify_exec_failure(enum rt_kind kind, const char *msg)
{
  if (msg == NULL)
    return 0;
  if (kind == RT_CRUN) {
    /* "executable file `foo` not found in $PATH: No such file or directory" */
    if (has(msg, "executable file `") && has(msg, "not found"))
      return 127;
    /* "open executable: Permission denied" (also a directory: EPERM) */
    if (strncmp(msg, "open executable: ", 17) == 0)
      return 126;
    /* the final execve: "exec: Exec format error", "exec: No such file ..." */
    if (strncmp(msg, "exec: ", 6) == 0)
      return has_ci(msg, "no such file") ? 127 : 126;
    return 0;
  }
  /* runc: `exec failed: unable to start container process: exec: "foo":
   * executable file not found in $PATH` (lookup, before the final execve),
   * or from runc init's execve itself: `exec /x: exec format error`. */
  const char *q = strstr(msg, "exec: \"");
  if (q == NULL && strncmp(msg, "exec /", 6) == 0)
    q = msg;
  if (q == NULL)
    return 0;
  if (has(q, "executable file not found") || has_ci(q, "no such file or directory"))
    return 127;
  if (has_ci(q, "permission denied") || has_ci(q, "exec format error") ||
      has_ci(q, "is a directory") || has_ci(q, "not permitted"))
    return 126;
  return 0;
}

int rt_exec_status(enum rt_kind kind, int status, const char *stderr_msg, const char *log_msg)
{
  if (status == 0)
    return 0;
  /* Only statuses the runtime itself uses for its own failures (runc 255
   * before the command runs, 1 from a failed final execve; crun the same):
   * a command that exits 3 and prints something stays 3. */
  if (status == 1 || status == 255) {
    int r = classify_exec_failure(kind, stderr_msg);
    if (r)
      return r;
  }
  if (log_msg) {
    int r = classify_exec_failure(kind, log_msg);
    return r ? r : 125;
  }
  return status;
}

void rt_normalize_state(enum rt_kind kind, json_t *state)
{
  (void)kind;
  const char *rootfs = json_string_value(json_object_get(state, "rootfs"));
  const char *bundle = json_string_value(json_object_get(state, "bundle"));
  if (rootfs && rootfs[0] != '/' && bundle) {
    char *abs = NULL;
    if (asprintf(&abs, "%s/%s", bundle, rootfs) >= 0) {
      json_object_set_new(state, "rootfs", json_string(abs));
      free(abs);
    }
  }
}

bool rt_says_not_found(enum rt_kind kind, const char *msg)
{
  if (msg == NULL)
    return false;
  if (kind == RT_CRUN)
    return has(msg, "/status`: No such file or directory") || has(msg, "does not exist");
  return has(msg, "container does not exist") || has(msg, "does not exist");
}
