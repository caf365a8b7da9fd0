/* SPDX-License-Identifier: Apache-2.0 */
/* Signals, reaping and the container's exit status (child.h). */
#include "child.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errors.h"
#include "files.h"
#include "watch.h"

struct MonChild {
  MonNotes *notes;
  MonChildEvents ev;
  gpointer user_data;

  int sig_fd;
  GSource *sig_src;
  pid_t create_pid;
  pid_t ctr_pid;
  GHashTable *early_exits; /* pid -> wait status, reaped before ctr_pid was known */
  int pidfd;               /* only when the container is not our child */
  GSource *pidfd_src;
  guint reparent_timer; /* it ended while not ours: waiting for it to be handed to us */
  gboolean exited;      /* on_container_exit was called */
};

static void reap(MonChild *c);

static gboolean on_signalfd(gpointer data, GIOCondition cond)
{
  MonChild *c = data;
  struct signalfd_siginfo si;
  gboolean child = FALSE;
  while (read(c->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
    if (si.ssi_signo == SIGCHLD)
      child = TRUE;
    else
      c->ev.on_signal((int)si.ssi_signo, c->user_data);
  }
  if (child)
    reap(c);
  return G_SOURCE_CONTINUE;
}

MonChild *mon_child_new(MonNotes *notes, const MonChildEvents *events, gpointer user_data,
                        GError **error)
{
  g_autoptr(MonChild) c = g_new0(MonChild, 1);
  c->notes = notes;
  c->ev = *events;
  c->user_data = user_data;
  c->sig_fd = c->pidfd = -1;
  c->early_exits = g_hash_table_new(g_direct_hash, g_direct_equal);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  signal(SIGPIPE, SIG_IGN);
  if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
      (c->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
    mon_set_error_errno(error, errno, "signalfd");
    return NULL;
  }
  c->sig_src = mon_watch_new(c->sig_fd, G_IO_IN, on_signalfd, c);
  return g_steal_pointer(&c);
}

void mon_child_free(MonChild *c)
{
  if (c == NULL)
    return;
  mon_watch_destroy(&c->sig_src);
  mon_watch_destroy(&c->pidfd_src);
  g_clear_handle_id(&c->reparent_timer, g_source_remove);
  mon_close(&c->sig_fd);
  mon_close(&c->pidfd);
  g_hash_table_unref(c->early_exits);
  g_free(c);
}

static void report(MonChild *c, MonExit *e)
{
  if (c->exited)
    return;
  c->exited = TRUE;
  g_clear_handle_id(&c->reparent_timer, g_source_remove);
  mon_watch_destroy(&c->pidfd_src);
  mon_close(&c->pidfd);
  clock_gettime(CLOCK_REALTIME, &e->finished);
  c->ev.on_container_exit(e, c->user_data);
}

static void container_unknown(MonChild *c, const char *reason)
{
  MonExit e = {.known = FALSE, .reason = reason};
  if (c->exited)
    return;
  mon_note(c->notes, "container %d ended, exit status unknown: %s", (int)c->ctr_pid, reason);
  report(c, &e);
}

static void container_status(MonChild *c, int status)
{
  MonExit e = {.known = TRUE};
  if (WIFEXITED(status)) {
    e.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    e.signal = WTERMSIG(status);
    e.status = 128 + e.signal;
  } else {
    return; /* stopped/continued: not an exit */
  }
  report(c, &e);
}

static void reap(MonChild *c)
{
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (c->create_pid > 0 && pid == c->create_pid) {
      c->create_pid = 0;
      c->ev.on_create_exited(status, c->user_data);
    } else if (c->ctr_pid > 0 && pid == c->ctr_pid) {
      container_status(c, status);
    } else if (c->ctr_pid == 0) {
      /* Maybe the container, before we know its pid. */
      g_hash_table_insert(c->early_exits, GINT_TO_POINTER(pid), GINT_TO_POINTER(status));
    }
  }
}

void mon_child_watch_create(MonChild *c, pid_t pid)
{
  c->create_pid = pid;
}

static gboolean on_reparent_timeout(gpointer data)
{
  MonChild *c = data;
  c->reparent_timer = 0;
  container_unknown(c, "the container process was not a child of the monitor");
  return G_SOURCE_REMOVE;
}

/* It ended while another process was its parent: a runtime whose `run
 * --detach` leaves an intermediate process for a moment (crun) hands it to
 * us, the subreaper, as a zombie when that one exits, and SIGCHLD tells
 * (reap).  Only a parent that reaped it itself took the status. */
static gboolean on_pidfd(gpointer data, GIOCondition cond)
{
  MonChild *c = data;
  (void)cond;
  mon_watch_destroy(&c->pidfd_src);
  mon_close(&c->pidfd);
  reap(c);
  if (!c->exited && c->reparent_timer == 0)
    c->reparent_timer = g_timeout_add(MON_CHILD_REPARENT_GRACE_MS, on_reparent_timeout, c);
  return G_SOURCE_REMOVE;
}

void mon_child_watch_container(MonChild *c, pid_t pid)
{
  gpointer st;
  c->ctr_pid = pid;
  gboolean cached = g_hash_table_lookup_extended(c->early_exits, GINT_TO_POINTER(pid), NULL, &st);
  g_hash_table_remove_all(c->early_exits);
  if (cached) {
    container_status(c, GPOINTER_TO_INT(st));
    return;
  }
  siginfo_t si;
  memset(&si, 0, sizeof(si));
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
    return; /* our child: SIGCHLD will tell */
  c->pidfd = pidfd_open(pid, 0);
  if (c->pidfd < 0) {
    container_unknown(c, "the container process was gone before the monitor could watch it");
    return;
  }
  c->pidfd_src = mon_watch_new(c->pidfd, G_IO_IN, on_pidfd, c);
}
