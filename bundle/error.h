/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The error contract of bundle/ and src/.
 *
 * A function that can fail returns a negative int (or NULL) and fills the
 * `oci_error **err` passed as its last argument.  Callers may add context as
 * the error travels up (oci_error_prefix); exactly one place, the command's
 * top level, prints it.  Nothing in bundle/ prints.
 */
#ifndef SIFOCI_ERROR_H
#define SIFOCI_ERROR_H

#include <stdarg.h>

typedef struct oci_error {
  int errnum; /* errno value, or 0 when the message says it all */
  int status; /* suggested exit status; 0 means the default (1) */
  char *msg;  /* "what failed: why", without the errno text */
} oci_error;

/* Fill *err (if err != NULL and *err is empty) and return -1.  When errnum is
 * not 0, ": strerror(errnum)" is appended when the error is formatted. */
int oci_error_set(oci_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int oci_error_setv(oci_error **err, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Like oci_error_set, but with an exit status for the command to use. */
int oci_error_set_status(oci_error **err, int status, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepend "context: " to an error already set; returns -1. */
int oci_error_prefix(oci_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The full one-line text ("msg: strerror"), newly allocated. */
char *oci_error_format(const oci_error *e);

void oci_error_free(oci_error **err);

static inline void oci_error_freep(oci_error **err)
{
  oci_error_free(err);
}
#define cleanup_error __attribute__((cleanup(oci_error_freep)))

#endif
