/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-monitor: options, detaching, and the lifecycle
 *   CREATING --create ok--> RUNNING --container gone--> EXITING --clients done--> DONE
 *       \--create failed--> DONE (exit 1)
 * on one GMainLoop.  The contract is monitor/README.md.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "container-id.h"

static const char usage[] =
    "usage: oci-monitor --id ID --bundle ABS_BUNDLE --state-dir ABS_DIR\n"
    "                   --runtime PATH [--runtime-arg ARG]...\n"
    "                   --log-path PATH [--log-format kubernetes|json] [--log-max-size BYTES]\n"
    "                   [--terminal] [--run-mode] [--pid-file PATH]\n"
    "                   [--create-timeout SECONDS] --report-fd N\n"
    "Runs one container under RUNTIME and stays with it until it exits.  See\n"
    "monitor/README.md in the sifoci sources.\n";

enum {
  OPT_ID = 1000,
  OPT_BUNDLE,
  OPT_STATE_DIR,
  OPT_RUNTIME,
  OPT_RUNTIME_ARG,
  OPT_LOG_PATH,
  OPT_LOG_FORMAT,
  OPT_LOG_MAX_SIZE,
  OPT_TERMINAL,
  OPT_RUN_MODE,
  OPT_PID_FILE,
  OPT_CREATE_TIMEOUT,
  OPT_REPORT_FD,
  OPT_HELP,
  OPT_VERSION,
};

static const struct option options[] = {
    {"id", required_argument, NULL, OPT_ID},
    {"bundle", required_argument, NULL, OPT_BUNDLE},
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"runtime", required_argument, NULL, OPT_RUNTIME},
    {"runtime-arg", required_argument, NULL, OPT_RUNTIME_ARG},
    {"log-path", required_argument, NULL, OPT_LOG_PATH},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"log-max-size", required_argument, NULL, OPT_LOG_MAX_SIZE},
    {"terminal", no_argument, NULL, OPT_TERMINAL},
    {"run-mode", no_argument, NULL, OPT_RUN_MODE},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"create-timeout", required_argument, NULL, OPT_CREATE_TIMEOUT},
    {"report-fd", required_argument, NULL, OPT_REPORT_FD},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static gboolean parse_u64(const char *s, guint64 max, guint64 *ret)
{
  g_autoptr(GError) error = NULL;
  return g_ascii_string_to_unsigned(s, 10, 0, max, ret, &error);
}

static char *absolute(const char *path)
{
  return g_canonicalize_filename(path, NULL);
}

/* 0 ok, 1 error (ERROR set), 2 --help/--version done. */
static int parse_args(MonState *m, int argc, char **argv, GError **error)
{
  g_autoptr(GPtrArray) rargs = g_ptr_array_new_with_free_func(g_free);
  const char *format = "kubernetes";
  guint64 v;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
    switch (c) {
    case OPT_ID:
      g_free(m->id);
      m->id = g_strdup(optarg);
      break;
    case OPT_BUNDLE:
      g_free(m->bundle);
      m->bundle = g_strdup(optarg);
      break;
    case OPT_STATE_DIR:
      g_free(m->state_dir);
      m->state_dir = g_strdup(optarg);
      break;
    case OPT_RUNTIME:
      g_free(m->runtime);
      m->runtime = g_strdup(optarg);
      break;
    case OPT_RUNTIME_ARG: g_ptr_array_add(rargs, g_strdup(optarg)); break;
    case OPT_LOG_PATH:
      g_free(m->log_path);
      m->log_path = absolute(optarg);
      break;
    case OPT_LOG_FORMAT: format = optarg; break;
    case OPT_TERMINAL: m->terminal = TRUE; break;
    case OPT_RUN_MODE: m->run_mode = TRUE; break;
    case OPT_PID_FILE:
      g_free(m->pid_file);
      m->pid_file = absolute(optarg);
      break;
    case OPT_LOG_MAX_SIZE:
      if (!parse_u64(optarg, G_MAXINT64, &v)) {
        mon_set_error(error, "bad --log-max-size '%s'", optarg);
        return 1;
      }
      m->log_max_size = v;
      break;
    case OPT_CREATE_TIMEOUT:
      if (!parse_u64(optarg, 86400, &v) || v == 0) {
        mon_set_error(error, "bad --create-timeout '%s' (1..86400 s)", optarg);
        return 1;
      }
      m->create_timeout = (int)v;
      break;
    case OPT_REPORT_FD:
      if (!parse_u64(optarg, G_MAXINT, &v)) {
        mon_set_error(error, "bad --report-fd '%s'", optarg);
        return 1;
      }
      m->report_fd = (int)v;
      break;
    case OPT_HELP: fputs(usage, stdout); return 2;
    case OPT_VERSION: printf("oci-monitor %s\n", SIFOCI_VERSION); return 2;
    default: mon_set_error(error, "unknown or incomplete option '%s'", argv[optind - 1]); return 1;
    }
  }
  if (optind < argc) {
    mon_set_error(error, "unexpected argument '%s'", argv[optind]);
    return 1;
  }
  g_ptr_array_add(rargs, NULL);
  m->runtime_args = (char **)g_ptr_array_free(g_steal_pointer(&rargs), FALSE);
  const char *missing = !m->id             ? "--id"
                        : !m->bundle       ? "--bundle"
                        : !m->state_dir    ? "--state-dir"
                        : !m->runtime      ? "--runtime"
                        : !m->log_path     ? "--log-path"
                        : m->report_fd < 0 ? "--report-fd"
                                           : NULL;
  if (missing) {
    mon_set_error(error, "%s is required", missing);
    return 1;
  }
  if (!container_id_is_valid(m->id)) {
    mon_set_error(error, "invalid container ID '%s'", m->id);
    return 1;
  }
  if (!g_path_is_absolute(m->bundle) || !g_path_is_absolute(m->state_dir)) {
    mon_set_error(error, "--bundle and --state-dir must be absolute paths");
    return 1;
  }
  if (!mon_log_parse_format(format, &m->log_format)) {
    mon_set_error(error, "unknown --log-format '%s' (kubernetes or json)", format);
    return 1;
  }
  return 0;
}

/* ---- reporting ---- */

/* Writes LINE (one line of JSON with its newline) and closes the fd. */
static void report(MonState *m, const char *line)
{
  size_t len = strlen(line);
  while (m->report_fd >= 0 && len > 0) {
    ssize_t n = write(m->report_fd, line, len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break; /* the CLI went away: nothing to tell it */
    line += n;
    len -= (size_t)n;
  }
  mon_close(&m->report_fd);
}

static void report_error(MonState *m, const char *msg)
{
  json_auto_t *o = json_object();
  json_object_set_new(o, "error", json_string(msg));
  char *s = json_dumps(o, JSON_PRESERVE_ORDER);
  g_autofree char *line = g_strconcat(s ? s : "{\"error\": \"out of memory\"}", "\n", NULL);
  free(s);
  report(m, line);
}

/* By hand: the first jansson object of a process seeds its hash from
 * /dev/urandom, three syscalls between `runtime create` and the report. */
static void report_pid(MonState *m, pid_t pid)
{
  char line[40];
  g_snprintf(line, sizeof(line), "{\"pid\": %d}\n", (int)pid);
  report(m, line);
}

/* ---- detaching ---- */

static gboolean detach(MonState *m, GError **error)
{
  int fl = fcntl(m->report_fd, F_GETFD);
  if (fl < 0) {
    mon_set_error(error, "--report-fd %d is not open", m->report_fd);
    return FALSE;
  }
  if (m->report_fd < 3) {
    int fd = fcntl(m->report_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
      mon_set_error_errno(error, errno, "dup report fd");
      return FALSE;
    }
    m->report_fd = fd;
  } else {
    fcntl(m->report_fd, F_SETFD, fl | FD_CLOEXEC);
  }
  /* Every other inherited fd goes. */
  if (m->report_fd > 3)
    close_range(3, (unsigned)m->report_fd - 1, 0);
  close_range((unsigned)m->report_fd + 1, ~0u, 0);

  if (setsid() < 0) {
    /* Started as a process group leader (a shell job): fork once so the
     * child can have its own session.  Not the case under the CLI; the
     * pid to use is always the one in monitor.pid. */
    pid_t pid = fork();
    if (pid < 0) {
      mon_set_error_errno(error, errno, "fork");
      return FALSE;
    }
    if (pid > 0)
      _exit(0);
    if (setsid() < 0) {
      mon_set_error_errno(error, errno, "setsid");
      return FALSE;
    }
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    mon_set_error_errno(error, errno, "PR_SET_CHILD_SUBREAPER");
    return FALSE;
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0) {
    mon_set_error_errno(error, errno, "/dev/null");
    return FALSE;
  }
  if (null > 2)
    close(null);
  if (chdir("/") < 0) {
    /* cannot happen; not worth failing for */
  }
  umask(022);
  return TRUE;
}

/* ---- lifecycle ---- */

static enum proto_state proto_state(MonState *m)
{
  if (m->phase >= MON_PHASE_EXITING)
    return PROTO_STATE_STOPPED;
  if (m->phase == MON_PHASE_CREATING)
    return PROTO_STATE_CREATED;
  /* runc and crun remove exec.fifo when `start` opens it. */
  g_autofree char *fifo = g_strdup_printf("runtime/%s/exec.fifo", m->id);
  if (faccessat(m->state_dfd, fifo, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return PROTO_STATE_CREATED;
  return PROTO_STATE_RUNNING;
}

static void quit(MonState *m, int code)
{
  m->phase = MON_PHASE_DONE;
  m->exit_code = code;
  if (m->loop)
    g_main_loop_quit(m->loop);
}

void mon_create_failed(MonState *m, const char *message)
{
  if (m->phase == MON_PHASE_DONE)
    return;
  m->phase = MON_PHASE_DONE;
  mon_note(m->notes, "create failed: %s", message);
  g_clear_handle_id(&m->create_timer, g_source_remove);
  if (m->create_pid > 0) {
    kill(-m->create_pid, SIGKILL);
    kill(m->create_pid, SIGKILL);
    (void)mon_wait_child(m->create_pid, MON_KILL_TIMEOUT_MS, NULL);
    m->create_pid = 0;
  }
  mon_console_cleanup(m);
  if (m->attach) {
    mon_attach_close_all(m->attach);
    mon_attach_unlink(m->attach);
  }
  if (m->stdio)
    mon_stdio_close(m->stdio);
  if (m->create_spawned)
    mon_runtime_delete(m);
  mon_kill_children();
  if (m->log_created && m->log_path)
    unlink(m->log_path);
  if (m->state_dfd >= 0)
    unlinkat(m->state_dfd, "monitor.pid", 0);
  /* Report last: when the CLI reads it, nothing of ours is left. */
  report_error(m, message);
  quit(m, 1);
}

static gboolean read_pid(MonState *m, pid_t *ret, GError **error)
{
  char buf[32];
  int fd = openat(m->state_dfd, "container.pid", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
  int errsv = errno;
  if (fd >= 0)
    close(fd);
  if (n < 0) {
    mon_set_error_errno(error, errsv, "read '%s/container.pid'", m->state_dir);
    return FALSE;
  }
  buf[n] = '\0';
  g_strstrip(buf);
  guint64 v;
  if (!parse_u64(buf, G_MAXINT32, &v) || v < 1) {
    mon_set_error(error, "'%s/container.pid' holds no pid", m->state_dir);
    return FALSE;
  }
  *ret = (pid_t)v;
  return TRUE;
}

static gboolean write_user_pid_file(MonState *m, GError **error)
{
  g_autofree char *dir = g_path_get_dirname(m->pid_file);
  g_autofree char *base = g_path_get_basename(m->pid_file);
  g_autofree char *text = g_strdup_printf("%d", (int)m->ctr_pid);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    mon_set_error_errno(error, errno, "pid file dir '%s'", dir);
    return FALSE;
  }
  gboolean ok = mon_write_file_at(dfd, base, text, strlen(text), 0644, FALSE, error);
  close(dfd);
  if (!ok)
    g_prefix_error(error, "pid file '%s': ", m->pid_file);
  return ok;
}

void mon_create_succeeded(MonState *m)
{
  g_autoptr(GError) error = NULL;
  pid_t pid;
  if (m->terminal && !m->have_pty && !mon_console_try_receive(m, &error)) {
    mon_create_failed(m, error->message);
    return;
  }
  if (m->terminal && !m->have_pty) {
    mon_create_failed(m, "the runtime did not send the container's terminal");
    return;
  }
  if (!read_pid(m, &pid, &error)) {
    mon_create_failed(m, error->message);
    return;
  }
  m->ctr_pid = pid;
  if (m->pid_file && !write_user_pid_file(m, &error)) {
    mon_create_failed(m, error->message);
    return;
  }
  m->phase = MON_PHASE_RUNNING;
  report_pid(m, pid);
  if (m->rt_msg && m->rt_msg->len > 0) /* warnings: noted after the report */
    mon_note(m->notes, "runtime said: %s", m->rt_msg->str);
  if (m->rt_msg) {
    g_string_free(m->rt_msg, TRUE);
    m->rt_msg = NULL;
  }
  mon_container_known(m);
  if (m->phase == MON_PHASE_RUNNING)
    mon_trim_mappings(); /* from here on the monitor mostly waits */
}

static gboolean on_flush_timeout(gpointer data)
{
  MonState *m = data;
  m->flush_timer = 0;
  mon_note(m->notes, "%u attach client(s) did not take the end of the output in time; closed",
           mon_attach_n_clients(m->attach));
  mon_attach_close_all(m->attach);
  mon_maybe_finish(m);
  return G_SOURCE_REMOVE;
}

/* The container is gone: read what is left of its output, then
 * output_done().  The drain waits for clients that fall behind like
 * reading does while the container runs. */
void mon_container_exited(MonState *m)
{
  m->phase = MON_PHASE_EXITING;
  mon_stdio_drain(m->stdio);
}

static void output_done(gpointer data)
{
  MonState *m = data;
  g_autoptr(GError) error = NULL;
  struct timespec now;
  mon_stdio_close(m->stdio);
  mon_attach_resume_readers(m->attach); /* paused on a full stdin queue: now they read (and drop) */
  clock_gettime(CLOCK_REALTIME, &now);
  mon_log_finish(m->log, &now);
  if (!mon_log_sync(m->log))
    mon_note(m->notes, "fsync log '%s': %s", m->log_path, g_strerror(errno));
  if (!mon_write_exit_record(m, &error))
    mon_note(m->notes, "%s", error->message);
  m->flush_timer = g_timeout_add(MON_CLIENT_FLUSH_TIMEOUT_MS, on_flush_timeout, m);
  m->exit_announced = TRUE;
  mon_attach_send_exit(m->attach, m->exit_known, m->exit_status, m->exit_signal);
  mon_maybe_finish(m);
}

/* Run mode: the whole state dir goes.  Through its parent: lib's rm -rf
 * does not cross mounts, and "/" (our cwd) is another mount than /run.
 * Best effort: with the dir gone there is nowhere left to note a failure. */
static void remove_state_dir(MonState *m)
{
  g_autofree char *parent = g_path_get_dirname(m->state_dir);
  g_autofree char *base = g_path_get_basename(m->state_dir);
  int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0)
    return;
  (void)mon_rm_rf_at(dfd, base, NULL);
  close(dfd);
}

void mon_maybe_finish(MonState *m)
{
  if (m->phase != MON_PHASE_EXITING || !m->exit_announced || mon_attach_n_clients(m->attach) > 0)
    return;
  m->phase = MON_PHASE_DONE;
  g_clear_handle_id(&m->flush_timer, g_source_remove);
  mon_attach_unlink(m->attach);
  unlinkat(m->state_dfd, "monitor.pid", 0);
  if (m->run_mode) {
    mon_runtime_delete(m);
    mon_notes_close(m->notes);
    remove_state_dir(m);
  }
  quit(m, 0);
}

/* ---- routing: what the parts report ---- */

G_STATIC_ASSERT(MON_READ_BUF_SIZE <= MON_ATTACH_BROADCAST_MAX);

/* Output goes to the log first, then to the clients.  Before the container
 * can run, stderr carries the runtime's own words. */
static void on_output(enum proto_frame_type stream, const guint8 *data, size_t len, gpointer user)
{
  MonState *m = user;
  if (stream == PROTO_STDERR && m->phase == MON_PHASE_CREATING) {
    mon_runtime_keep_message(m, data, len);
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
  MonState *m = user;
  mon_attach_resume_readers(m->attach);
}

/* Quiet for a while: give buffers back. */
static void on_quiet(gpointer user)
{
  MonState *m = user;
  mon_log_trim(m->log);
  mon_attach_trim(m->attach);
  malloc_trim(0);
  if (m->phase == MON_PHASE_RUNNING)
    mon_trim_mappings();
}

static gboolean on_stdin(const guint8 *data, size_t len, gpointer user)
{
  MonState *m = user;
  return mon_stdio_stdin_push(m->stdio, data, len);
}

static void on_resize(guint16 rows, guint16 cols, gpointer user)
{
  MonState *m = user;
  mon_stdio_resize(m->stdio, rows, cols);
}

static void on_close_stdin(gpointer user)
{
  MonState *m = user;
  mon_stdio_close_stdin(m->stdio);
}

static void on_backpressure(gboolean pause, gpointer user)
{
  MonState *m = user;
  if (pause)
    mon_stdio_pause(m->stdio);
  else
    mon_stdio_resume(m->stdio);
}

static void on_idle(gpointer user)
{
  mon_maybe_finish(user);
}

static enum proto_state on_state(gpointer user)
{
  return proto_state(user);
}

void mon_got_pty(MonState *m, int master)
{
  m->have_pty = TRUE;
  mon_stdio_set_pty(m->stdio, master);
}

static const MonStdioEvents stdio_events = {
    .on_output = on_output,
    .on_drained = output_done,
    .on_stdin_room = on_stdin_room,
    .on_quiet = on_quiet,
};

static const MonAttachEvents attach_events = {
    .on_stdin = on_stdin,
    .on_resize = on_resize,
    .on_close_stdin = on_close_stdin,
    .on_backpressure = on_backpressure,
    .on_idle = on_idle,
    .state = on_state,
};

/* ---- setup ---- */

static void on_log_error(const char *message, gpointer data)
{
  MonState *m = data;
  mon_note(m->notes, "%s", message);
}

static gboolean setup(MonState *m, GError **error)
{
  m->state_dfd = open(m->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (m->state_dfd < 0) {
    mon_set_error_errno(error, errno, "state dir '%s'", m->state_dir);
    return FALSE;
  }
  m->notes = mon_notes_new(m->state_dfd);
  g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
  if (!mon_write_file_at(m->state_dfd, "monitor.pid", pid, strlen(pid), 0600, FALSE, error))
    return FALSE;
  if (!mon_signals_setup(m, error))
    return FALSE;
  m->log = mon_log_new(m->log_path, m->log_format, m->log_max_size, on_log_error, m);
  if (!mon_log_open(m->log, &m->log_created, error))
    return FALSE;
  m->stdio = mon_stdio_new(m->terminal, m->notes, &stdio_events, m);
  m->attach = mon_attach_new(m->terminal, m->notes, &attach_events, m);
  if (!mon_attach_listen(m->attach, m->state_dfd, m->state_dir, error))
    return FALSE;
  return mon_runtime_spawn_create(m, error);
}

static void state_init(MonState *m)
{
  memset(m, 0, sizeof(*m));
  m->create_timeout = 60;
  m->report_fd = -1;
  m->state_dfd = m->sig_fd = m->rt_err_fd = -1;
  m->console_fd = m->console_conn = m->pidfd = -1;
}

static void state_clear(MonState *m)
{
  mon_console_cleanup(m);
  g_clear_pointer(&m->attach, mon_attach_free);
  g_clear_pointer(&m->stdio, mon_stdio_free);
  g_clear_handle_id(&m->create_timer, g_source_remove);
  g_clear_handle_id(&m->flush_timer, g_source_remove);
  mon_watch_destroy(&m->sig_src);
  mon_watch_destroy(&m->rt_err_src);
  mon_watch_destroy(&m->pidfd_src);
  mon_close(&m->sig_fd);
  mon_close(&m->rt_err_fd);
  mon_close(&m->pidfd);
  g_clear_pointer(&m->notes, mon_notes_free);
  mon_close(&m->state_dfd);
  mon_close(&m->report_fd);
  g_clear_pointer(&m->early_exits, g_hash_table_unref);
  g_clear_pointer(&m->log, mon_log_free);
  g_clear_pointer(&m->loop, g_main_loop_unref);
  if (m->rt_msg)
    g_string_free(m->rt_msg, TRUE);
  g_free(m->id);
  g_free(m->bundle);
  g_free(m->state_dir);
  g_free(m->runtime);
  g_free(m->log_path);
  g_free(m->pid_file);
  g_free(m->exit_reason);
  g_strfreev(m->runtime_args);
}

int main(int argc, char **argv)
{
  MonState m;
  g_autoptr(GError) error = NULL;
  state_init(&m);
  signal(SIGPIPE, SIG_IGN); /* a CLI that stopped reading the report must not kill us */
  /* Big buffers always from mmap, so freeing them gives memory back. */
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);

  int r = parse_args(&m, argc, argv, &error);
  if (r == 2) {
    state_clear(&m);
    return 0;
  }
  if (r == 1 || !detach(&m, &error)) {
    fprintf(stderr, "oci-monitor: %s\n", error->message);
    if (m.report_fd >= 0 && fcntl(m.report_fd, F_GETFD) >= 0)
      report_error(&m, error->message);
    state_clear(&m);
    return 1;
  }
  m.loop = g_main_loop_new(NULL, FALSE);
  if (!setup(&m, &error))
    mon_create_failed(&m, error->message);
  if (m.phase != MON_PHASE_DONE)
    g_main_loop_run(m.loop);
  int code = m.exit_code;
  state_clear(&m);
  return code;
}
