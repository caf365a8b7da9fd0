/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Starting oci-monitor for a container (contract: monitor/README.md) and
 * reading its report.  The monitor is double-forked so it is never our
 * child: `oci create` returns while the monitor keeps the container.
 */
#ifndef SIFOCI_MONITOR_LAUNCH_H
#define SIFOCI_MONITOR_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include "argv.h"
#include "error.h"
#include "runtime.h"

struct monitor_launch {
  const char *self_path; /* the oci binary, to find oci-monitor beside it */
  const struct rt_runtime *rt;
  const char *id;
  const char *bundle;              /* absolute */
  const char *state_dir;           /* ROOT/ID */
  const char *log_path;            /* absolute */
  const char *log_format;          /* kubernetes | json */
  unsigned long long log_size_max; /* 0: no limit */
  unsigned log_rotate;             /* rotated files kept, 0: the monitor's default */
  const char *pid_file;            /* absolute, or NULL */
  bool terminal, run_mode;
  bool start;           /* runtime run --detach: created and started in one call */
  int attach_fd;        /* >= 0: a connected attach socket the monitor adopts */
  int attach_out_fd[2]; /* with it: our stdout / stderr for the monitor to write to, or -1 */
  int create_timeout;   /* seconds, given to the monitor; we wait 10 s more */
  int cancel_fd;        /* readable (a signalfd): stop waiting; -1 for none */
  /* run mode: run this (NULL-terminated argv) before removing the state
   * dir; NULL for nothing */
  char *const *cleanup_cmd;
};

struct monitor_report {
  pid_t monitor_pid;   /* 0 when it never started */
  int monitor_pidfd;   /* -1 when unknown; the caller closes it */
  pid_t container_pid; /* from {"pid": N} */
};

/* $OCI_MONITOR, beside the oci binary (also ../monitor/ for the build
 * tree), then the libexec dir. */
int monitor_find(const char *self_path, char **ret_path, oci_error **err);
int monitor_argv(const struct monitor_launch *l, const char *monitor_path, int report_fd,
                 struct argv_builder *b, oci_error **err);
/* Start the monitor and wait for its report.  On failure the error is the
 * monitor's own message (or a timeout / death), and ret->monitor_* name a
 * monitor that may still be alive: the caller stops it and cleans up. */
int monitor_start(const struct monitor_launch *l, struct monitor_report *ret, oci_error **err);
/* Wait up to TIMEOUT_MS for the monitor behind PIDFD to exit; true if it did. */
bool monitor_wait_exit(int pidfd, pid_t pid, int timeout_ms);
/* Wait GRACE_MS for the monitor to exit, then SIGKILL it and wait 5 s
 * more.  PIDFD may be -1 (the pid is used then); PID <= 0: nothing. */
void monitor_stop(int pidfd, pid_t pid, int grace_ms);

#endif
