/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running the OCI runtime: `create` (asynchronous, with a timeout) and
 * `delete --force` (synchronous, for cleanup), plus turning what the runtime
 * said into a one-line error.  fork/exec by hand: no helper threads, and the
 * child gets exactly the fds we mean.
 */
#include "monitor.h"

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
#include "runtime.h"

#define MSG_MAX 4096
#define RUNTIME_LOG_TAIL (64 * 1024)
#define RT_MSG_MAX (64u * 1024)

pid_t mon_spawn(char *const argv[], int fd0, int fd1, int fd2, gboolean new_pgrp, GError **error)
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
  int fds[3] = {fd0, fd1, fd2};
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
struct mon_rt_call {
  struct rt_runtime rt;
  struct rt_call call;
  char *state_root, *log_path;
};

static void mon_rt_call_init(MonState *m, struct mon_rt_call *c, gboolean with_log)
{
  c->rt = (struct rt_runtime){.kind = rt_kind_of(m->runtime), .path = m->runtime};
  c->state_root = g_build_filename(m->state_dir, "runtime", NULL);
  c->log_path = with_log ? g_build_filename(m->state_dir, "runtime.log", NULL) : NULL;
  c->call = (struct rt_call){.rt = &c->rt,
                             .globals = m->runtime_args,
                             .state_root = c->state_root,
                             .log_path = c->log_path,
                             .id = m->id};
}

static void mon_rt_call_clear(struct mon_rt_call *c)
{
  g_free(c->state_root);
  g_free(c->log_path);
}

static gboolean argv_result(int r, oci_error **e, GError **error)
{
  if (r == 0)
    return TRUE;
  return mon_set_error_from_oci(error, e, "runtime command line");
}

static gboolean on_create_timeout(gpointer data)
{
  MonState *m = data;
  m->create_timer = 0;
  if (m->create_pid > 0) {
    m->create_timed_out = TRUE;
    kill(-m->create_pid, SIGKILL);
    kill(m->create_pid, SIGKILL);
  }
  return G_SOURCE_REMOVE;
}

void mon_runtime_keep_message(MonState *m, const guint8 *data, size_t len)
{
  if (m->rt_msg == NULL)
    m->rt_msg = g_string_new(NULL);
  g_string_append_len(m->rt_msg, (const char *)data, (gssize)len);
  if (m->rt_msg->len > RT_MSG_MAX) /* keep the end: the error is last */
    g_string_erase(m->rt_msg, 0, (gssize)(m->rt_msg->len - RT_MSG_MAX));
}

/* Terminal mode: the runtime's own stderr, a pipe of its own (the
 * container's output is the pty).  What comes after create is noted. */
static gboolean on_runtime_stderr(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  guint8 buf[4096];
  ssize_t n = read(m->rt_err_fd, buf, sizeof(buf));
  if (n > 0) {
    if (m->phase == MON_PHASE_CREATING)
      mon_runtime_keep_message(m, buf, (size_t)n);
    else
      mon_note(m->notes, "runtime: %.*s", (int)n, (const char *)buf);
  } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
    mon_watch_destroy(&m->rt_err_src);
    mon_close(&m->rt_err_fd);
  }
  return G_SOURCE_CONTINUE;
}

/* Everything the runtime wrote before it exited. */
static void drain_runtime_stderr(MonState *m)
{
  guint8 buf[4096];
  ssize_t n;
  if (!m->terminal) {
    mon_stdio_read_stderr_now(m->stdio); /* the container's stderr pipe */
    return;
  }
  if (m->rt_err_fd < 0)
    return;
  while ((n = read(m->rt_err_fd, buf, sizeof(buf))) > 0)
    mon_runtime_keep_message(m, buf, (size_t)n);
}

static gboolean setup_pipes(MonState *m, int child[3], GError **error)
{
  int p[2];
  if (!mon_stdio_open(m->stdio, child, error))
    return FALSE;
  if (!m->terminal)
    return TRUE;
  if (pipe2(p, O_CLOEXEC) < 0)
    return mon_set_error_errno(error, errno, "pipe");
  m->rt_err_fd = p[0];
  child[2] = p[1];
  return mon_set_nonblock(m->rt_err_fd, error);
}

gboolean mon_runtime_spawn_create(MonState *m, GError **error)
{
  g_autofree char *console = NULL;
  g_autofree char *pid_file = g_build_filename(m->state_dir, "container.pid", NULL);
  int child[3];
  if (m->terminal && !mon_console_listen(m, &console, error))
    return FALSE;
  struct mon_rt_call c;
  mon_rt_call_init(m, &c, TRUE);
  cleanup_argv struct argv_builder argv = {0};
  oci_error *e = NULL;
  gboolean built =
      argv_result(rt_argv_create(&c.call, m->bundle, pid_file, console, &argv, &e), &e, error);
  mon_rt_call_clear(&c);
  if (!built)
    return FALSE;

  gboolean ok = setup_pipes(m, child, error);
  if (ok) {
    m->create_pid = mon_spawn(argv.v, child[0], child[1], child[2], TRUE, error);
    ok = m->create_pid > 0;
    m->create_spawned = ok;
  }
  for (int i = 0; i < 3; i++)
    mon_close(&child[i]);
  if (!ok)
    return FALSE;
  m->create_timer = g_timeout_add((guint)m->create_timeout * 1000, on_create_timeout, m);
  mon_stdio_start(m->stdio);
  if (m->rt_err_fd >= 0)
    m->rt_err_src = mon_watch_new(m->rt_err_fd, G_IO_IN, on_runtime_stderr, m);
  return TRUE;
}

void mon_runtime_create_exited(MonState *m, int status)
{
  g_clear_handle_id(&m->create_timer, g_source_remove);
  drain_runtime_stderr(m);
  if (m->create_timed_out) {
    g_autofree char *msg =
        g_strdup_printf("'%s create' timed out after %d s", m->runtime, m->create_timeout);
    mon_create_failed(m, msg);
    return;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    g_autofree char *msg = mon_runtime_error_message(m, status);
    mon_create_failed(m, msg);
    return;
  }
  mon_create_succeeded(m);
}

/* ---- error messages ---- */

static char *read_runtime_log(MonState *m)
{
  int fd = openat(m->state_dfd, "runtime.log", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
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

char *mon_runtime_error_message(MonState *m, int status)
{
  cleanup_free char *msg = NULL;
  if (m->rt_msg && m->rt_msg->len > 0)
    msg = rt_error_message(m->rt_msg->str, m->rt_msg->len);
  if (msg == NULL) {
    g_autofree char *log = read_runtime_log(m);
    if (log)
      msg = rt_error_message(log, strlen(log));
  }
  if (msg)
    return g_strndup(msg, MSG_MAX);
  if (WIFSIGNALED(status))
    return g_strdup_printf("'%s create' was killed by signal %d", m->runtime, WTERMSIG(status));
  return g_strdup_printf("'%s create' failed with exit status %d", m->runtime,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* `runtime delete --force ID`, waited for (bounded); best effort. */
void mon_runtime_delete(MonState *m)
{
  struct mon_rt_call c;
  mon_rt_call_init(m, &c, FALSE);
  cleanup_argv struct argv_builder argv = {0};
  oci_error *e = NULL;
  g_autoptr(GError) error = NULL;
  gboolean built = argv_result(rt_argv_op(&c.call, RT_OP_DELETE_FORCE, &argv, &e), &e, &error);
  mon_rt_call_clear(&c);
  pid_t pid = built ? mon_spawn(argv.v, -1, -1, -1, FALSE, &error) : -1;
  if (pid < 0) {
    mon_note(m->notes, "runtime delete: %s", error->message);
    return;
  }
  if (mon_wait_child(pid, MON_CLEANUP_TIMEOUT_MS, NULL))
    return;
  mon_note(m->notes, "'%s delete --force %s' timed out; killed", m->runtime, m->id);
  kill(pid, SIGKILL);
  (void)mon_wait_child(pid, MON_KILL_TIMEOUT_MS, NULL);
}
