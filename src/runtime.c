/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

/* root's PATH may lack the sbin directories (sudo, cron); runc lives there */
static const char *const extra_path[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                         "/usr/bin",        "/sbin",          "/bin"};

static bool is_executable_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static char *search_dir(const char *dir, size_t dirlen, const char *name)
{
  char *p = NULL;
  if (dirlen == 0)
    return NULL;
  if (asprintf(&p, "%.*s/%s", (int)dirlen, dir, name) < 0)
    return NULL;
  if (is_executable_file(p))
    return p;
  free(p);
  return NULL;
}

static char *search_path(const char *name)
{
  const char *path = getenv("PATH");
  for (const char *d = path; d && *d;) {
    const char *end = strchrnul(d, ':');
    char *found = search_dir(d, (size_t)(end - d), name);
    if (found)
      return found;
    d = *end ? end + 1 : end;
  }
  for (size_t i = 0; i < sizeof(extra_path) / sizeof(extra_path[0]); i++) {
    char *found = search_dir(extra_path[i], strlen(extra_path[i]), name);
    if (found)
      return found;
  }
  return NULL;
}

enum rt_kind rt_kind_of(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  return strncmp(base, "crun", 4) == 0 ? RT_CRUN : RT_RUNC;
}

static int fill(struct rt_runtime *ret, const char *path, oci_error **err)
{
  const char *base = strrchr(path, '/');
  ret->path = strdup(path);
  ret->name = strdup(base ? base + 1 : path);
  ret->kind = rt_kind_of(path);
  if (ret->path == NULL || ret->name == NULL) {
    rt_clear(ret);
    return oci_error_set(err, ENOMEM, "runtime");
  }
  return 0;
}

int rt_resolve(const char *spec, struct rt_runtime *ret, oci_error **err)
{
  *ret = (struct rt_runtime){0};
  if (spec == NULL || spec[0] == '\0')
    return oci_error_set_status(err, 2, 0, "--runtime: empty name");
  if (strchr(spec, '/') == NULL) {
    cleanup_free char *found = search_path(spec);
    if (found == NULL)
      return oci_error_set(err, 0, "runtime '%s' not found in PATH", spec);
    return fill(ret, found, err);
  }
  char abs[PATH_MAX];
  if (realpath(spec, abs) == NULL)
    return oci_error_set(err, errno, "runtime '%s'", spec);
  if (!is_executable_file(abs))
    return oci_error_set(err, 0, "runtime '%s' is not an executable file", spec);
  return fill(ret, abs, err);
}

int rt_from_record(const char *name, const char *path, struct rt_runtime *ret, oci_error **err)
{
  *ret = (struct rt_runtime){0};
  if (path == NULL || path[0] != '/')
    return oci_error_set(err, 0, "no runtime path recorded");
  if (!is_executable_file(path))
    return oci_error_set(err, 0, "runtime '%s' (recorded at create) is gone", path);
  if (fill(ret, path, err) < 0)
    return -1;
  if (name && name[0]) {
    free(ret->name);
    ret->name = strdup(name);
    if (ret->name == NULL) {
      rt_clear(ret);
      return oci_error_set(err, ENOMEM, "runtime");
    }
  }
  return 0;
}

void rt_clear(struct rt_runtime *rt)
{
  free(rt->name);
  free(rt->path);
  *rt = (struct rt_runtime){0};
}

/* `RUNTIME --root R [--log L [--log-format json]]`: global options come
 * before the verb for both runtimes. */
static void add_globals(const struct rt_call *c, struct argv_builder *b)
{
  argv_add(b, c->rt->path);
  argv_add_opt(b, "--root", c->state_root);
  if (c->log_path) {
    argv_add_opt(b, "--log", c->log_path);
    if (c->log_json)
      argv_add_opt(b, "--log-format", "json");
  }
}

static int finish(struct argv_builder *b, oci_error **err)
{
  return argv_failed(b) ? oci_error_set(err, ENOMEM, "runtime command line") : 0;
}

int rt_argv_op(const struct rt_call *c, enum rt_op op, struct argv_builder *b, oci_error **err)
{
  static const char *const verbs[RT_OP_MAX] = {
      [RT_OP_START] = "start",   [RT_OP_STATE] = "state",   [RT_OP_PAUSE] = "pause",
      [RT_OP_RESUME] = "resume", [RT_OP_DELETE] = "delete", [RT_OP_DELETE_FORCE] = "delete",
  };
  if ((unsigned)op >= RT_OP_MAX)
    return oci_error_set(err, EINVAL, "runtime operation %d", (int)op);
  add_globals(c, b);
  argv_add(b, verbs[op]);
  if (op == RT_OP_DELETE_FORCE)
    argv_add(b, "--force");
  argv_add(b, c->id);
  return finish(b, err);
}

int rt_argv_kill(const struct rt_call *c, int signum, struct argv_builder *b, oci_error **err)
{
  add_globals(c, b);
  argv_add(b, "kill");
  argv_add(b, c->id);
  /* A number: both runtimes take one, and names for realtime signals differ */
  argv_addf(b, "%d", signum);
  return finish(b, err);
}

/* Does ENV set the variable of the K=V entry KV? */
static bool env_overridden(char **env, const char *kv)
{
  size_t klen = strcspn(kv, "=");
  for (; *env; env++)
    if (strncmp(*env, kv, klen) == 0 && ((*env)[klen] == '=' || (*env)[klen] == '\0'))
      return true;
  return false;
}

int rt_argv_exec(const struct rt_call *c, const struct rt_exec_opts *o, struct argv_builder *b,
                 oci_error **err)
{
  if (o->args == NULL || o->args[0] == NULL)
    return oci_error_set(err, EINVAL, "exec: no command");
  add_globals(c, b);
  argv_add(b, "exec");
  if (o->tty)
    argv_add(b, "--tty");
  if (o->detach)
    argv_add(b, "--detach");
  /* runc adds --env to the container's environment; crun replaces it, and
   * then even PATH is gone.  For crun, repeat the config's own variables
   * (those --env does not override) first. */
  if (c->rt->kind == RT_CRUN && o->env && o->env[0]) {
    for (char **ce = o->config_env; ce && *ce; ce++)
      if (!env_overridden(o->env, *ce))
        argv_add_opt(b, "--env", *ce);
  }
  for (char **e = o->env; e && *e; e++)
    argv_add_opt(b, "--env", *e);
  argv_add_opt(b, "--cwd", o->cwd);
  argv_add_opt(b, "--user", o->user);
  /* Both stop parsing options at the ID, so the command's own options
   * (`ls -l`) are safe; crun would even take a "--" here as the command. */
  argv_add(b, c->id);
  argv_addv(b, o->args);
  return finish(b, err);
}

int rt_argv_update(const struct rt_call *c, const char *resources, struct argv_builder *b,
                   oci_error **err)
{
  add_globals(c, b);
  argv_add(b, "update");
  argv_add_opt(b, "--resources", resources);
  argv_add(b, c->id);
  return finish(b, err);
}

void rt_monitor_args(const struct rt_runtime *rt, struct argv_builder *b)
{
  /* Nothing yet: both runtimes' defaults (cgroupfs manager) suit us. */
  (void)rt;
  (void)b;
}

static int parse_rt_offset(const char *s, int base, int *ret)
{
  if (*s == '\0') {
    *ret = base;
    return 0;
  }
  if (*s != '+' && *s != '-')
    return -1;
  char *end;
  errno = 0;
  long n = strtol(s + 1, &end, 10);
  if (errno || *end || end == s + 1 || n < 0 || n > 64)
    return -1;
  *ret = base + (*s == '+' ? (int)n : -(int)n);
  return 0;
}

int rt_parse_signal(const char *text, int *ret_signum, oci_error **err)
{
  int sig = -1;
  if (text && isdigit((unsigned char)text[0])) {
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno == 0 && *end == '\0')
      sig = n > 0 && n <= SIGRTMAX ? (int)n : -1;
  } else if (text) {
    const char *name = strncasecmp(text, "SIG", 3) == 0 ? text + 3 : text;
    if (strncasecmp(name, "RTMIN", 5) == 0) {
      if (parse_rt_offset(name + 5, SIGRTMIN, &sig) < 0)
        sig = -1;
    } else if (strncasecmp(name, "RTMAX", 5) == 0) {
      if (parse_rt_offset(name + 5, SIGRTMAX, &sig) < 0)
        sig = -1;
    } else {
      for (int i = 1; i < SIGRTMIN && sig < 0; i++) {
        const char *abbrev = sigabbrev_np(i);
        if (abbrev && strcasecmp(abbrev, name) == 0)
          sig = i;
      }
    }
  }
  if (sig < 1 || sig > SIGRTMAX)
    return oci_error_set_status(err, 2, 0, "'%s' is not a signal (try TERM, SIGKILL or 15)",
                                text ? text : "");
  *ret_signum = sig;
  return 0;
}

/* Unquote a Go %q / logrus quoted value starting at Q (just after '"'). */
static char *unquote(const char *q, const char *end)
{
  char *out = malloc((size_t)(end - q) + 1), *o = out;
  if (out == NULL)
    return NULL;
  for (; q < end && *q != '"'; q++) {
    if (*q == '\\' && q + 1 < end) {
      q++;
      *o++ = *q == 'n' ? '\n' : *q == 't' ? '\t' : *q;
    } else {
      *o++ = *q;
    }
  }
  *o = '\0';
  return out;
}

char *rt_error_message(const char *text, size_t len)
{
  if (text == NULL)
    return NULL;
  const char *end = text + len;
  while (end > text && isspace((unsigned char)end[-1]))
    end--;
  if (end == text)
    return NULL;
  const char *start = end;
  while (start > text && start[-1] != '\n')
    start--;
  /* logrus text format, which runc uses on stderr when it has no --log */
  if (strncmp(start, "time=\"", 6) == 0) {
    const char *m = memmem(start, (size_t)(end - start), " msg=\"", 6);
    if (m)
      return unquote(m + 6, end);
  }
  return strndup(start, (size_t)(end - start));
}

char *rt_json_log_error(const char *text, size_t len)
{
  char *msg = NULL;
  const char *p = text, *end = text + len;
  while (p && p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    json_error_t jerr;
    json_auto_t *rec = json_loadb(p, (size_t)(line_end - p), 0, &jerr);
    const char *level = json_string_value(json_object_get(rec, "level"));
    const char *m = json_string_value(json_object_get(rec, "msg"));
    if (level && m && (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0)) {
      free(msg);
      msg = strdup(m);
    }
    p = nl ? nl + 1 : NULL;
  }
  return msg;
}

static bool has(const char *s, const char *needle)
{
  return s && strstr(s, needle) != NULL;
}

static bool has_ci(const char *s, const char *needle)
{
  return s && strcasestr(s, needle) != NULL;
}

/* What a failed execve() inside the container says, per runtime.  Returns
 * 126/127, or 0 when MSG is not such a message. */
static int classify_exec_failure(enum rt_kind kind, const char *msg)
{
  if (msg == NULL)
    return 0;
  if (kind == RT_CRUN) {
    /* "executable file `foo` not found in $PATH: No such file or directory" */
    if (has(msg, "executable file `") && has(msg, "not found"))
      return 127;
    /* "open executable: Permission denied" (also a directory: EPERM) */
    if (strncmp(msg, "open executable: ", 17) == 0)
      return 126;
    /* the final execve: "exec: Exec format error", "exec: No such file ..." */
    if (strncmp(msg, "exec: ", 6) == 0)
      return has_ci(msg, "no such file") ? 127 : 126;
    return 0;
  }
  /* runc: `exec failed: unable to start container process: exec: "foo":
   * executable file not found in $PATH` (lookup, before the final execve),
   * or from runc init's execve itself: `exec /x: exec format error`. */
  const char *q = strstr(msg, "exec: \"");
  if (q == NULL && strncmp(msg, "exec /", 6) == 0)
    q = msg;
  if (q == NULL)
    return 0;
  if (has(q, "executable file not found") || has_ci(q, "no such file or directory"))
    return 127;
  if (has_ci(q, "permission denied") || has_ci(q, "exec format error") ||
      has_ci(q, "is a directory") || has_ci(q, "not permitted"))
    return 126;
  return 0;
}

int rt_exec_status(enum rt_kind kind, int status, const char *stderr_msg, const char *log_msg)
{
  if (status == 0)
    return 0;
  /* Only statuses the runtime itself uses for its own failures (runc 255
   * before the command runs, 1 from a failed final execve; crun the same):
   * a command that exits 3 and prints something stays 3. */
  if (status == 1 || status == 255) {
    int r = classify_exec_failure(kind, stderr_msg);
    if (r)
      return r;
  }
  if (log_msg) {
    int r = classify_exec_failure(kind, log_msg);
    return r ? r : 125;
  }
  return status;
}

void rt_normalize_state(enum rt_kind kind, json_t *state)
{
  (void)kind;
  const char *rootfs = json_string_value(json_object_get(state, "rootfs"));
  const char *bundle = json_string_value(json_object_get(state, "bundle"));
  if (rootfs && rootfs[0] != '/' && bundle) {
    char *abs = NULL;
    if (asprintf(&abs, "%s/%s", bundle, rootfs) >= 0) {
      json_object_set_new(state, "rootfs", json_string(abs));
      free(abs);
    }
  }
}

bool rt_says_not_found(enum rt_kind kind, const char *msg)
{
  if (msg == NULL)
    return false;
  if (kind == RT_CRUN)
    return has(msg, "/status`: No such file or directory") || has(msg, "does not exist");
  return has(msg, "container does not exist") || has(msg, "does not exist");
}
