/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The monitor's errors: GError in glib's G_FILE_ERROR domain, its code
 * taken from errno (G_FILE_ERROR_FAILED when there is none), the message
 * "what failed: why".  One domain with real codes, and glib only: gio's
 * G_IO_ERROR would pull libgio (and libmount) into the static monitor.
 * In the style of libglnx's glnx_throw_errno_prefix(): every setter returns
 * FALSE, so a failing function can `return mon_set_error_errno(...)`.
 */
#ifndef SIFOCI_MON_ERRORS_H
#define SIFOCI_MON_ERRORS_H

#include <glib.h>

#include "error.h"

/* A failure that errno does not describe (bad option, protocol, timeout). */
gboolean mon_set_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* "FMT: strerror(ERRSV)" with ERRSV's code; pass errno saved right after
 * the failing call. */
gboolean mon_set_error_errno(GError **error, int errsv, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* lib/'s oci_error (freed) as a GError, prefixed with "CONTEXT: " when
 * CONTEXT is not NULL. */
gboolean mon_set_error_from_oci(GError **error, oci_error **e, const char *context);

#endif
