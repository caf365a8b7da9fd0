/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oci-runc: runc's command line in front of runc or crun.
 *
 * In this mode the caller (podman's conmon, containerd's shim, CRI-O, the OCI
 * validation suite) is the monitor: it owns stdio, the console socket, the
 * fds it passes with --preserve-fds and LISTEN_FDS/LISTEN_PID.  So the
 * wrapper never forks: it reads what it needs from argv and execs the runtime
 * in its own place.  Every fd, the pid (LISTEN_PID stays true), the signal
 * mask and dispositions and the environment reach the runtime exactly as the
 * caller made them, and the cost is one exec.  Nothing here opens an fd on
 * the way to that exec.
 *
 * Errors the wrapper raises itself follow runc's convention (logrus): with
 * --log FILE the record goes to FILE and the bare message to stderr; without
 * it the record goes to stderr; the record is `time=... level=error msg=...`
 * or, with --log-format json, {"level":"error","msg":...,"time":...}.
 */
#include "runc-personality.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "runc-flags.h"
#include "runtime.h"
#include "version.h"

#define PERSONALITY "oci-runc"

bool runc_personality_selected(const char *argv0)
{
  if (argv0 != NULL) {
    const char *slash = strrchr(argv0, '/');
    if (strcmp(slash ? slash + 1 : argv0, PERSONALITY) == 0)
      return true;
  }
  const char *p = getenv("SIFOCI_PERSONALITY");
  return p != NULL && strcmp(p, "runc") == 0;
}

/* logrus's default timestamp: RFC 3339 in local time, "Z" for UTC. */
static void rfc3339_now(char *buf, size_t len)
{
  time_t t = time(NULL);
  struct tm tm;
  localtime_r(&t, &tm);
  size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
  long off = tm.tm_gmtoff, abs_off = off < 0 ? -off : off;
  if (off == 0)
    snprintf(buf + n, len - n, "Z");
  else
    snprintf(buf + n, len - n, "%c%02ld:%02ld", off < 0 ? '-' : '+', abs_off / 3600,
             abs_off % 3600 / 60);
}

/* Quote S as Go does: %q for logrus text, encoding/json (which also escapes
 * <, > and &) for JSON.  Bytes >= 0x80 pass as they are. */
static void put_quoted(FILE *f, const char *s, bool json)
{
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c == '\n')
      fputs("\\n", f);
    else if (c == '\t')
      fputs("\\t", f);
    else if (c == '\r')
      fputs("\\r", f);
    else if (json && (c < 0x20 || c == '<' || c == '>' || c == '&'))
      fprintf(f, "\\u%04x", c);
    else if (!json && (c < 0x20 || c == 0x7f))
      fprintf(f, "\\x%02x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

static void put_record(FILE *f, bool json, const char *msg)
{
  char stamp[48];
  rfc3339_now(stamp, sizeof(stamp));
  if (json) {
    fputs("{\"level\":\"error\",\"msg\":", f);
    put_quoted(f, msg, true);
    fprintf(f, ",\"time\":\"%s\"}\n", stamp);
  } else {
    fprintf(f, "time=\"%s\" level=error msg=", stamp);
    put_quoted(f, msg, false);
    fputc('\n', f);
  }
}

/* The one place that prints an error of the wrapper; returns the status. */
static int report(const struct rp_globals *g, const oci_error *e)
{
  cleanup_free char *text = oci_error_format(e);
  cleanup_free char *msg = NULL;
  if (asprintf(&msg, PERSONALITY ": %s", text ? text : "out of memory") < 0)
    msg = NULL;
  const char *m = msg ? msg : PERSONALITY ": out of memory";
  bool json = g->log_format != NULL && strcmp(g->log_format, "json") == 0;
  if (g->log != NULL && g->log[0] != '\0') {
    /* runc opens its log the same way: append, create 0644 */
    int fd = open(g->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    cleanup_fclose FILE *f = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (f != NULL)
      put_record(f, json, m);
    else if (fd >= 0)
      close(fd);
    fprintf(stderr, "%s\n", m);
  } else {
    put_record(stderr, json, m);
  }
  /* runc's (urfave/cli's) status for an unknown help topic */
  return e && e->kind == OCI_ERR_NOT_FOUND ? 3 : 1;
}

/* runc's format, our line first, then the runtime's own lines (its exec
 * prints them: still no fork). */
static int exec_version(const struct rp_globals *g, char *runtime)
{
  printf(PERSONALITY " version %s (sifoci)\n", SIFOCI_VERSION);
  fflush(stdout);
  char *const argv[] = {runtime, (char *)"--version", NULL};
  execv(runtime, argv);
  cleanup_error oci_error *err = NULL;
  oci_error_set(&err, errno, "exec '%s'", runtime);
  return report(g, err);
}

int runc_personality_main(int argc, char **argv)
{
  cleanup_error oci_error *err = NULL;
  struct rp_globals g;
  rp_scan_globals(argc, argv, &g);

  /* unset or empty: the build's default, as for oci */
  const char *spec = getenv("SIFOCI_RUNTIME");
  if (spec == NULL || spec[0] == '\0')
    spec = SIFOCI_DEFAULT_RUNTIME;
  cleanup_rt struct rt_runtime rt = {0};
  if (rt_resolve(spec, &rt, &err) < 0)
    return report(&g, err);
  char *runtime = rt.path;
  if (g.version)
    return exec_version(&g, runtime);

  if (rt.kind == RT_RUNC) {
    /* runc's own command line: it goes through untouched, so runc parses
     * and reports it exactly as when called directly */
    argv[0] = runtime;
    execv(runtime, argv);
  } else {
    cleanup_free const char **crun_argv = NULL;
    if (rp_crun_argv(runtime, argc, argv, &crun_argv, &err) < 0)
      return report(&g, err);
    execv(runtime, (char *const *)crun_argv);
  }
  oci_error_set(&err, errno, "exec '%s'", runtime);
  return report(&g, err);
}
