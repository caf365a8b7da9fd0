/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-monitor: main(), its options and detaching from the CLI; the rest is
 * the owner's (monitor.c).  The contract is monitor/README.md.
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
#include "errors.h"
#include "files.h"
#include "options.h"
#include "report.h"

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
static int parse_args(MonOptions *m, int argc, char **argv, GError **error)
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

/* ---- detaching ---- */

static gboolean detach(MonOptions *m, GError **error)
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

void mon_options_init(MonOptions *o)
{
  memset(o, 0, sizeof(*o));
  o->create_timeout = 60;
  o->report_fd = -1;
}

void mon_options_clear(MonOptions *o)
{
  g_free(o->id);
  g_free(o->bundle);
  g_free(o->state_dir);
  g_free(o->runtime);
  g_free(o->log_path);
  g_free(o->pid_file);
  g_strfreev(o->runtime_args);
  mon_options_init(o);
}

int main(int argc, char **argv)
{
  MonOptions o;
  g_autoptr(GError) error = NULL;
  mon_options_init(&o);
  signal(SIGPIPE, SIG_IGN); /* a CLI that stopped reading the report must not kill us */
  /* Big buffers always from mmap, so freeing them gives memory back. */
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);

  int r = parse_args(&o, argc, argv, &error);
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
