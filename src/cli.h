/* SPDX-License-Identifier: Apache-2.0 */
/* The `oci` command line: the verb table and what every verb gets. */
#ifndef SIFOCI_CLI_H
#define SIFOCI_CLI_H

#include <stdbool.h>

#include "error.h"

/* Exit statuses of `oci` itself. */
enum {
  CLI_EXIT_ERROR = 1,
  CLI_EXIT_USAGE = 2,
  /* run, exec, attach: oci failed / command not executable / not found */
  CLI_EXIT_RUN_FAILED = 125,
  CLI_EXIT_CANNOT_EXEC = 126,
  CLI_EXIT_NOT_FOUND = 127,
};

struct cli_context {
  const char *root;      /* --root, default /run/sifoci */
  const char *runtime;   /* --runtime: runc, crun or a path */
  const char *self_path; /* absolute path of the running oci binary, for finding oci-monitor */
  const struct cli_verb *verb;
};

struct cli_verb {
  const char *name;
  /* Returns an exit status >= 0, or -1 with *err set (err->status, when not
   * 0, is the exit status to use). */
  int (*handler)(struct cli_context *ctx, int argc, char **argv, oci_error **err);
  int min_args, max_args; /* positional arguments; max -1 = unlimited */
  const char *usage;      /* "[OPTIONS] ID" */
  const char *summary;    /* one line */
  const char *options;    /* option help text, or NULL */
};

/* Check the positional argument count of the current verb after option
 * parsing; on error sets a usage error (status 2). */
int cli_check_args(const struct cli_context *ctx, int npositional, oci_error **err);

/* A usage error: status 2, with a hint to run --help. */
int cli_usage_error(const struct cli_context *ctx, oci_error **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Print "Usage: oci VERB USAGE" + summary + options to stdout. */
void cli_print_verb_help(const struct cli_verb *verb);

/* Must be root; sets an error otherwise. */
int cli_require_root(const struct cli_context *ctx, oci_error **err);

/* Handlers, one file each (src/cmd-<verb>.c). */
#define CLI_VERBS(X)                                                                               \
  X(inspect)                                                                                       \
  X(mount)                                                                                         \
  X(umount) X(create) X(start) X(state) X(attach) X(exec) X(kill) X(delete) X(pause) X(resume)     \
      X(update) X(run) X(list) X(logs)

#define CLI_DECLARE_HANDLER(v)                                                                     \
  int cmd_##v(struct cli_context *ctx, int argc, char **argv, oci_error **err);
CLI_VERBS(CLI_DECLARE_HANDLER)
#undef CLI_DECLARE_HANDLER

#endif
