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

/* README "Invocation": a session of our own, subreaper, stdio to
 * /dev/null, only the report fd kept (as *REPORT_FD >= 3). */
static gboolean detach(int *report_fd, GError **error)
{
  int fl = fcntl(*report_fd, F_GETFD);
  if (fl < 0)
    return mon_set_error(error, "--report-fd %d is not open", *report_fd);
  if (*report_fd < 3) {
    int fd = fcntl(*report_fd, F_DUPFD_CLOEXEC, 3);
    if (fd < 0)
      return mon_set_error_errno(error, errno, "dup report fd");
    *report_fd = fd;
  } else {
    fcntl(*report_fd, F_SETFD, fl | FD_CLOEXEC);
  }
  /* Every other inherited fd goes. */
  if (*report_fd > 3)
    close_range(3, (unsigned)*report_fd - 1, 0);
  close_range((unsigned)*report_fd + 1, ~0u, 0);

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
  if (r == 1 || !detach(&o.report_fd, &error)) {
    fprintf(stderr, "oci-monitor: %s\n", error->message);
    if (o.report_fd >= 0 && fcntl(o.report_fd, F_GETFD) >= 0)
      mon_report_error(&o.report_fd, error->message);
    mon_options_clear(&o);
    return 1;
  }
  g_autoptr(MonMonitor) m = mon_monitor_new(&o);
  return mon_monitor_run(m);
}
