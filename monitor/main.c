/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-monitor: main() and detaching from the CLI; the options are
 * options.c's, the rest is the owner's (monitor.c).  The contract is monitor/README.md.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "options.h"
#include "report.h"

/* FD, inherited, kept: moved above stdio, close-on-exec. */
static gboolean keep_fd(int *fd, const char *what, GError **error)
{
  int fl = fcntl(*fd, F_GETFD);
  if (fl < 0)
    return mon_set_error(error, "%s %d is not open", what, *fd);
  if (*fd < 3) {
    int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (nfd < 0)
      return mon_set_error_errno(error, errno, "dup %s", what);
    *fd = nfd;
  } else {
    fcntl(*fd, F_SETFD, fl | FD_CLOEXEC);
  }
  return TRUE;
}

/* Every inherited fd from 3 up goes but the N in KEEP. */
static void close_others(const int *keep, size_t n)
{
  unsigned from = 3;
  for (;;) {
    int next = -1; /* the lowest kept fd >= from */
    for (size_t i = 0; i < n; i++)
      if (keep[i] >= (int)from && (next < 0 || keep[i] < next))
        next = keep[i];
    if (next < 0) {
      close_range(from, ~0u, 0);
      return;
    }
    if ((unsigned)next > from)
      close_range(from, (unsigned)next - 1, 0);
    from = (unsigned)next + 1;
  }
}

/* README "Invocation": a session of our own, subreaper, stdio to
 * /dev/null, only the report fd and the attach client's fds kept (>= 3). */
static gboolean detach(MonOptions *o, GError **error)
{
  if (!keep_fd(&o->report_fd, "--report-fd", error))
    return FALSE;
  if (o->attach_fd >= 0 && !keep_fd(&o->attach_fd, "--attach-fd", error))
    return FALSE;
  if (o->attach_out_fd[0] >= 0 && !keep_fd(&o->attach_out_fd[0], "--attach-stdout-fd", error))
    return FALSE;
  if (o->attach_out_fd[1] >= 0 && !keep_fd(&o->attach_out_fd[1], "--attach-stderr-fd", error))
    return FALSE;
  const int keep[] = {o->report_fd, o->attach_fd, o->attach_out_fd[0], o->attach_out_fd[1]};
  close_others(keep, G_N_ELEMENTS(keep));

  if (setsid() < 0) {
    /* Started as a process group leader (a shell job): fork once so the
     * child can have its own session.  Not the case under the CLI; the
     * pid to use is always the one in monitor.pid. */
    pid_t pid = fork();
    if (pid < 0)
      return mon_set_error_errno(error, errno, "fork");
    if (pid > 0)
      _exit(0);
    if (setsid() < 0)
      return mon_set_error_errno(error, errno, "setsid");
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
    return mon_set_error_errno(error, errno, "PR_SET_CHILD_SUBREAPER");
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
    return mon_set_error_errno(error, errno, "/dev/null");
  if (null > 2)
    close(null);
  if (chdir("/") < 0) {
    /* cannot happen; not worth failing for */
  }
  umask(022);
  return TRUE;
}

int main(int argc, char **argv)
{
  MonOptions o;
  g_autoptr(GError) error = NULL;
  mon_options_init(&o);
  signal(SIGPIPE, SIG_IGN); /* a CLI that stopped reading the report must not kill us */
  /* Big buffers always from mmap, so freeing them gives memory back. */
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);

  int r = mon_options_parse(&o, argc, argv, &error);
  if (r == 2) {
    mon_options_clear(&o);
    return 0;
  }
  if (r == 1 || !detach(&o, &error)) {
    fprintf(stderr, "oci-monitor: %s\n", error->message);
    if (o.report_fd >= 0 && fcntl(o.report_fd, F_GETFD) >= 0)
      mon_report_error(&o.report_fd, error->message);
    mon_options_clear(&o);
    return 1;
  }
  g_autoptr(MonMonitor) m = mon_monitor_new(&o);
  return mon_monitor_run(m);
}
