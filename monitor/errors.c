/* SPDX-License-Identifier: Apache-2.0 */
/* GError setters for the monitor (errors.h). */
#include "errors.h"

#include <stdlib.h>

gboolean mon_set_error(GError **error, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error_literal(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, msg);
  return FALSE;
}

gboolean mon_set_error_errno(GError **error, int errsv, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errsv), "%s: %s", msg,
              g_strerror(errsv));
  return FALSE;
}

gboolean mon_set_error_from_oci(GError **error, oci_error **e, const char *context)
{
  char *text = oci_error_format(*e); /* malloc'd by lib/ */
  int errsv = oci_error_errnum(*e);
  oci_error_free(e);
  g_set_error(error, G_FILE_ERROR, errsv ? g_file_error_from_errno(errsv) : G_FILE_ERROR_FAILED,
              "%s%s%s", context ? context : "", context ? ": " : "", text ? text : "out of memory");
  free(text);
  return FALSE;
}
