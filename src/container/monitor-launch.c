/* SPDX-License-Identifier: Apache-2.0 */
#include "monitor-launch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "fs.h"
#include "spawn.h"

/* the fds the monitor gets: report, attach, the client's stdout, stderr */
#define REPORT_FD 3
#define ATTACH_FD 4
#define OUT_FD 5
#define LAUNCH_FDS 4
#define REPORT_MAX 65536

int monitor_find(const char *self_path, char **ret_path, oci_error **err)
{
  const char *env = getenv("OCI_MONITOR");
  if (env && env[0]) {
    if (!fs_is_executable_file(env))
      return oci_error_set(err, 0, "$OCI_MONITOR '%s' is not an executable file", env);
    *ret_path = strdup(env);
    return *ret_path ? 0 : oci_error_set(err, ENOMEM, "monitor path");
  }
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%s", self_path ? self_path : "");
  char *slash = strrchr(dir, '/');
  const char *candidates[3] = {NULL, NULL, SIFOCI_LIBEXECDIR "/oci-monitor"};
  char beside[PATH_MAX + 16], build[PATH_MAX + 32];
  if (slash && dir[0] == '/') {
    *slash = '\0';
    snprintf(beside, sizeof(beside), "%s/oci-monitor", dir);
    snprintf(build, sizeof(build), "%s/../monitor/oci-monitor", dir);
    candidates[0] = beside;
    candidates[1] = build;
  }
  for (size_t i = 0; i < 3; i++) {
    if (candidates[i] && fs_is_executable_file(candidates[i])) {
      char abs[PATH_MAX];
      *ret_path = strdup(realpath(candidates[i], abs) ? abs : candidates[i]);
      return *ret_path ? 0 : oci_error_set(err, ENOMEM, "monitor path");
    }
  }
  return oci_error_set(err, 0, "oci-monitor not found (set $OCI_MONITOR, or install it in '%s')",
                       SIFOCI_LIBEXECDIR);
}

int monitor_argv(const struct monitor_launch *l, const char *monitor_path, int report_fd,
                 struct argv_builder *b, oci_error **err)
{
  argv_add(b, monitor_path);
  argv_add_opt(b, "--id", l->id);
  argv_add_opt(b, "--bundle", l->bundle);
  argv_add_opt(b, "--state-dir", l->state_dir);
  /* the monitor tells runc from crun itself, through the same adapter */
  argv_add_opt(b, "--runtime", l->rt->path);
  argv_add_opt(b, "--log-path", l->log_path);
  argv_add_opt(b, "--log-format", l->log_format);
  if (l->log_size_max > 0) {
    argv_add(b, "--log-max-size");
    argv_addf(b, "%llu", l->log_size_max);
  }
  if (l->log_rotate > 0) {
    argv_add(b, "--log-rotate");
    argv_addf(b, "%u", l->log_rotate);
  }
  if (l->terminal)
    argv_add(b, "--terminal");
  if (l->run_mode)
    argv_add(b, "--run-mode");
  if (l->start)
    argv_add(b, "--start");
  if (l->attach_fd >= 0) {
    argv_add(b, "--attach-fd");
    argv_addf(b, "%d", ATTACH_FD);
    for (int i = 0; i < 2; i++)
      if (l->attach_out_fd[i] >= 0) {
        argv_add(b, i == 0 ? "--attach-stdout-fd" : "--attach-stderr-fd");
        argv_addf(b, "%d", OUT_FD + i);
      }
  }
  argv_add_opt(b, "--pid-file", l->pid_file);
  for (char *const *a = l->cleanup_cmd; a && *a; a++)
    argv_add_opt(b, "--cleanup-arg", *a);
  if (l->create_timeout > 0) {
    argv_add(b, "--create-timeout");
    argv_addf(b, "%d", l->create_timeout);
  }
  argv_add(b, "--report-fd");
  argv_addf(b, "%d", report_fd);
  return argv_failed(b) ? oci_error_set(err, ENOMEM, "monitor command line") : 0;
}

/* The grandchild: the monitor-to-be.  Only async-signal-safe-ish calls;
 * we are single-threaded so this is fine after fork.  FDS[i] (-1: none)
 * becomes fd REPORT_FD + i, everything above goes. */
static void __attribute__((noreturn)) exec_monitor(char **argv, int fds[LAUNCH_FDS])
{
  spawn_child_reset_signals();
  /* all above the targets first, so no dup2 below replaces another */
  for (int i = 0; i < LAUNCH_FDS; i++)
    if (fds[i] >= 0 && fds[i] < REPORT_FD + LAUNCH_FDS &&
        (fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, REPORT_FD + LAUNCH_FDS)) < 0)
      _exit(127);
  for (int i = 0; i < LAUNCH_FDS; i++) {
    if (fds[i] < 0)
      close(REPORT_FD + i);
    else if (dup2(fds[i], REPORT_FD + i) < 0)
      _exit(127);
  }
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
  }
  /* stderr stays: the monitor's own usage errors show before it detaches */
  close_range(REPORT_FD + LAUNCH_FDS, ~0U, 0);
  execv(argv[0], argv);
  int e = errno;
  dprintf(REPORT_FD, "{\"error\": \"cannot run oci-monitor: %s\"}\n", strerror(e));
  _exit(127);
}

bool monitor_wait_exit(int pidfd, pid_t pid, int timeout_ms)
{
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    long elapsed = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    if (pidfd >= 0) {
      struct pollfd p = {.fd = pidfd, .events = POLLIN};
      int left = timeout_ms - (int)elapsed;
      int r = poll(&p, 1, left > 0 ? left : 0);
      if (r > 0)
        return true;
      if (r == 0)
        return false;
      if (errno != EINTR)
        return false;
      continue;
    }
    if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
      return true;
    if (elapsed >= timeout_ms)
      return false;
    usleep(20000);
  }
}

/* Stop a monitor: it is asked nicely first since it may be cleaning up
 * after a failed create; a kill does not hurt, its container is deleted
 * by the caller. */
void monitor_stop(int pidfd, pid_t pid, int grace_ms)
{
  if (pid <= 0)
    return;
  if (monitor_wait_exit(pidfd, pid, grace_ms))
    return;
  if (pidfd >= 0)
    pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
  else
    kill(pid, SIGKILL);
  monitor_wait_exit(pidfd, pid, 5000);
}

/* The monitor's message (often the runtime's stderr) as one line: our
 * errors are one line each. */
static int report_error(const char *msg, oci_error **err)
{
  cleanup_free char *line = malloc(strlen(msg) * 2 + 1);
  if (line == NULL)
    return oci_error_set(err, ENOMEM, "oci-monitor failed");
  char *o = line;
  for (const char *p = msg; *p; p++) {
    if (*p != '\n' && *p != '\r') {
      *o++ = *p;
      continue;
    }
    while (p[1] == '\n' || p[1] == '\r')
      p++;
    if (p[1] != '\0' && o != line) {
      *o++ = ';';
      *o++ = ' ';
    }
  }
  *o = '\0';
  return oci_error_set(err, 0, "%s", line[0] ? line : "oci-monitor failed");
}

/* {"pid": N} -> N; {"error": "text"} -> error. */
static int parse_report(const char *line, size_t len, pid_t *ret_pid, oci_error **err)
{
  json_error_t jerr;
  json_auto_t *j = json_loadb(line, len, JSON_DISABLE_EOF_CHECK, &jerr);
  if (!json_is_object(j))
    return oci_error_set(err, 0, "oci-monitor sent a bad report: %.200s", line);
  const char *msg = json_string_value(json_object_get(j, "error"));
  if (msg)
    return report_error(msg, err);
  json_t *pid = json_object_get(j, "pid");
  if (!json_is_integer(pid) || json_integer_value(pid) <= 0)
    return oci_error_set(err, 0, "oci-monitor sent a bad report: %.200s", line);
  *ret_pid = (pid_t)json_integer_value(pid);
  return 0;
}

static int read_report(int fd, int cancel_fd, int timeout_s, pid_t *ret_pid, oci_error **err)
{
  char buf[REPORT_MAX];
  size_t len = 0;
  struct timespec deadline, now;
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += timeout_s;
  for (;;) {
    char *nl = memchr(buf, '\n', len);
    if (nl)
      return parse_report(buf, (size_t)(nl - buf), ret_pid, err);
    clock_gettime(CLOCK_MONOTONIC, &now);
    long left = (deadline.tv_sec - now.tv_sec) * 1000 + (deadline.tv_nsec - now.tv_nsec) / 1000000;
    if (left <= 0)
      return oci_error_set(err, 0, "no report from oci-monitor after %d s", timeout_s);
    struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = cancel_fd, .events = POLLIN}};
    int r = poll(p, 2, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return oci_error_set(err, errno, "waiting for oci-monitor");
    if (r == 0)
      continue;
    if (p[1].revents & POLLIN)
      return oci_error_set_kind(err, OCI_ERR_INTERRUPTED, 0,
                                "interrupted while waiting for oci-monitor");
    if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
      continue;
    if (len == sizeof(buf) - 1)
      return oci_error_set(err, 0, "oci-monitor sent an oversized report");
    ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return oci_error_set(err, errno, "reading the oci-monitor report");
    if (n == 0) {
      if (len > 0) /* a last line without '\n' still counts */
        return parse_report(buf, len, ret_pid, err);
      return oci_error_set(err, 0, "oci-monitor exited without a report");
    }
    len += (size_t)n;
    buf[len] = '\0';
  }
}

int monitor_start(const struct monitor_launch *l, struct monitor_report *ret, oci_error **err)
{
  *ret = (struct monitor_report){.monitor_pidfd = -1};
  cleanup_free char *path = NULL;
  if (monitor_find(l->self_path, &path, err) < 0)
    return -1;
  cleanup_argv struct argv_builder argv = {0};
  if (monitor_argv(l, path, REPORT_FD, &argv, err) < 0)
    return -1;
  int sp[2], pp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
    return oci_error_set(err, errno, "socketpair");
  cleanup_close int report_r = sp[0], report_w = sp[1];
  if (pipe2(pp, O_CLOEXEC) < 0)
    return oci_error_set(err, errno, "pipe");
  cleanup_close int pid_r = pp[0], pid_w = pp[1];

  pid_t mid = fork();
  if (mid < 0)
    return oci_error_set(err, errno, "fork");
  if (mid == 0) {
    /* The middle process only forks again and tells us the pid: the
     * monitor is reparented (to init or a subreaper), never our child. */
    pid_t mon = fork();
    if (mon == 0) {
      int fds[LAUNCH_FDS] = {report_w, l->attach_fd, -1, -1};
      if (l->attach_fd >= 0) {
        fds[2] = l->attach_out_fd[0];
        fds[3] = l->attach_out_fd[1];
      }
      exec_monitor(argv.v, fds);
    }
    (void)!write(pid_w, &mon, sizeof(mon));
    _exit(mon < 0 ? 1 : 0);
  }
  close(steal_fd(&report_w));
  close(steal_fd(&pid_w));
  int st;
  while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
    ;
  pid_t mon = -1;
  if (read(pid_r, &mon, sizeof(mon)) != (ssize_t)sizeof(mon) || mon <= 0)
    return oci_error_set(err, 0, "could not start oci-monitor");
  ret->monitor_pid = mon;
  /* Right after the start, before it can have been reaped and the pid
   * reused; from here on signals go through the pidfd. */
  ret->monitor_pidfd = (int)pidfd_open(mon, 0);
  int timeout = (l->create_timeout > 0 ? l->create_timeout : 60) + 10;
  return read_report(report_r, l->cancel_fd, timeout, &ret->container_pid, err);
}
