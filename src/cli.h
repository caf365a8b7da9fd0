/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `oci` command line: the verb table and what every verb gets.  Each
 * src/cmd-<verb>.c defines its `cli_verb_<verb>`: name, usage, summary,
 * option table (its help is generated from it) and handler; oci.c lists
 * them, checks what the flags say once, and turns errors into exit codes.
 */
#ifndef SIFOCI_CLI_H
#define SIFOCI_CLI_H

#include <getopt.h>
#include <jansson.h>
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
  CLI_EXIT_INTERRUPTED = 130,
};

enum cli_verb_flags {
  CLI_ROOT = 1 << 0,           /* needs root: main checks it before the handler runs */
  CLI_OPTS_END_AT_ID = 1 << 1, /* options stop at the first positional (exec's command) */
  /* the exit status is the container's (run, exec, attach): oci's own
   * failures are 125, as docker's and podman's, so that they stay apart */
  CLI_RUN_STATUS = 1 << 2,
};

/* One option of a verb.  KEY is what cli_next_option returns: a letter is
 * also the short option (-b), a value from CLI_OPT_LONG up is long only. */
struct cli_option {
  const char *name; /* long name, without "--" */
  int key;
  const char *arg;  /* the value's name in the help ("DIR"), NULL for a flag */
  const char *help; /* one line; '\n' starts another, indented */
};
#define CLI_OPT_LONG 256
/* run: create's options and its own; mount: its own and the bundle
 * options' groups (mount-flags.h) */
#define CLI_OPTION_GROUPS 8
#define CLI_MAX_OPTIONS 72 /* per verb, all groups */

struct cli_context;

struct cli_verb {
  const char *name;
  const char *usage;   /* "[OPTIONS] ID" */
  const char *summary; /* one line */
  /* tables ending with a NULL name; unused groups are NULL */
  const struct cli_option *options[CLI_OPTION_GROUPS];
  /* the help's heading of each group; NULL: under "Options:" */
  const char *option_titles[CLI_OPTION_GROUPS];
  int min_args, max_args; /* positional arguments; max -1 = unlimited */
  /* what to tell a user who gave more than max_args (NULL: the usage) */
  const char *extra_args_hint;
  unsigned flags; /* enum cli_verb_flags */
  int data;       /* the handler's own (cmd-runtime-op.c: enum rt_op) */
  /* Returns an exit status >= 0, or -1 with *err set: oci.c picks the
   * status from the error's kind and the verb's flags. */
  int (*handler)(struct cli_context *ctx, int argc, char **argv, oci_error **err);
};

struct cli_context {
  const char *root;      /* --root, default /run/sifoci */
  const char *runtime;   /* --runtime: runc, crun or a path */
  const char *self_path; /* absolute path of the running oci binary, for finding oci-monitor */
  const struct cli_verb *verb;
  /* getopt's view of the verb's option table (cli_next_option) */
  struct option longopts[CLI_MAX_OPTIONS + 1];
  char shortopts[2 + 2 * CLI_MAX_OPTIONS + 1];
  /* the verb's max_args and extra_args_hint, unless cli_permute_options
   * said otherwise */
  int max_args;
  const char *extra_args_hint;
};

/* Make CTX ready for VERB's options. */
int cli_set_verb(struct cli_context *ctx, const struct cli_verb *verb, oci_error **err);

/* The next option of the verb's command line: its key, with the value in
 * optarg; 0 once the options end (optind is the first positional); -1 with
 * a usage error for an unknown option or a missing value. */
int cli_next_option(struct cli_context *ctx, int argc, char **argv, oci_error **err);

/* Before the options are read: the index in ARGV of the first positional
 * argument at or after START (ARGC when there is none; option values and
 * a "--" skipped); *ret_key_seen is set when option KEY is among the
 * options on the way. */
int cli_find_operand(const struct cli_context *ctx, int argc, char **argv, int start, int key,
                     bool *ret_key_seen);

/* Options may follow the positional arguments after all, for a verb with
 * CLI_OPTS_END_AT_ID (`oci run -b B ID` as against `oci run IMAGE ARGS`),
 * and at most MAX_ARGS of those, a word past them named with HINT before
 * the options are read. */
void cli_permute_options(struct cli_context *ctx, int max_args, const char *hint);

/* Check the positional argument count of the current verb after option
 * parsing; on error sets a usage error. */
int cli_check_args(const struct cli_context *ctx, int npositional, oci_error **err);

/* A usage error (OCI_ERR_USAGE), "VERB: message"; the top level adds the
 * hint to run --help on a line of its own. */
int cli_usage_error(const struct cli_context *ctx, oci_error **err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "Usage: oci VERB USAGE", the summary and the option table, on stdout. */
void cli_print_verb_help(const struct cli_verb *verb);

/* J as indented JSON on stdout (`oci state`, `oci list --format json`). */
int cli_print_json(json_t *j, oci_error **err);

/* The verbs, one file each (src/cmd-<verb>.c; start, pause and resume
 * share cmd-runtime-op.c).  oci.c lists them in this order. */
#define CLI_VERBS(X)                                                                               \
  X(inspect)                                                                                       \
  X(mount)                                                                                         \
  X(umount)                                                                                        \
  X(export)                                                                                        \
  X(create)                                                                                        \
  X(start)                                                                                         \
  X(state)                                                                                         \
  X(attach)                                                                                        \
  X(exec)                                                                                          \
  X(kill)                                                                                          \
  X(delete)                                                                                        \
  X(pause)                                                                                         \
  X(resume)                                                                                        \
  X(update)                                                                                        \
  X(run)                                                                                           \
  X(list)                                                                                          \
  X(logs)

#define CLI_DECLARE_VERB(v) extern const struct cli_verb cli_verb_##v;
CLI_VERBS(CLI_DECLARE_VERB)
#undef CLI_DECLARE_VERB

#endif
