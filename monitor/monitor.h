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
#define MON_STDIN_QUEUE_MAX (1u << 20) /* stdin queued for the container */
#define MON_MAX_CLIENTS 64
#define MON_READ_BUF_SIZE (1u << 20)     /* one read() of container output */
#define MON_PIPE_SIZE (4 << 20)          /* container stdout/stderr pipes, best effort */
#define MON_CLIENT_FLUSH_TIMEOUT_MS 5000 /* at exit: wait this long for slow clients */
#define MON_DRAIN_TIMEOUT_MS 1000        /* at exit: read leftover output this long at most */
#define MON_CLEANUP_TIMEOUT_MS 10000     /* `runtime delete --force` */

/* Backpressure (attach-server.c, README "Attach socket"): once a client has
 * HIGH bytes queued the monitor stops reading the container's output (the
 * container then blocks on its pipe) until every client is below LOW.  A
 * client that takes nothing for STALL_MS while output waits for it is
 * dropped.  A client's queue can pass HIGH by at most one read, so the hard
 * bound never drops a client that reads. */
#define MON_CLIENT_QUEUE_HIGH (2u << 20)
#define MON_CLIENT_QUEUE_LOW (512u << 10)
#define MON_CLIENT_STALL_MS 2000
#define MON_CLIENT_QUEUE_MAX (MON_CLIENT_QUEUE_HIGH + MON_READ_BUF_SIZE + 4096)

typedef enum {
  MON_PHASE_CREATING, /* `runtime create` is running */
  MON_PHASE_RUNNING,  /* created (maybe started), waiting for the container */
  MON_PHASE_EXITING,  /* container gone, flushing clients */
  MON_PHASE_DONE,
  MON_PHASE_MAX,
} MonPhase;

typedef struct MonClient MonClient;

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

  /* container stdio: out_fd[0] stdout (or a dup of the pty master), [1] stderr */
  int out_fd[2];
  GSource *out_src[2];
  int pty_fd; /* terminal mode: the pty master (stdin_fd, out_fd[0] are dups) */
  guint pty_retry_timer;
  int stdin_fd;       /* pipe write end or a dup of the pty master */
  GSource *stdin_src; /* exists only while stdin_q has data */
  MonQueue stdin_q;
  gboolean stdin_close_pending, stdin_done, pty_eof_pending;
  gboolean have_winsize;
  struct winsize winsize;
  guint8 *rbuf; /* MON_READ_BUF_SIZE, mmap'd, released when idle */
  guint trim_timer;
  gboolean io_active;
  gboolean output_paused; /* a client fell behind: output is not read */
  guint stall_timer;      /* drops clients that hold output back too long */
  gboolean draining;      /* container gone: reading what is left */
  gint64 drain_budget;    /* microseconds of reading left for that */
  guint drain_idle;       /* continues the drain after a pause */

  MonLog *log;
  gboolean log_created;

  /* attach socket */
  int listen_fd;
  GSource *listen_src;
  GPtrArray *clients;
  guint flush_timer;
  gboolean exit_announced; /* EXIT handed to every client */
} MonState;

/* runtime.c */
gboolean mon_runtime_spawn_create(MonState *m, GError **error);
void mon_runtime_create_exited(MonState *m, int status);
void mon_runtime_delete(MonState *m);
char *mon_runtime_error_message(MonState *m, int status);
pid_t mon_spawn(char *const argv[], int fd0, int fd1, int fd2, gboolean new_pgrp, GError **error);

/* console.c */
gboolean mon_console_listen(MonState *m, char **ret_path, GError **error);
gboolean mon_console_try_receive(MonState *m, GError **error);
void mon_console_cleanup(MonState *m);

/* io.c */
gboolean mon_io_setup_pipes(MonState *m, int ret_child[3], GError **error);
void mon_io_set_pty(MonState *m, int master);
void mon_io_watch(MonState *m);
void mon_io_note_activity(MonState *m);
void mon_io_watch_runtime_stderr(MonState *m);
void mon_io_drain_runtime_stderr(MonState *m);
void mon_io_stdin_push(MonState *m, const guint8 *data, size_t len);
void mon_io_close_stdin(MonState *m);
void mon_io_resize(MonState *m, guint16 rows, guint16 cols);
void mon_io_drain(MonState *m);
void mon_io_pause_output(MonState *m);
void mon_io_resume_output(MonState *m);
void mon_io_close(MonState *m);
gboolean mon_io_stdin_full(MonState *m);

/* attach-server.c */
gboolean mon_attach_listen(MonState *m, GError **error);
void mon_attach_broadcast(MonState *m, enum proto_frame_type type, const guint8 *data, size_t len);
void mon_attach_send_exit(MonState *m);
void mon_attach_resume_readers(MonState *m);
void mon_attach_close_all(MonState *m);
void mon_attach_unlink(MonState *m);

/* reaper.c */
gboolean mon_signals_setup(MonState *m, GError **error);
void mon_reap(MonState *m);
void mon_container_known(MonState *m);
gboolean mon_write_exit_record(MonState *m, GError **error);

/* main.c: lifecycle steps the parts trigger */
void mon_create_failed(MonState *m, const char *message);
void mon_create_succeeded(MonState *m);
void mon_container_exited(MonState *m);
void mon_container_output_done(MonState *m);
void mon_maybe_finish(MonState *m);
enum proto_state mon_proto_state(MonState *m);

#endif
