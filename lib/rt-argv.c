/* SPDX-License-Identifier: Apache-2.0 */
#include "runtime.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* `RUNTIME --root R [--log L [--log-format json]]`: global options come
 * before the verb for both runtimes. */
static void add_globals(const struct rt_call *c, struct argv_builder *b)
{
  argv_add(b, c->rt->path);
  if (c->globals)
    argv_addv(b, c->globals);
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

/* create and run take the same arguments; run's --detach makes it return
 * once the container's process runs, leaving the container to whoever
 * reaps it (the monitor, a subreaper), as create + start would. */
static int argv_create_or_run(const struct rt_call *c, bool run, const char *bundle,
                              const char *pid_file, const char *console_socket,
                              struct argv_builder *b, oci_error **err)
{
  add_globals(c, b);
  argv_add(b, run ? "run" : "create");
  if (run)
    argv_add(b, "--detach");
  argv_add_opt(b, "--bundle", bundle);
  argv_add_opt(b, "--pid-file", pid_file);
  argv_add_opt(b, "--console-socket", console_socket);
  argv_add(b, c->id);
  return finish(b, err);
}

int rt_argv_create(const struct rt_call *c, const char *bundle, const char *pid_file,
                   const char *console_socket, struct argv_builder *b, oci_error **err)
{
  return argv_create_or_run(c, false, bundle, pid_file, console_socket, b, err);
}

int rt_argv_run(const struct rt_call *c, const char *bundle, const char *pid_file,
                const char *console_socket, struct argv_builder *b, oci_error **err)
{
  return argv_create_or_run(c, true, bundle, pid_file, console_socket, b, err);
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
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "'%s' is not a signal (try TERM, SIGKILL or 15)", text ? text : "");
  *ret_signum = sig;
  return 0;
}
