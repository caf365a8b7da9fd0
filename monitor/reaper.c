/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signals (one signalfd: the handlers never run, the loop just wakes up),
 * reaping as child subreaper, the container's exit status and exit.json.
 * The exit status is what waitpid() said, or "unknown" -- never made up.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void forward(MonState *m, int sig)
{
  pid_t target = 0;
  if (m->phase == MON_PHASE_RUNNING && m->ctr_pid > 0)
    target = m->ctr_pid;
  else if (m->phase == MON_PHASE_CREATING && m->create_pid > 0)
    target = m->create_pid;
  if (target > 0 && kill(target, sig) < 0)
    mon_note(m->notes, "forward signal %d to pid %d: %s", sig, (int)target, g_strerror(errno));
}

static gboolean on_signal(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  struct signalfd_siginfo si;
  gboolean child = FALSE;
  while (read(m->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    if (si.ssi_signo == SIGCHLD)
      child = TRUE;
    else
      forward(m, (int)si.ssi_signo);
  }
  if (child)
    mon_reap(m);
  return G_SOURCE_CONTINUE;
}

gboolean mon_signals_setup(MonState *m, GError **error)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  signal(SIGPIPE, SIG_IGN);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
      (m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
    mon_set_error_errno(error, errno, "signalfd");
    return FALSE;
  }
  m->sig_src = mon_watch_new(m->sig_fd, G_IO_IN, on_signal, m);
  m->early_exits = g_hash_table_new(g_direct_hash, g_direct_equal);
  return TRUE;
}

static void container_unknown(MonState *m, const char *reason)
{
  if (m->phase != MON_PHASE_RUNNING)
    return;
  m->exit_known = FALSE;
  m->exit_status = m->exit_signal = 0;
  m->exit_reason = g_strdup(reason);
  clock_gettime(CLOCK_REALTIME, &m->finished);
  mon_note(m->notes, "container %d ended, exit status unknown: %s", (int)m->ctr_pid, reason);
  mon_container_exited(m);
}

static void container_status(MonState *m, int status)
{
  if (m->phase != MON_PHASE_RUNNING)
    return;
  if (WIFEXITED(status)) {
    m->exit_status = WEXITSTATUS(status);
    m->exit_signal = 0;
  } else if (WIFSIGNALED(status)) {
    m->exit_signal = WTERMSIG(status);
    m->exit_status = 128 + m->exit_signal;
  } else {
    return; /* stopped/continued: not an exit */
  }
  m->exit_known = TRUE;
  clock_gettime(CLOCK_REALTIME, &m->finished);
  mon_container_exited(m);
}

void mon_reap(MonState *m)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (pid == m->create_pid) {
      m->create_pid = 0;
      mon_runtime_create_exited(m, status);
    } else if (m->ctr_pid > 0 && pid == m->ctr_pid) {
      container_status(m, status);
    } else if (m->ctr_pid == 0 && m->early_exits) {
      /* Maybe the container, before we know its pid. */
      g_hash_table_insert(m->early_exits, GINT_TO_POINTER(pid), GINT_TO_POINTER(status));
    }
  }
}

static gboolean on_pidfd(gpointer data, GIOCondition cond)
{
  MonState *m = data;
  mon_watch_destroy(&m->pidfd_src);
  mon_close(&m->pidfd);
  container_unknown(m, "the container process was not a child of the monitor");
  return G_SOURCE_CONTINUE;
}

/* The pid is known: was it reaped already, will we reap it, or can we only
 * watch it? */
void mon_container_known(MonState *m)
{
  gpointer st;
  pid_t pid = m->ctr_pid;
  gboolean cached = g_hash_table_lookup_extended(m->early_exits, GINT_TO_POINTER(pid), NULL, &st);
  g_hash_table_remove_all(m->early_exits);
  if (cached) {
    container_status(m, GPOINTER_TO_INT(st));
    return;
  }
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
    return; /* our child: SIGCHLD will tell */
  m->pidfd = pidfd_open(pid, 0);
  if (m->pidfd < 0) {
    container_unknown(m, "the container process was gone before the monitor could watch it");
    return;
  }
  mon_note(m->notes,
           "container pid %d is not a child of the monitor: its exit status will be unknown",
           (int)pid);
  m->pidfd_src = mon_watch_new(m->pidfd, G_IO_IN, on_pidfd, m);
}

gboolean mon_write_exit_record(MonState *m, GError **error)
{
  char when[32];
  timefmt_rfc3339(&m->finished, when);
  json_auto_t *o = json_object();
  if (m->exit_known) {
    json_object_set_new(o, "exitCode", json_integer(m->exit_status));
    json_object_set_new(o, "signal", json_integer(m->exit_signal));
    json_object_set_new(o, "finishedAt", json_string(when));
  } else {
    json_object_set_new(o, "exitCode", json_null());
    json_object_set_new(o, "signal", json_null());
    json_object_set_new(o, "finishedAt", json_string(when));
    json_object_set_new(o, "error", json_string(m->exit_reason ? m->exit_reason : "unknown"));
  }
  char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  if (s == NULL) {
    mon_set_error(error, "exit.json: out of memory");
    return FALSE;
  }
  g_autofree char *line = g_strconcat(s, "\n", NULL);
  free(s);
  return mon_write_file_at(m->state_dfd, "exit.json", line, strlen(line), 0600, TRUE, error);
}
