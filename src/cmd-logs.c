/* SPDX-License-Identifier: Apache-2.0 */
/* oci logs: a container's output from its log file, each record to the
 * stream it came from. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "log-reader.h"

enum { OPT_TAIL = CLI_OPT_LONG, OPT_REOPEN };

#define REOPEN_WAIT_MS 2000

static const struct cli_option options[] = {
    {"follow", 'f', NULL, "keep printing until the container exits"},
    {"tail", OPT_TAIL, "N", "only the last N lines"},
    {"reopen", OPT_REOPEN, NULL, "tell the monitor to reopen the log (after logrotate moved it)"},
    {NULL, 0, NULL, NULL},
};

static bool logs_finished(void *data)
{
  struct container *ct = data;
  struct stat a, b;
  if (faccessat(ct->c->dirfd, "exit.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return true;
  /* deleted (a run-mode container is, right after its exit) */
  if (fstat(ct->c->dirfd, &a) < 0 ||
      fstatat(ct->c->rootfd, ct->c->id, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_ino != b.st_ino)
    return true;
  /* a dead monitor writes nothing more */
  return ctr_monitor_pid(ct->c) <= 0;
}

static int logs(const char *root, const char *id, bool follow, long tail, oci_error **err)
{
  cleanup_container struct container ct = {0};
  if (container_open(root, id, CTR_LOCK_NONE, 0, &ct, err) < 0)
    return -1;
  const char *path = ctr_state_str(ct.c, "logPath");
  const char *format = ctr_state_str(ct.c, "logFormat");
  if (path == NULL)
    return oci_error_set(err, 0, "container '%s' has no log", id);
  enum log_format fmt = format && strcmp(format, "json") == 0 ? LOG_JSON : LOG_KUBERNETES;
  struct log_follow f = {.finished = logs_finished, .data = &ct};
  if (log_print(path, fmt, tail, follow ? &f : NULL, err) < 0)
    return oci_error_prefix(err, "logs '%s'", id);
  return 0;
}

/* SIGUSR1 to the monitor, which opens the log's path again.  When the log
 * was moved away, this waits (a moment) until the new file is there, so a
 * logrotate postrotate script can rely on it. */
static int reopen(const char *root, const char *id, oci_error **err)
{
  cleanup_container struct container ct = {0};
  if (container_open(root, id, CTR_LOCK_NONE, 0, &ct, err) < 0)
    return -1;
  const char *path = ctr_state_str(ct.c, "logPath");
  if (path == NULL)
    return oci_error_set(err, 0, "container '%s' has no log", id);
  pid_t mon = ctr_monitor_pid(ct.c);
  cleanup_close int pidfd = mon > 0 ? (int)pidfd_open(mon, 0) : -1;
  /* checked again through the pidfd: the pid cannot be someone else's now */
  if (pidfd < 0 || !ctr_pid_is_monitor_of(mon, ct.c->dirfd, NULL))
    return oci_error_set(err, 0, "container '%s' has no monitor (it has ended): no log to reopen",
                         id);
  struct stat st;
  bool moved = lstat(path, &st) < 0;
  if (pidfd_send_signal(pidfd, SIGUSR1, NULL, 0) < 0)
    return oci_error_set(err, errno, "container '%s': signal its monitor", id);
  for (int waited = 0; moved && waited < REOPEN_WAIT_MS; waited += 10) {
    if (lstat(path, &st) == 0)
      return 0;
    nanosleep(&(struct timespec){0, 10 * 1000000L}, NULL);
  }
  if (moved && lstat(path, &st) < 0)
    return oci_error_set(err, 0, "container '%s': its monitor did not reopen log '%s'", id, path);
  return 0;
}

static int cmd_logs(struct cli_context *ctx, int argc, char **argv, oci_error **err)
{
  bool follow = false, reopen_log = false;
  long tail = -1;
  char *end;
  int c;
  while ((c = cli_next_option(ctx, argc, argv, err)) > 0) {
    switch (c) {
    case 'f': follow = true; break;
    case OPT_TAIL:
      errno = 0;
      tail = strtol(optarg, &end, 10);
      if (errno || *end || end == optarg || tail < 0)
        return cli_usage_error(ctx, err, "--tail '%s': not a line count", optarg);
      break;
    case OPT_REOPEN: reopen_log = true; break;
    default: break;
    }
  }
  if (c < 0 || cli_check_args(ctx, argc - optind, err) < 0)
    return -1;
  if (reopen_log && (follow || tail >= 0))
    return cli_usage_error(ctx, err, "--reopen takes no other option");
  if (reopen_log)
    return reopen(ctx->root, argv[optind], err);
  return logs(ctx->root, argv[optind], follow, tail, err);
}

const struct cli_verb cli_verb_logs = {
    .name = "logs",
    .usage = "[OPTIONS] ID",
    .summary = "print a container's output from its log",
    .options = {options},
    .min_args = 1,
    .max_args = 1,
    .handler = cmd_logs,
};
