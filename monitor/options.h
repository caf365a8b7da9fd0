/* SPDX-License-Identifier: Apache-2.0 */
/* oci-monitor's command line (README.md "Invocation"). */
#ifndef SIFOCI_MON_OPTIONS_H
#define SIFOCI_MON_OPTIONS_H

#include <glib.h>

#include "log-writer.h"

typedef struct {
  char *id, *bundle, *state_dir, *runtime, *log_path, *pid_file;
  char **runtime_args; /* NULL-terminated */
  char **cleanup_cmd;  /* run mode: run before the state dir goes; NULL-terminated, may be empty */
  MonLogFormat log_format;
  guint64 log_max_size;
  int log_rotate; /* rotated files kept */
  gboolean terminal, run_mode;
  gboolean start;     /* `runtime run --detach`: created and started in one call */
  int create_timeout; /* seconds */
  int report_fd;
  int attach_fd;        /* a connected attach client, held (the foreground `oci run`), or -1 */
  int attach_out_fd[2]; /* that client's own stdout and stderr, written directly, or -1 */
} MonOptions;

void mon_options_init(MonOptions *o);
void mon_options_clear(MonOptions *o);
/* 0: parsed and checked; 1: a bad command line (ERROR set); 2: --help or
 * --version, printed. */
int mon_options_parse(MonOptions *o, int argc, char **argv, GError **error);

#endif
