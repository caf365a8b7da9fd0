/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The error contract of everything outside the monitor (lib/, bundle/,
 * src/).
 *
 * A function that can fail returns a negative int (or NULL) and fills the
 * `oci_error **err` passed as its last argument.  Callers may add context
 * as the error travels up (oci_error_prefix) or say it again in their own
 * words (oci_error_replace); both keep the errno and the kind.  Exactly one
 * place, the program's top level, prints it and turns its kind into an
 * exit status: library code never chooses exit codes.  Static helpers may
 * return -errno instead; anything declared in a header uses oci_error.
 */
#ifndef SIFOCI_ERROR_H
#define SIFOCI_ERROR_H

#include <stdarg.h>

enum oci_error_kind {
  OCI_ERR_FAILED = 0,     /* the operation failed */
  OCI_ERR_USAGE,          /* the command line is wrong: the user can fix it */
  OCI_ERR_INTERRUPTED,    /* a signal ended the wait */
  OCI_ERR_NOT_FOUND,      /* the command or topic named does not exist */
  OCI_ERR_NOT_EXECUTABLE, /* the command exists but cannot be run */
  OCI_ERR_KIND_MAX,
};

typedef struct oci_error {
  int errnum; /* errno value, or 0 when the message says it all */
  enum oci_error_kind kind;
  char *msg; /* "what failed: why", without the errno text */
} oci_error;

/* Fill *err (if err != NULL and *err is empty: the first error wins) and
 * return -1.  When errnum is not 0, ": strerror(errnum)" is appended when
 * the error is formatted. */
int oci_error_set(oci_error **err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int oci_error_setv(oci_error **err, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Like oci_error_set, with a kind other than OCI_ERR_FAILED. */
int oci_error_set_kind(oci_error **err, enum oci_error_kind kind, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Prepend "context: " to an error already set; returns -1. */
int oci_error_prefix(oci_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Say an error already set in new words, keeping its errno and kind (the
 * callee's message is dropped); returns -1.  Sets a plain error when there
 * was none. */
int oci_error_replace(oci_error **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The errno of an error, 0 for none. */
int oci_error_errnum(const oci_error *e);

/* The full one-line text ("msg: strerror"), newly allocated: control
 * characters of msg escaped (text-escape.h), so it is one line that is safe
 * to print. */
char *oci_error_format(const oci_error *e);

void oci_error_free(oci_error **err);

static inline void oci_error_freep(oci_error **err)
{
  oci_error_free(err);
}
#define cleanup_error __attribute__((cleanup(oci_error_freep)))

#endif
