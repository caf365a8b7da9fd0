/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-monitor: the one state struct and the functions the parts call on each
 * other.  Everything runs on one GMainLoop, in one thread; the struct is the
 * user data of every source.  See README.md for the contract.
 */
#ifndef SIFOCI_MONITOR_H
#define SIFOCI_MONITOR_H

#include <glib.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <time.h>

#include "attach.h"
#include "ctr-stdio.h"
#include "errors.h"
#include "files.h"
#include "log-writer.h"
#include "notes.h"
#include "proc.h"
#include "proto.h"
#include "queue.h"
#include "timefmt.h"
#include "watch.h"

/* Bounds. */
#define MON_CLIENT_FLUSH_TIMEOUT_MS 5000 /* at exit: wait this long for slow clients */
#define MON_CLEANUP_TIMEOUT_MS 10000     /* `runtime delete --force` */

typedef enum {
  MON_PHASE_CREATING, /* `runtime create` is running */
  MON_PHASE_RUNNING,  /* created (maybe started), waiting for the container */
  MON_PHASE_EXITING,  /* container gone, flushing clients */
  MON_PHASE_DONE,
  MON_PHASE_MAX,
} MonPhase;

typedef struct {
  /* options */
  char *id, *bundle, *state_dir, *runtime, *log_path, *pid_file;
  char **runtime_args;
  MonLogFormat log_format;
  guint64 log_max_size;
  gboolean terminal, run_mode;
  int create_timeout;
  int report_fd;

  GMainLoop *loop;
  int exit_code; /* of the monitor process */
  MonPhase phase;
  int state_dfd;
  MonNotes *notes;

  /* signals (signalfd) */
  int sig_fd;
  GSource *sig_src;

  /* runtime create */
  pid_t create_pid;
  gboolean create_spawned;
  guint create_timer;
  gboolean create_timed_out;
  GString *rt_msg; /* the runtime's stderr while it runs create */
  int rt_err_fd;   /* terminal mode: the runtime's own stderr pipe */
  GSource *rt_err_src;

  /* console socket (terminal mode) */
  int console_fd;   /* listening */
  int console_conn; /* the runtime's connection */
  char *console_dir;
  GSource *console_src, *console_conn_src;

  /* container */
  pid_t ctr_pid;
  GHashTable *early_exits; /* pid -> wait status, reaped before ctr_pid was known */
  int pidfd;               /* only when the container is not our child */
  GSource *pidfd_src;
  gboolean exit_known;
  int exit_status, exit_signal;
  char *exit_reason; /* why the status is unknown */
  struct timespec finished;

  MonStdio *stdio;
  gboolean have_pty; /* terminal mode: the console socket delivered it */

  MonLog *log;
  gboolean log_created;

  MonAttach *attach;
  guint flush_timer;
  gboolean exit_announced; /* EXIT handed to every client */
} MonState;

/* runtime.c */
gboolean mon_runtime_spawn_create(MonState *m, GError **error);
void mon_runtime_create_exited(MonState *m, int status);
void mon_runtime_delete(MonState *m);
char *mon_runtime_error_message(MonState *m, int status);
void mon_runtime_keep_message(MonState *m, const guint8 *data, size_t len);
pid_t mon_spawn(char *const argv[], int fd0, int fd1, int fd2, gboolean new_pgrp, GError **error);

/* console.c */
gboolean mon_console_listen(MonState *m, char **ret_path, GError **error);
gboolean mon_console_try_receive(MonState *m, GError **error);
void mon_console_cleanup(MonState *m);

/* reaper.c */
gboolean mon_signals_setup(MonState *m, GError **error);
void mon_reap(MonState *m);
void mon_container_known(MonState *m);
gboolean mon_write_exit_record(MonState *m, GError **error);

/* main.c: lifecycle steps the parts trigger */
void mon_create_failed(MonState *m, const char *message);
void mon_create_succeeded(MonState *m);
void mon_container_exited(MonState *m);
void mon_maybe_finish(MonState *m);
void mon_got_pty(MonState *m, int master);

#endif
