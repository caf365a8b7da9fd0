/* SPDX-License-Identifier: Apache-2.0 */
/* The owner (monitor.h): lifecycle, report, exit record, routing. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>

#include "attach.h"
#include "child.h"
#include "console.h"
#include "container-id.h"
#include "create.h"
#include "ctr-stdio.h"
#include "errors.h"
#include "files.h"
#include "log-writer.h"
#include "notes.h"
#include "postmortem.h"
#include "proc.h"
#include "report.h"
#include "timefmt.h"

/* exit.json is written into this file, reserved at start (files.h), so a
 * log that fills the file system cannot take the exit code with it. */
#define EXIT_RESERVE "exit.reserve"
#define EXIT_RESERVE_SIZE 4096
#define EXIT_RETRY_S 1

typedef enum {
  MON_PHASE_CREATING, /* `runtime create` is running */
  MON_PHASE_RUNNING,  /* created (maybe started), waiting for the container */
  MON_PHASE_EXITING,  /* container gone, flushing clients */
  MON_PHASE_DONE,
  MON_PHASE_MAX,
} MonPhase;

struct MonMonitor {
  MonOptions o; /* o.report_fd: -1 once reported */
  GMainLoop *loop;
  MonPhase phase; /* written here only */
  int exit_code;  /* of the monitor process */
  int state_dfd;
  MonNotes *notes;
  MonLog *log;
  gboolean log_created; /* so a failed create removes it */
  gboolean have_pty;
  pid_t ctr_pid;
  MonCgroup *cgroup;     /* found while the container runs */
  MonPostmortem post;    /* read from it at the container's end */
  MonExit exit;          /* exit.reason points to exit_reason */
  char *exit_reason;     /* why the status is unknown */
  gboolean exit_written; /* exit.json done */
  gboolean exit_sent;    /* EXIT handed to every client */
  gboolean exit_failure_noted;
  guint exit_retry; /* writing exit.json failed: tried again every second */
  int reopen_fd;    /* signalfd of SIGUSR1: reopen the log */
  guint reopen_src;
  guint flush_timer;
  guint trim_timer; /* the idle-memory trim, a moment after the start */

  /* the parts; each reports back through the callbacks below */
  MonStdio *stdio;
  MonAttach *attach;
  MonChild *child;
  MonCreate *create;
  MonConsole *console; /* terminal mode */
};

G_STATIC_ASSERT(MON_READ_BUF_SIZE <= MON_ATTACH_BROADCAST_MAX);

MonMonitor *mon_monitor_new(MonOptions *o)
{
  MonMonitor *m = g_new0(MonMonitor, 1);
  m->o = *o;
  mon_options_init(o); /* moved: nothing left to free there */
  m->state_dfd = -1;
  m->reopen_fd = -1;
  m->loop = g_main_loop_new(NULL, FALSE);
  return m;
}

void mon_monitor_free(MonMonitor *m)
{
  if (m == NULL)
    return;
  g_clear_handle_id(&m->flush_timer, g_source_remove);
  g_clear_handle_id(&m->exit_retry, g_source_remove);
  g_clear_handle_id(&m->reopen_src, g_source_remove);
  g_clear_handle_id(&m->trim_timer, g_source_remove);
  mon_close(&m->reopen_fd);
  g_clear_pointer(&m->console, mon_console_free);
  g_clear_pointer(&m->attach, mon_attach_free);
  g_clear_pointer(&m->stdio, mon_stdio_free);
  g_clear_pointer(&m->create, mon_create_free);
  g_clear_pointer(&m->child, mon_child_free);
  g_clear_pointer(&m->log, mon_log_free);
  g_clear_pointer(&m->notes, mon_notes_free);
  g_clear_pointer(&m->loop, g_main_loop_unref);
  mon_close(&m->state_dfd);
  mon_close(&m->o.report_fd);
  mon_close(&m->o.attach_fd);
  mon_close(&m->o.attach_out_fd[0]);
  mon_close(&m->o.attach_out_fd[1]);
  g_free(m->exit_reason);
  mon_cgroup_free(m->cgroup);
  mon_options_clear(&m->o);
  g_free(m);
}

static void quit(MonMonitor *m, int code)
{
  m->phase = MON_PHASE_DONE;
  m->exit_code = code;
  g_main_loop_quit(m->loop);
}

/* ---- create failed ---- */

/* Cleans up what we made, then reports: when the CLI reads the error,
 * nothing of ours is left. */
static void create_failed(MonMonitor *m, const char *message)
{
  if (m->phase == MON_PHASE_DONE)
    return;
  m->phase = MON_PHASE_DONE;
  mon_note(m->notes, "create failed: %s", message);
  if (m->create) {
    mon_create_abort(m->create);
    if (m->child)
      mon_child_watch_create(m->child, 0); /* reaped by the abort */
  }
  if (m->console)
    mon_console_close(m->console);
  if (m->attach) {
    mon_attach_close_all(m->attach);
    mon_attach_unlink(m->attach);
  }
  if (m->stdio)
    mon_stdio_close(m->stdio);
  if (m->create)
    mon_create_delete(m->create);
  mon_kill_children();
  if (m->log_created)
    unlink(m->o.log_path);
  if (m->state_dfd >= 0) {
    unlinkat(m->state_dfd, EXIT_RESERVE, 0);
    unlinkat(m->state_dfd, "monitor.pid", 0);
  }
  mon_report_error(&m->o.report_fd, message);
  quit(m, 1);
}

static void on_create_failed(const char *message, gpointer user)
{
  create_failed(user, message);
}

/* ---- created ---- */

static gboolean read_pid(MonMonitor *m, pid_t *ret, GError **error)
{
  char buf[32];
  int fd = openat(m->state_dfd, "container.pid", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  int errsv = errno;
  if (fd >= 0)
    close(fd);
  if (n < 0)
    return mon_set_error_errno(error, errsv, "read '%s/container.pid'", m->o.state_dir);
  buf[n] = '\0';
  g_strstrip(buf);
  guint64 v;
  if (!g_ascii_string_to_unsigned(buf, 10, 1, G_MAXINT32, &v, NULL))
    return mon_set_error(error, "'%s/container.pid' holds no pid", m->o.state_dir);
  *ret = (pid_t)v;
  return TRUE;
}

static gboolean write_user_pid_file(MonMonitor *m, GError **error)
{
  g_autofree char *dir = g_path_get_dirname(m->o.pid_file);
  g_autofree char *base = g_path_get_basename(m->o.pid_file);
  g_autofree char *text = g_strdup_printf("%d", (int)m->ctr_pid);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return mon_set_error_errno(error, errno, "pid file dir '%s'", dir);
  gboolean ok = mon_write_file_at(dfd, base, text, strlen(text), 0644, FALSE, error);
  close(dfd);
  if (!ok)
    g_prefix_error(error, "pid file '%s': ", m->o.pid_file);
  return ok;
}

static gboolean on_trim_timer(gpointer user)
{
  MonMonitor *m = user;
  m->trim_timer = 0;
  if (m->phase == MON_PHASE_RUNNING)
    mon_trim_mappings(); /* from here on the monitor mostly waits */
  return G_SOURCE_REMOVE;
}

static void on_created(gpointer user)
{
  MonMonitor *m = user;
  g_autoptr(GError) error = NULL;
  pid_t pid = 0;
  if (m->o.terminal && !m->have_pty && !mon_console_try_receive(m->console, &error)) {
    create_failed(m, error->message);
    return;
  }
  if (m->o.terminal && !m->have_pty) {
    create_failed(m, "the runtime did not send the container's terminal");
    return;
  }
  if (!read_pid(m, &pid, &error)) {
    create_failed(m, error->message);
    return;
  }
  m->ctr_pid = pid;
  if (m->o.pid_file && !write_user_pid_file(m, &error)) {
    create_failed(m, error->message);
    return;
  }
  m->phase = MON_PHASE_RUNNING;
  mon_report_pid(&m->o.report_fd, pid);
  mon_create_note_warnings(m->create); /* after the report: they are not errors */
  /* before the container can end: its cgroup is known from its pid */
  m->cgroup = mon_cgroup_find(pid);
  mon_child_watch_container(m->child, pid);
  /* Not now: reading smaps takes a third of a millisecond, between a
   * short container's end and its exit status reaching the client. */
  if (m->phase == MON_PHASE_RUNNING)
    m->trim_timer = g_timeout_add(MON_TRIM_DELAY_MS, on_trim_timer, m);
}

static void on_pty(int master, gpointer user)
{
  MonMonitor *m = user;
  m->have_pty = TRUE;
  mon_stdio_set_pty(m->stdio, master);
}

/* ---- the container's end ---- */

static gboolean write_exit_record(MonMonitor *m, GError **error)
{
  char when[TIMEFMT_RFC3339_SIZE];
  timefmt_rfc3339(&m->exit.finished, when);
  json_auto_t *o = json_object();
  if (m->exit.known) {
    json_object_set_new(o, "exitCode", json_integer(m->exit.status));
    json_object_set_new(o, "signal", json_integer(m->exit.signal));
    json_object_set_new(o, "finishedAt", json_string(when));
  } else {
    json_object_set_new(o, "exitCode", json_null());
    json_object_set_new(o, "signal", json_null());
    json_object_set_new(o, "finishedAt", json_string(when));
    json_object_set_new(o, "error", json_string(m->exit_reason ? m->exit_reason : "unknown"));
  }
  const MonPostmortem *p = &m->post;
  json_object_set_new(o, "oomKilled",
                      p->oom_killed < 0 ? json_null() : json_boolean(p->oom_killed));
  json_object_set_new(o, "memoryPeak",
                      p->memory_peak < 0 ? json_null() : json_integer(p->memory_peak));
  json_object_set_new(o, "cpuTimeNs",
                      p->cpu_time_ns < 0 ? json_null() : json_integer(p->cpu_time_ns));
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (s == NULL)
    return mon_set_error(error, "exit.json: out of memory");
  g_autofree char *line = g_strconcat(s, "\n", NULL);
  free(s);
  g_autoptr(GError) reserved_error = NULL;
  /* run mode: the dir goes once the client has the status, nothing to
   * keep over a crash (and an fsync on a disk-backed /run costs ms) */
  gboolean durable = !m->o.run_mode;
  if (mon_fill_reserved_at(m->state_dfd, EXIT_RESERVE, "exit.json", line, strlen(line), durable,
                           &reserved_error))
    return TRUE;
  /* the reserved file is gone or unusable: the ordinary way, which needs room */
  if (mon_write_file_at(m->state_dfd, "exit.json", line, strlen(line), 0600, durable, error))
    return TRUE;
  g_prefix_error(error, "exit record (%s; then): ", reserved_error->message);
  return FALSE;
}

/* A failed exit record is not given up: the monitor keeps the status, says
 * it is alive (so `oci state` never calls it dead) and tries again until
 * it is written or the container is deleted. */
static gboolean try_exit_record(MonMonitor *m)
{
  g_autoptr(GError) error = NULL;
  if (write_exit_record(m, &error)) {
    m->exit_written = TRUE;
    return TRUE;
  }
  if (!m->exit_failure_noted)
    mon_note(m->notes, "%s; trying again every %d s", error->message, EXIT_RETRY_S);
  m->exit_failure_noted = TRUE;
  return FALSE;
}

static void maybe_finish(MonMonitor *m);

static gboolean on_exit_retry(gpointer data)
{
  MonMonitor *m = data;
  if (!try_exit_record(m))
    return G_SOURCE_CONTINUE;
  m->exit_retry = 0;
  mon_note(m->notes, "exit record written");
  maybe_finish(m);
  return G_SOURCE_REMOVE;
}

/* Run mode: the whole state dir goes.  Through its parent: lib's rm -rf
 * does not cross mounts, and "/" (our cwd) is another mount than /run.
 * Renamed out of the ID's name first: `oci list` and `oci state` never see
 * it half removed, and the ID is free at once (a `run` of it waiting in
 * its create goes on).  Best effort: with the dir gone there is nowhere
 * left to note a failure. */
static void remove_state_dir(MonMonitor *m)
{
  g_autofree char *parent = g_path_get_dirname(m->o.state_dir);
  g_autofree char *base = g_path_get_basename(m->o.state_dir);
  g_autofree char *gone = g_strdup_printf(CONTAINER_GONE_DIR_PREFIX "%ld-%s", (long)getpid(), base);
  int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return;
  /* only while the name is still our dir (`oci delete -f` may have taken
   * it, and a new container of the ID be there now) */
  struct stat ours, named;
  if (fstat(m->state_dfd, &ours) == 0 && fstatat(dfd, base, &named, AT_SYMLINK_NOFOLLOW) == 0 &&
      ours.st_ino == named.st_ino && ours.st_dev == named.st_dev &&
      renameat2(dfd, base, dfd, gone, RENAME_NOREPLACE) == 0)
    (void)mon_rm_rf_at(dfd, gone, NULL);
  close(dfd);
}

/* Run mode: --cleanup-arg's command first (`oci umount` of a bundle made
 * in the state dir: the monitor knows no bundle, and a mount there would
 * keep the dir).  Waited for: the dir goes after it, and only when it
 * succeeded: a failed one leaves what it could not undo intact for `oci
 * delete` (a state dir with exit.json), rather than half removed. */
static void unblock_signals(gpointer data)
{
  (void)data;
  sigset_t none; /* ours wait in a signalfd: the command's must not */
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

static gboolean run_cleanup_command(MonMonitor *m)
{
  char **argv = m->o.cleanup_cmd;
  if (argv == NULL || argv[0] == NULL)
    return TRUE;
  g_autoptr(GError) error = NULL;
  g_autofree char *err_text = NULL;
  int status = 0;
  if (g_spawn_sync("/", argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, unblock_signals, NULL, NULL,
                   &err_text, &status, &error) &&
      g_spawn_check_wait_status(status, &error))
    return TRUE;
  mon_note(m->notes, "cleanup command '%s': %s%s%s; the state dir is kept", argv[0], error->message,
           err_text && err_text[0] ? ": " : "", err_text ? g_strchomp(err_text) : "");
  return FALSE;
}

/* Done once the exit is written (run mode: the dir goes anyway) and every
 * client has gone. */
static void maybe_finish(MonMonitor *m)
{
  if (m->phase != MON_PHASE_EXITING || !m->exit_sent || (!m->exit_written && !m->o.run_mode) ||
      mon_attach_n_clients(m->attach) > 0)
    return;
  m->phase = MON_PHASE_DONE;
  g_clear_handle_id(&m->flush_timer, g_source_remove);
  g_clear_handle_id(&m->exit_retry, g_source_remove);
  mon_attach_unlink(m->attach);
  /* The exit is recorded: the runtime's container is of no more use, and
   * `oci delete` need not start the runtime.  Before monitor.pid goes, so
   * a command that sees exit.json and a live monitor knows to wait. */
  mon_create_delete(m->create);
  unlinkat(m->state_dfd, "monitor.pid", 0);
  if (m->o.run_mode && run_cleanup_command(m)) {
    mon_notes_close(m->notes);
    remove_state_dir(m);
  }
  quit(m, 0);
}

static gboolean on_flush_timeout(gpointer data)
{
  MonMonitor *m = data;
  m->flush_timer = 0;
  /* A held client (the foreground `oci run`) gets the end however long it
   * takes, as from a pipe: the monitor ends when it has gone. */
  guint closed = mon_attach_close_unheld(m->attach);
  if (closed > 0)
    mon_note(m->notes, "%u attach client(s) did not take the end of the output in time; closed",
             closed);
  maybe_finish(m);
  return G_SOURCE_REMOVE;
}

/* The container is gone: read what is left of its output (on_drained).
 * The drain waits for clients that fall behind like reading does while
 * the container runs. */
static void on_container_exit(const MonExit *exit, gpointer user)
{
  MonMonitor *m = user;
  if (m->phase != MON_PHASE_RUNNING)
    return;
  m->exit = *exit;
  m->exit_reason = g_strdup(exit->reason);
  m->exit.reason = m->exit_reason;
  /* the init is reaped, the cgroup stays until the runtime's delete */
  mon_cgroup_read(m->cgroup, &m->post);
  m->phase = MON_PHASE_EXITING;
  mon_stdio_drain(m->stdio);
}

/* Run mode with the log in the state dir: it goes with the dir, its fsync
 * would be time lost on the client's path. */
static gboolean log_goes_with_dir(const MonMonitor *m)
{
  size_t n = strlen(m->o.state_dir);
  return m->o.run_mode && strncmp(m->o.log_path, m->o.state_dir, n) == 0 &&
         m->o.log_path[n] == '/' && strchr(m->o.log_path + n + 1, '/') == NULL;
}

/* All output read: the log is complete, then exit.json, then EXIT. */
static void on_drained(gpointer user)
{
  MonMonitor *m = user;
  struct timespec now;
  mon_stdio_close(m->stdio);
  mon_attach_resume_readers(m->attach); /* paused on a full stdin queue: now they read (and drop) */
  clock_gettime(CLOCK_REALTIME, &now);
  mon_log_finish(m->log, &now);
  if (!log_goes_with_dir(m) && !mon_log_sync(m->log))
    mon_note(m->notes, "fsync log '%s': %s", m->o.log_path, g_strerror(errno));
  if (!try_exit_record(m) && !m->o.run_mode)
    m->exit_retry = g_timeout_add_seconds(EXIT_RETRY_S, on_exit_retry, m);
  m->flush_timer = g_timeout_add(MON_CLIENT_FLUSH_TIMEOUT_MS, on_flush_timeout, m);
  m->exit_sent = TRUE;
  mon_attach_send_exit(m->attach, m->exit.known, m->exit.status, m->exit.signal);
  maybe_finish(m);
}

/* ---- routing: what the parts report ---- */

/* Output goes to the log first, then to the clients.  Before the container
 * can run, stderr carries the runtime's own words. */
static void on_output(enum proto_frame_type stream, const guint8 *data, size_t len, gpointer user)
{
  MonMonitor *m = user;
  if (stream == PROTO_STDERR && m->phase == MON_PHASE_CREATING) {
    mon_create_keep_message(m->create, data, len);
    /* `run` starts the container before it ends: this may be the
     * container's too, and is logged as such (a failed run's log goes) */
    if (!m->o.start)
      return;
  }
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  mon_log_write(m->log, stream == PROTO_STDOUT ? MON_STREAM_STDOUT : MON_STREAM_STDERR, &ts, data,
                len);
  mon_attach_broadcast(m->attach, stream, data, len);
}

static void on_stdin_room(gpointer user)
{
  MonMonitor *m = user;
  mon_attach_resume_readers(m->attach);
}

/* Quiet for a while: give buffers back. */
static void on_quiet(gpointer user)
{
  MonMonitor *m = user;
  mon_log_trim(m->log);
  mon_attach_trim(m->attach);
  malloc_trim(0);
  if (m->phase == MON_PHASE_RUNNING)
    mon_trim_mappings();
}

static gboolean on_stdin(const guint8 *data, size_t len, gpointer user)
{
  MonMonitor *m = user;
  return mon_stdio_stdin_push(m->stdio, data, len);
}

static void on_resize(guint16 rows, guint16 cols, gpointer user)
{
  MonMonitor *m = user;
  mon_stdio_resize(m->stdio, rows, cols);
}

static void on_close_stdin(gpointer user)
{
  MonMonitor *m = user;
  mon_stdio_close_stdin(m->stdio);
}

static void on_backpressure(gboolean pause, gpointer user)
{
  MonMonitor *m = user;
  if (pause)
    mon_stdio_pause(m->stdio);
  else
    mon_stdio_resume(m->stdio);
}

static void on_idle(gpointer user)
{
  maybe_finish(user);
}

static enum proto_state hello_state(gpointer user)
{
  MonMonitor *m = user;
  if (m->phase >= MON_PHASE_EXITING)
    return PROTO_STATE_STOPPED;
  if (m->phase == MON_PHASE_CREATING)
    return PROTO_STATE_CREATED;
  /* runc and crun remove exec.fifo when `start` opens it. */
  g_autofree char *fifo = g_strdup_printf("runtime/%s/exec.fifo", m->o.id);
  if (faccessat(m->state_dfd, fifo, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return PROTO_STATE_CREATED;
  return PROTO_STATE_RUNNING;
}

/* The runtime's stderr is the container's stderr pipe in pipe mode: what
 * it holds now is the runtime's, for the error message. */
static void on_create_exited(int status, gpointer user)
{
  MonMonitor *m = user;
  mon_stdio_read_stderr_now(m->stdio);
  mon_create_exited(m->create, status);
}

/* SIGTERM/SIGINT/SIGHUP go to the container, or to `runtime create` before
 * there is one. */
static void on_signal(int sig, gpointer user)
{
  MonMonitor *m = user;
  pid_t target = 0;
  if (m->phase == MON_PHASE_RUNNING && m->ctr_pid > 0)
    target = m->ctr_pid;
  else if (m->phase == MON_PHASE_CREATING)
    target = mon_create_pid(m->create);
  if (target > 0 && kill(target, sig) < 0)
    mon_note(m->notes, "forward signal %d to pid %d: %s", sig, (int)target, g_strerror(errno));
}

/* SIGUSR1 (`oci logs --reopen`): the log was moved away (logrotate).  A
 * signalfd of its own, not g_unix_signal_add(), which needs a thread. */
static gboolean on_reopen_signal(int fd, GIOCondition cond, gpointer user)
{
  MonMonitor *m = user;
  struct signalfd_siginfo si;
  gboolean asked = FALSE;
  while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
    asked = TRUE;
  g_autoptr(GError) error = NULL;
  if (asked && !mon_log_reopen(m->log, &error))
    mon_note(m->notes, "reopen: %s; going on in the old file", error->message);
  return G_SOURCE_CONTINUE;
}

static gboolean watch_reopen_signal(MonMonitor *m, GError **error)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  /* children get an empty mask (create.c) */
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
      (m->reopen_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
    return mon_set_error_errno(error, errno, "signalfd SIGUSR1");
  m->reopen_src = g_unix_fd_add(m->reopen_fd, G_IO_IN, on_reopen_signal, m);
  return TRUE;
}

static void on_log_error(const char *message, gpointer user)
{
  MonMonitor *m = user;
  mon_note(m->notes, "%s", message);
}

static const MonStdioEvents stdio_events = {
    .on_output = on_output,
    .on_drained = on_drained,
    .on_stdin_room = on_stdin_room,
    .on_quiet = on_quiet,
};

static const MonAttachEvents attach_events = {
    .on_stdin = on_stdin,
    .on_resize = on_resize,
    .on_close_stdin = on_close_stdin,
    .on_backpressure = on_backpressure,
    .on_idle = on_idle,
    .state = hello_state,
};

static const MonChildEvents child_events = {
    .on_create_exited = on_create_exited,
    .on_container_exit = on_container_exit,
    .on_signal = on_signal,
};

static const MonCreateEvents create_events = {
    .on_created = on_created,
    .on_create_failed = on_create_failed,
};

static const MonConsoleEvents console_events = {
    .on_pty = on_pty,
};

/* ---- setup ---- */

static gboolean spawn_create(MonMonitor *m, GError **error)
{
  g_autofree char *console = NULL;
  int child[3];
  if (m->o.terminal && !mon_console_listen(m->console, &console, error))
    return FALSE;
  if (!mon_stdio_open(m->stdio, child, error))
    return FALSE;
  gboolean ok = mon_create_spawn(m->create, console, child, error);
  for (int i = 0; i < 3; i++)
    mon_close(&child[i]);
  if (!ok)
    return FALSE;
  mon_child_watch_create(m->child, mon_create_pid(m->create));
  mon_stdio_start(m->stdio);
  return TRUE;
}

/* The client's own stdout / stderr: a pipe must be nonblocking (the CLI
 * opened it anew for us, so that is ours alone) and gets room for one read
 * of output, best effort; a regular file never blocks. */
static gboolean direct_fds_ready(MonMonitor *m, GError **error)
{
  for (int i = 0; i < 2; i++) {
    int fd = m->o.attach_out_fd[i];
    struct stat st;
    if (fd < 0)
      continue;
    if (fstat(fd, &st) < 0)
      return mon_set_error_errno(error, errno, "--attach-std%s-fd", i ? "err" : "out");
    if (S_ISFIFO(st.st_mode)) {
      int fl = fcntl(fd, F_GETFL);
      if (fl < 0 || !(fl & O_NONBLOCK))
        return mon_set_error(error, "--attach-std%s-fd: a pipe opened without O_NONBLOCK",
                             i ? "err" : "out");
      /* as big as the container's own pipes, else one read of output */
      if (fcntl(fd, F_GETPIPE_SZ) < MON_PIPE_SIZE && fcntl(fd, F_SETPIPE_SZ, MON_PIPE_SIZE) < 0 &&
          fcntl(fd, F_GETPIPE_SZ) < (int)MON_READ_BUF_SIZE)
        (void)fcntl(fd, F_SETPIPE_SZ, (int)MON_READ_BUF_SIZE);
    } else if (!S_ISREG(st.st_mode)) {
      return mon_set_error(error, "--attach-std%s-fd: a pipe or a regular file only",
                           i ? "err" : "out");
    }
  }
  return TRUE;
}

static gboolean setup(MonMonitor *m, GError **error)
{
  m->state_dfd = open(m->o.state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->state_dfd < 0)
    return mon_set_error_errno(error, errno, "state dir '%s'", m->o.state_dir);
  m->notes = mon_notes_new(m->state_dfd);
  if (!mon_reserve_file_at(m->state_dfd, EXIT_RESERVE, EXIT_RESERVE_SIZE, error)) {
    g_prefix_error(error, "state dir '%s': no room for the exit record: ", m->o.state_dir);
    return FALSE;
  }
  g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
  if (!mon_write_file_at(m->state_dfd, "monitor.pid", pid, strlen(pid), 0600, FALSE, error))
    return FALSE;
  m->child = mon_child_new(m->notes, &child_events, m, error);
  if (m->child == NULL)
    return FALSE;
  m->log = mon_log_new(m->o.log_path, m->o.log_format, m->o.log_max_size, on_log_error, m);
  mon_log_set_keep(m->log, m->o.log_rotate);
  if (!mon_log_open(m->log, &m->log_created, error))
    return FALSE;
  if (!watch_reopen_signal(m, error))
    return FALSE;
  m->stdio = mon_stdio_new(m->o.terminal, m->notes, &stdio_events, m);
  m->attach = mon_attach_new(m->o.terminal, m->notes, &attach_events, m);
  if (!mon_attach_listen(m->attach, m->state_dfd, m->o.state_dir, error))
    return FALSE;
  /* the foreground `oci run`: a client from before the container exists,
   * so it gets the output from the first byte */
  if (m->o.attach_fd >= 0) {
    if (!mon_set_nonblock(m->o.attach_fd, error) || !direct_fds_ready(m, error))
      return FALSE;
    mon_attach_add_held_client(m->attach, m->o.attach_fd, m->o.attach_out_fd);
    m->o.attach_fd = m->o.attach_out_fd[0] = m->o.attach_out_fd[1] = -1;
  }
  MonCreateConfig cc = {
      .runtime = m->o.runtime,
      .runtime_args = m->o.runtime_args,
      .id = m->o.id,
      .bundle = m->o.bundle,
      .state_dir = m->o.state_dir,
      .state_dfd = m->state_dfd,
      .timeout_s = m->o.create_timeout,
      .start = m->o.start,
  };
  m->create = mon_create_new(&cc, m->notes, &create_events, m);
  if (m->o.terminal)
    m->console = mon_console_new(m->notes, &console_events, m);
  return spawn_create(m, error);
}

int mon_monitor_run(MonMonitor *m)
{
  g_autoptr(GError) error = NULL;
  if (!setup(m, &error))
    create_failed(m, error->message);
  if (m->phase != MON_PHASE_DONE)
    g_main_loop_run(m->loop);
  return m->exit_code;
}
