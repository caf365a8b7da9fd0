/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runc's command line, as a table: the global flags and each verb's flags,
 * with what crun makes of each.  The runc-compatible personality uses it to
 * find the flags it needs itself (--log, --log-format, --version) and to
 * rewrite a runc command line for crun.  Nothing here executes or prints, and
 * no string is copied: the rewritten argv points into the caller's argv and
 * into the table.
 */
#ifndef SIFOCI_RUNC_FLAGS_H
#define SIFOCI_RUNC_FLAGS_H

#include <stdbool.h>

#include "error.h"

/* What the wrapper needs from runc's global flags. */
struct rp_globals {
  const char *log;        /* --log FILE, or NULL */
  const char *log_format; /* --log-format VALUE, or NULL (text) */
  bool version;           /* --version / -v */
  int verb;               /* index of the verb in argv; argc when there is none */
};

/* Read runc's global flags as runc would.  Never fails: a flag it does not
 * know ends the scan, and the runtime reports it. */
void rp_scan_globals(int argc, char **argv, struct rp_globals *ret);

/* Rewrite a runc command line (argv[0] is ours) for crun at RUNTIME.
 * *ret_argv is a NULL-terminated array to free(); its strings belong to argv
 * or to the table.  Fails on a verb or flag crun cannot take (kind
 * OCI_ERR_NOT_FOUND for a verb runc does not know either). */
int rp_crun_argv(const char *runtime, int argc, char **argv, const char ***ret_argv,
                 oci_error **err);

#endif
