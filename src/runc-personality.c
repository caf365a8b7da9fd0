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

#define PERSONALITY "oci-runc"

/* Where root's runtimes live, for callers whose PATH lacks the sbin dirs. */
static const char fallback_path[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

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

/* 0 when PATH is an executable regular file and not this very program (a
 * `runc` link to oci-runc earlier in PATH would otherwise exec us forever);
 * else a negative errno. */
static int usable_runtime(const char *path)
{
  struct stat st, self;
  if (stat(path, &st) < 0)
    return -errno;
  if (!S_ISREG(st.st_mode))
    return -EACCES;
  if (access(path, X_OK) < 0)
    return -errno;
  if (stat("/proc/self/exe", &self) == 0 && self.st_dev == st.st_dev && self.st_ino == st.st_ino)
    return -ELOOP;
  return 0;
}

/* NAME in the directories of DIRS (colon-separated) into buf; empty entries
 * (the current directory) are skipped on purpose: we run as root. */
static bool search_dirs(const char *dirs, const char *name, char *buf, size_t len)
{
  size_t nlen = strlen(name);
  for (const char *p = dirs;;) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    if (dlen > 0 && dlen + 1 + nlen < len) {
      memcpy(buf, p, dlen);
      buf[dlen] = '/';
      memcpy(buf + dlen + 1, name, nlen + 1);
      if (usable_runtime(buf) == 0)
        return true;
    }
    if (*end == '\0')
      return false;
    p = end + 1;
  }
}

/* SPEC is runc, crun, another name looked up in PATH, or a path. */
static int resolve_runtime(const char *spec, char *buf, size_t len, enum rp_flavor *ret_flavor,
                           oci_error **err)
{
  if (spec[0] == '\0')
    return oci_error_set(err, 0, "no runtime configured (SIFOCI_RUNTIME is empty)");
  if (strchr(spec, '/') != NULL) {
    int r = usable_runtime(spec);
    if (r == -ELOOP)
      return oci_error_set(err, 0, "runtime '%s' is " PERSONALITY " itself", spec);
    if (r < 0)
      return oci_error_set(err, -r, "runtime '%s'", spec);
    if (strlen(spec) >= len)
      return oci_error_set(err, ENAMETOOLONG, "runtime '%s'", spec);
    strcpy(buf, spec);
  } else {
    const char *path = getenv("PATH");
    if (!(path && search_dirs(path, spec, buf, len)) && !search_dirs(fallback_path, spec, buf, len))
      return oci_error_set(err, 0, "runtime '%s' not found in PATH or in %s", spec, fallback_path);
  }
  /* by the real file's name: some distributions make `runc` a link to crun */
  char real[PATH_MAX];
  const char *name = realpath(buf, real) ? real : buf;
  const char *base = strrchr(name, '/');
  base = base ? base + 1 : name;
  *ret_flavor = strncmp(base, "crun", 4) == 0 ? RP_FLAVOR_CRUN : RP_FLAVOR_RUNC;
  return 0;
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
  return e && e->status ? e->status : 1;
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

  const char *spec = getenv("SIFOCI_RUNTIME");
  if (spec == NULL)
    spec = SIFOCI_DEFAULT_RUNTIME;
  char runtime[PATH_MAX];
  enum rp_flavor flavor = RP_FLAVOR_RUNC;
  if (resolve_runtime(spec, runtime, sizeof(runtime), &flavor, &err) < 0)
    return report(&g, err);
  if (g.version)
    return exec_version(&g, runtime);

  if (flavor == RP_FLAVOR_RUNC) {
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
