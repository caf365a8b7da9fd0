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
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG_MAX 4096
#define RUNTIME_LOG_TAIL (64 * 1024)

pid_t mon_spawn(char *const argv[], int fd0, int fd1, int fd2, gboolean new_pgrp, GError **error)
{
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    g_set_error(error, MON_ERROR, 0, "fork: %s", g_strerror(errno));
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

static GPtrArray *runtime_argv(MonState *m)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(argv, g_strdup(m->runtime));
  for (char **a = m->runtime_args; a && *a; a++)
    g_ptr_array_add(argv, g_strdup(*a));
  g_ptr_array_add(argv, g_strdup("--root"));
  g_ptr_array_add(argv, g_build_filename(m->state_dir, "runtime", NULL));
  return argv;
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

gboolean mon_runtime_spawn_create(MonState *m, GError **error)
{
  g_autoptr(GPtrArray) argv = runtime_argv(m);
  g_autofree char *console = NULL;
  int child[3];
  g_ptr_array_add(argv, g_strdup("--log"));
  g_ptr_array_add(argv, g_build_filename(m->state_dir, "runtime.log", NULL));
  g_ptr_array_add(argv, g_strdup("create"));
  g_ptr_array_add(argv, g_strdup("--bundle"));
  g_ptr_array_add(argv, g_strdup(m->bundle));
  g_ptr_array_add(argv, g_strdup("--pid-file"));
  g_ptr_array_add(argv, g_build_filename(m->state_dir, "container.pid", NULL));
  if (m->terminal) {
    if (!mon_console_listen(m, &console, error))
      return FALSE;
    g_ptr_array_add(argv, g_strdup("--console-socket"));
    g_ptr_array_add(argv, g_strdup(console));
  }
  g_ptr_array_add(argv, g_strdup(m->id));
  g_ptr_array_add(argv, NULL);

  gboolean ok = mon_io_setup_pipes(m, child, error);
  if (ok) {
    m->create_pid =
        mon_spawn((char *const *)argv->pdata, child[0], child[1], child[2], TRUE, error);
    ok = m->create_pid > 0;
    m->create_spawned = ok;
  }
  for (int i = 0; i < 3; i++)
    mon_close(&child[i]);
  if (!ok)
    return FALSE;
  m->create_timer = g_timeout_add((guint)m->create_timeout * 1000, on_create_timeout, m);
  mon_io_watch(m);
  mon_io_watch_runtime_stderr(m);
  return TRUE;
}

void mon_runtime_create_exited(MonState *m, int status)
{
  if (m->create_timer) {
    g_source_remove(m->create_timer);
    m->create_timer = 0;
  }
  mon_io_drain_runtime_stderr(m);
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

/* The message of a runtime log line: logfmt (time=.. level=.. msg="..."),
 * JSON ({"msg": ...}) or plain text. */
static char *line_message(const char *line)
{
  if (line[0] == '{') {
    json_t *o = json_loads(line, 0, NULL);
    const char *s = NULL;
    if (json_is_object(o)) {
      s = json_string_value(json_object_get(o, "msg"));
      if (s == NULL)
        s = json_string_value(json_object_get(o, "message"));
    }
    char *r = s ? g_strdup(s) : NULL;
    json_decref(o);
    if (r)
      return r;
  }
  const char *p = strstr(line, "msg=");
  if (p == NULL || (p != line && p[-1] != ' '))
    return g_strdup(line);
  p += 4;
  GString *out = g_string_new(NULL);
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++) {
      if (*p == '\\' && p[1]) {
        p++;
        g_string_append_c(out, *p == 'n' ? ' ' : *p == 't' ? ' ' : *p);
      } else {
        g_string_append_c(out, *p);
      }
    }
  } else {
    while (*p && *p != ' ')
      g_string_append_c(out, *p++);
  }
  return g_string_free(out, FALSE);
}

static gboolean is_error_line(const char *line)
{
  return strstr(line, "level=error") || strstr(line, "level=fatal") ||
         strstr(line, "\"level\":\"error\"") || strstr(line, "\"level\":\"fatal\"");
}

/* The last non-empty line of TEXT (preferring error-level lines if
 * ERRORS_FIRST), or NULL. */
static char *pick_line(const char *text, gboolean errors_first)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  for (int pass = errors_first ? 0 : 1; pass < 2; pass++) {
    for (guint i = n; i-- > 0;) {
      g_strstrip(lines[i]);
      if (lines[i][0] == '\0' || (pass == 0 && !is_error_line(lines[i])))
        continue;
      return g_strdup(lines[i]);
    }
  }
  return NULL;
}

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
  g_autofree char *line = NULL;
  if (m->rt_msg && m->rt_msg->len > 0)
    line = pick_line(m->rt_msg->str, TRUE);
  if (line == NULL) {
    g_autofree char *log = read_runtime_log(m);
    if (log)
      line = pick_line(log, TRUE);
  }
  if (line) {
    g_autofree char *msg = line_message(line);
    char *r = mon_one_line(msg, MSG_MAX);
    if (r[0])
      return r;
    g_free(r);
  }
  if (WIFSIGNALED(status))
    return g_strdup_printf("'%s create' was killed by signal %d", m->runtime, WTERMSIG(status));
  return g_strdup_printf("'%s create' failed with exit status %d", m->runtime,
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* `runtime delete --force ID`, waited for (bounded); best effort. */
void mon_runtime_delete(MonState *m)
{
  g_autoptr(GPtrArray) argv = runtime_argv(m);
  g_ptr_array_add(argv, g_strdup("delete"));
  g_ptr_array_add(argv, g_strdup("--force"));
  g_ptr_array_add(argv, g_strdup(m->id));
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  pid_t pid = mon_spawn((char *const *)argv->pdata, -1, -1, -1, FALSE, &error);
  if (pid < 0) {
    mon_note(m, "runtime delete: %s", error->message);
    return;
  }
  if (mon_wait_child(pid, MON_CLEANUP_TIMEOUT_MS, NULL))
    return;
  mon_note(m, "'%s delete --force %s' timed out; killed", m->runtime, m->id);
  kill(pid, SIGKILL);
  (void)mon_wait_child(pid, MON_KILL_TIMEOUT_MS, NULL);
}
