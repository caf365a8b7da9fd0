/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text-escape.h"

int oci_error_setv(oci_error **err, int errnum, const char *fmt, va_list ap)
{
  if (err == NULL || *err != NULL)
    return -1;
  oci_error *e = calloc(1, sizeof(*e));
  if (e == NULL)
    return -1;
  e->errnum = errnum;
  if (vasprintf(&e->msg, fmt, ap) < 0)
    e->msg = NULL;
  *err = e;
  return -1;
}

int oci_error_set(oci_error **err, int errnum, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  oci_error_setv(err, errnum, fmt, ap);
  va_end(ap);
  return -1;
}

int oci_error_set_kind(oci_error **err, enum oci_error_kind kind, int errnum, const char *fmt, ...)
{
  va_list ap;
  bool had = err != NULL && *err != NULL;
  va_start(ap, fmt);
  oci_error_setv(err, errnum, fmt, ap);
  va_end(ap);
  if (!had && err != NULL && *err != NULL)
    (*err)->kind = kind;
  return -1;
}

int oci_error_prefix(oci_error **err, const char *fmt, ...)
{
  if (err == NULL || *err == NULL)
    return -1;
  char *ctx = NULL, *joined = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&ctx, fmt, ap);
  va_end(ap);
  if (r < 0)
    return -1;
  if (asprintf(&joined, "%s: %s", ctx, (*err)->msg ? (*err)->msg : "unknown error") < 0) {
    free(ctx);
    return -1;
  }
  free(ctx);
  free((*err)->msg);
  (*err)->msg = joined;
  return -1;
}

int oci_error_replace(oci_error **err, const char *fmt, ...)
{
  if (err == NULL)
    return -1;
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int r = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (r < 0)
    msg = NULL;
  if (*err == NULL) {
    oci_error_set(err, 0, "%s", r < 0 ? "out of memory" : msg);
  } else if (r >= 0) {
    free((*err)->msg);
    (*err)->msg = msg;
    msg = NULL;
  }
  free(msg);
  return -1;
}

int oci_error_errnum(const oci_error *e)
{
  return e ? e->errnum : 0;
}

char *oci_error_format(const oci_error *e)
{
  char *out = NULL;
  if (e == NULL)
    return strdup("unknown error");
  /* IDs, paths and image text reach messages verbatim: escaped here, once,
   * so no newline splits the line and no escape sequence reaches a
   * terminal. */
  char *msg = e->msg ? text_escape(e->msg) : strdup("out of memory");
  if (msg == NULL)
    return NULL;
  if (e->errnum == 0)
    return msg;
  if (asprintf(&out, "%s: %s", msg, strerror(e->errnum)) < 0)
    out = NULL;
  free(msg);
  return out;
}

void oci_error_free(oci_error **err)
{
  if (err == NULL || *err == NULL)
    return;
  free((*err)->msg);
  free(*err);
  *err = NULL;
}
