/* SPDX-License-Identifier: Apache-2.0 */
/* `runtime create` (or `run --detach`) and `runtime delete --force`
 * (create.h). */
#include "create.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "argv.h"
#include "cleanup.h"
#include "errors.h"
#include "files.h"
#include "proc.h"
#include "runtime.h"
#include "watch.h"

#define MSG_MAX 4096
#define RUNTIME_LOG_TAIL (64 * 1024)
#define RT_MSG_MAX (64u * 1024)

struct MonCreate {
  MonCreateConfig cfg;
  char *rt_path; /* cfg.runtime, for lib's struct rt_runtime */
  MonNotes *notes;
  MonCreateEvents ev;
  gpointer user_data;

  pid_t pid;
  gboolean spawned, done; /* started; ended (or aborted) */
  guint timer;
  gboolean timed_out;
  GString *msg; /* the runtime's stderr while it runs create */
  int err_fd;   /* terminal mode: the runtime's own stderr pipe */
  GSource *err_src;
};

MonCreate *mon_create_new(const MonCreateConfig *config, MonNotes *notes,
                          const MonCreateEvents *events, gpointer user_data)
{
  MonCreate *c = g_new0(MonCreate, 1);
  c->cfg = *config;
  c->rt_path = g_strdup(config->runtime);
  c->notes = notes;
  c->ev = *events;
  c->user_data = user_data;
  c->err_fd = -1;
  return c;
}

void mon_create_free(MonCreate *c)
{
  if (c == NULL)
    return;
  g_clear_handle_id(&c->timer, g_source_remove);
  mon_watch_destroy(&c->err_src);
  mon_close(&c->err_fd);
  if (c->msg)
    g_string_free(c->msg, TRUE);
  g_free(c->rt_path);
  g_free(c);
}

static pid_t spawn(char *const argv[], const int fds[3], gboolean new_pgrp, GError **error)
{
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    mon_set_error_errno(error, errno, "fork");
    return -1;
  }
  if (pid > 0)
    return pid;

  /* Child: only async-signal-safe calls from here. */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  if (new_pgrp)
    setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  for (int i = 0; i < 3; i++) {
    if (fds[i] < 0)
      continue; /* stays /dev/null */
    if (fds[i] == i)
      fcntl(i, F_SETFD, 0);
    else if (dup2(fds[i], i) < 0)
      _exit(127);
  }
  execvp(argv[0], argv);
  int errsv = errno;
  static const char msg[] = "exec runtime '";
  (void)!write(2, msg, sizeof(msg) - 1);
  (void)!write(2, argv[0], strlen(argv[0]));
  (void)!write(2, "': ", 3);
  const char *es = strerror(errsv);
  (void)!write(2, es, strlen(es));
  (void)!write(2, "\n", 1);
  _exit(127);
}

/* The adapter's view of our runtime: the CLI gave its absolute path, and
 * runc or crun is decided the way the CLI decides it. */
struct rt_call_buf {
  struct rt_runtime rt;
  struct rt_call call;
  char *state_root, *log_path;
};

static void rt_call_init(MonCreate *c, struct rt_call_buf *b, gboolean with_log)
{
  b->rt = (struct rt_runtime){.kind = rt_kind_of(c->cfg.runtime), .path = c->rt_path};
  b->state_root = g_build_filename(c->cfg.state_dir, "runtime", NULL);
  b->log_path = with_log ? g_build_filename(c->cfg.state_dir, "runtime.log", NULL) : NULL;
  b->call = (struct rt_call){.rt = &b->rt,
                             .globals = c->cfg.runtime_args,
                             .state_root = b->state_root,
                             .log_path = b->log_path,
                             .id = c->cfg.id};
}

static void rt_call_clear(struct rt_call_buf *b)
{
  g_free(b->state_root);
  g_free(b->log_path);
}

static gboolean argv_result(int r, oci_error **e, GError **error)
{
  if (r == 0)
    return TRUE;
  return mon_set_error_from_oci(error, e, "runtime command line");
}

static void kill_group(MonCreate *c)
{
  kill(-c->pid, SIGKILL);
  kill(c->pid, SIGKILL);
}

static gboolean on_timeout(gpointer data)
{
  MonCreate *c = data;
  c->timer = 0;
  if (c->pid > 0) {
    c->timed_out = TRUE; /* said when it has been reaped */
    kill_group(c);
  }
  return G_SOURCE_REMOVE;
}

void mon_create_keep_message(MonCreate *c, const guint8 *data, size_t len)
{
  if (c->msg == NULL)
    c->msg = g_string_new(NULL);
  g_string_append_len(c->msg, (const char *)data, (gssize)len);
  if (c->msg->len > RT_MSG_MAX) /* keep the end: the error is last */
    g_string_erase(c->msg, 0, (gssize)(c->msg->len - RT_MSG_MAX));
}

/* Terminal mode: the runtime's own stderr.  What comes after create is
 * noted. */
static gboolean on_runtime_stderr(gpointer data, GIOCondition cond)
{
  MonCreate *c = data;
  guint8 buf[4096];
  ssize_t n = read(c->err_fd, buf, sizeof(buf));
  if (n > 0) {
    if (!c->done)
      mon_create_keep_message(c, buf, (size_t)n);
    else
      mon_note(c->notes, "runtime: %.*s", (int)n, (const char *)buf);
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    mon_watch_destroy(&c->err_src);
    mon_close(&c->err_fd);
  }
  return G_SOURCE_CONTINUE;
}

gboolean mon_create_spawn(MonCreate *c, const char *console, const int stdio_fds[3], GError **error)
{
  g_autofree char *pid_file = g_build_filename(c->cfg.state_dir, "container.pid", NULL);
  struct rt_call_buf b;
  rt_call_init(c, &b, TRUE);
  cleanup_argv struct argv_builder argv = {0};
  oci_error *e = NULL;
  int r = c->cfg.start ? rt_argv_run(&b.call, c->cfg.bundle, pid_file, console, &argv, &e)
                       : rt_argv_create(&b.call, c->cfg.bundle, pid_file, console, &argv, &e);
  gboolean built = argv_result(r, &e, error);
  rt_call_clear(&b);
  if (!built)
    return FALSE;
  int fds[3] = {stdio_fds[0], stdio_fds[1], stdio_fds[2]};
  cleanup_close int err_w = -1;
  if (fds[2] < 0) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
      return mon_set_error_errno(error, errno, "pipe");
    c->err_fd = p[0];
    fds[2] = err_w = p[1];
    if (!mon_set_nonblock(c->err_fd, error))
      return FALSE;
  }
  c->pid = spawn(argv.v, fds, TRUE, error);
  if (c->pid <= 0) {
    c->pid = 0;
    return FALSE;
  }
  c->spawned = TRUE;
  c->timer = g_timeout_add((guint)c->cfg.timeout_s * 1000, on_timeout, c);
  if (c->err_fd >= 0)
    c->err_src = mon_watch_new(c->err_fd, G_IO_IN, on_runtime_stderr, c);
  return TRUE;
}

pid_t mon_create_pid(const MonCreate *c)
{
  return c->pid;
}

/* For messages: what the runtime was asked to do. */
static const char *verb(const MonCreate *c)
{
  return c->cfg.start ? "run" : "create";
}

static char *read_runtime_log(MonCreate *c)
{
  int fd = openat(c->cfg.state_dfd, "runtime.log", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return NULL;
  off_t end = lseek(fd, 0, SEEK_END);
  off_t start = end > RUNTIME_LOG_TAIL ? end - RUNTIME_LOG_TAIL : 0;
  char *buf = g_malloc(RUNTIME_LOG_TAIL + 1);
  ssize_t n = pread(fd, buf, RUNTIME_LOG_TAIL, start);
  close(fd);
  buf[n > 0 ? n : 0] = '\0';
  return buf;
}

/* The runtime's own words (its stderr, else runtime.log), else the status. */
static char *error_message(MonCreate *c, int status)
{
  cleanup_free char *msg = NULL;
  if (c->msg && c->msg->len > 0)
    msg = rt_error_message(c->msg->str, c->msg->len);
  if (msg == NULL) {
    g_autofree char *log = read_runtime_log(c);
    if (log)
      msg = rt_error_message(log, strlen(log));
  }
  if (msg)
    return g_strndup(msg, MSG_MAX);
  if (WIFSIGNALED(status))
    return g_strdup_printf("'%s %s' was killed by signal %d", c->cfg.runtime, verb(c),
                           WTERMSIG(status));
  return g_strdup_printf("'%s %s' failed with exit status %d", c->cfg.runtime, verb(c),
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

void mon_create_exited(MonCreate *c, int status)
{
  guint8 buf[4096];
  ssize_t n;
  c->pid = 0;
  c->done = TRUE;
  g_clear_handle_id(&c->timer, g_source_remove);
  /* Everything the runtime wrote before it exited. */
  while (c->err_fd >= 0 && (n = read(c->err_fd, buf, sizeof(buf))) > 0)
    mon_create_keep_message(c, buf, (size_t)n);
  if (c->timed_out) {
    g_autofree char *msg =
        g_strdup_printf("'%s %s' timed out after %d s", c->cfg.runtime, verb(c), c->cfg.timeout_s);
    c->ev.on_create_failed(msg, c->user_data);
    return;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    g_autofree char *msg = error_message(c, status);
    c->ev.on_create_failed(msg, c->user_data);
    return;
  }
  c->ev.on_created(c->user_data);
}

void mon_create_abort(MonCreate *c)
{
  c->done = TRUE;
  g_clear_handle_id(&c->timer, g_source_remove);
  if (c->pid > 0) {
    kill_group(c);
    (void)mon_wait_child(c->pid, MON_KILL_TIMEOUT_MS, NULL);
    c->pid = 0;
  }
}

void mon_create_note_warnings(MonCreate *c)
{
  /* after `run`, the stderr kept was the container's as well */
  if (c->msg && c->msg->len > 0 && !c->cfg.start)
    mon_note(c->notes, "runtime said: %s", c->msg->str);
  if (c->msg) {
    g_string_free(c->msg, TRUE);
    c->msg = NULL;
  }
}

void mon_create_delete(MonCreate *c)
{
  if (!c->spawned)
    return;
  struct rt_call_buf b;
  rt_call_init(c, &b, FALSE);
  cleanup_argv struct argv_builder argv = {0};
  oci_error *e = NULL;
  g_autoptr(GError) error = NULL;
  gboolean built = argv_result(rt_argv_op(&b.call, RT_OP_DELETE_FORCE, &argv, &e), &e, &error);
  rt_call_clear(&b);
  const int none[3] = {-1, -1, -1};
  pid_t pid = built ? spawn(argv.v, none, FALSE, &error) : -1;
  if (pid < 0) {
    mon_note(c->notes, "runtime delete: %s", error->message);
    return;
  }
  if (mon_wait_child(pid, MON_CLEANUP_TIMEOUT_MS, NULL))
    return;
  mon_note(c->notes, "'%s delete --force %s' timed out; killed", c->cfg.runtime, c->cfg.id);
  kill(pid, SIGKILL);
  (void)mon_wait_child(pid, MON_KILL_TIMEOUT_MS, NULL);
}
