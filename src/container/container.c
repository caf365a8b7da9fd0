/* SPDX-License-Identifier: Apache-2.0 */
/* An open container: opening it, its bundle's config, and every runtime
 * call on it (create.c and delete.c build on these, never the reverse). */
#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "exec-user.h"
#include "live-status.h"
#include "spawn.h"

int container_adopt(struct container *ct, struct ctr *c, oci_error **err)
{
  ct->c = c;
  ct->rt_root = ctr_path(ct->c, "runtime");
  ct->rt_log = ctr_path(ct->c, "runtime.log");
  if (ct->rt_root == NULL || ct->rt_log == NULL)
    return oci_error_set(err, ENOMEM, "container '%s'", ct->c->id);
  return 0;
}

void container_close(struct container *ct)
{
  if (ct->c)
    ctr_free(ct->c);
  rt_clear(&ct->rt);
  free(ct->rt_root);
  free(ct->rt_log);
  *ct = (struct container){0};
}

int container_open(const char *root, const char *id, enum ctr_lock lock, int flags,
                   struct container *ret, oci_error **err)
{
  *ret = (struct container){0};
  struct ctr *c = NULL;
  if (ctr_open(root, id, lock, &c, err) < 0 || container_adopt(ret, c, err) < 0) {
    container_close(ret);
    return -1;
  }
  if (ret->c->damaged) {
    ret->incomplete = ret->damaged = true;
    if (flags & CONTAINER_ALLOW_DAMAGED)
      return 0;
    /* the reason is already escaped, formatted: quoted as text */
    oci_error_set(err, 0, "container '%s' is damaged (%s); 'oci delete -f %s' removes it", id,
                  ret->c->damaged, id);
    container_close(ret);
    return -1;
  }
  if (ret->c->state == NULL) {
    ret->incomplete = true;
    ret->creating = lock == CTR_LOCK_NONE && ctr_is_locked(ret->c);
    if (flags & CONTAINER_ALLOW_INCOMPLETE)
      return 0;
    if (ret->creating)
      oci_error_set(err, 0, "container '%s' is being created", id);
    else
      oci_error_set(err, 0,
                    "container '%s' is incomplete (its create did not finish); "
                    "'oci delete -f %s' removes it",
                    id, id);
    container_close(ret);
    return -1;
  }
  cleanup_error oci_error *bad_rt = NULL;
  if (rt_from_record(ctr_state_str(ret->c, "runtime"), ctr_state_str(ret->c, "runtimePath"),
                     &ret->rt, &bad_rt) < 0) {
    /* a state.json that parses but names no runtime we can use is damaged
     * too: list shows it, delete -f cleans it up without the runtime */
    if ((flags & CONTAINER_ALLOW_DAMAGED) && (ret->c->damaged = oci_error_format(bad_rt)) != NULL) {
      ret->incomplete = ret->damaged = true;
      return 0;
    }
    *err = steal_ptr(&bad_rt);
    oci_error_prefix(err, "container '%s'", id);
    container_close(ret);
    return -1;
  }
  return 0;
}

json_t *container_load_bundle_config(const char *bundle, oci_error **err)
{
  cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    oci_error_set(err, errno, "bundle '%s'", bundle);
    return NULL;
  }
  cleanup_free char *text = NULL;
  size_t len = 0;
  int r = fs_read_file_at(dfd, "config.json", CONTAINER_CONFIG_JSON_MAX, 0, &text, &len, err);
  if (r != 0) {
    if (r == 1)
      oci_error_set(err, ENOENT, "config.json");
    oci_error_prefix(err, "bundle '%s'", bundle);
    return NULL;
  }
  json_error_t jerr;
  json_t *config = json_loadb(text, len, 0, &jerr);
  if (!json_is_object(config)) {
    oci_error_set(err, 0, "bundle '%s': config.json: %s", bundle,
                  config ? "not an object" : jerr.text);
    json_decref(config);
    return NULL;
  }
  return config;
}

static const char *const op_names[RT_OP_MAX] = {
    [RT_OP_START] = "start",   [RT_OP_STATE] = "state",   [RT_OP_PAUSE] = "pause",
    [RT_OP_RESUME] = "resume", [RT_OP_DELETE] = "delete", [RT_OP_DELETE_FORCE] = "delete",
};

static struct rt_call call_of(const struct container *ct)
{
  return (struct rt_call){
      .rt = &ct->rt, .state_root = ct->rt_root, .log_path = ct->rt_log, .id = ct->c->id};
}

/* Run the runtime with output captured; a non-zero exit becomes an error
 * carrying the runtime's own message. */
static int run_checked(struct container *ct, const struct argv_builder *b, enum spawn_io in,
                       const char *what, struct spawn_result *res, oci_error **err)
{
  struct spawn_opts so = {.in = in, .out = SPAWN_CAPTURE, .err = SPAWN_CAPTURE};
  if (spawn_run(b->v, &so, res, err) < 0)
    return oci_error_prefix(err, "%s '%s'", what, ct->c->id);
  if (res->status == 0)
    return 0;
  cleanup_free char *msg = rt_error_message(res->err, res->err_len);
  if (msg == NULL)
    msg = rt_error_message(res->out, res->out_len);
  oci_error_set(err, 0, "%s '%s': %s", what, ct->c->id,
                msg ? msg : "the runtime failed without a message");
  spawn_result_clear(res);
  return -1;
}

int container_runtime_op(struct container *ct, enum rt_op op, oci_error **err)
{
  struct rt_call call = call_of(ct);
  cleanup_argv struct argv_builder b = {0};
  struct spawn_result res;
  if (rt_argv_op(&call, op, &b, err) < 0 ||
      run_checked(ct, &b, SPAWN_NULL, op_names[op], &res, err) < 0)
    return -1;
  spawn_result_clear(&res);
  return 0;
}

int container_kill(struct container *ct, int signum, oci_error **err)
{
  struct rt_call call = call_of(ct);
  cleanup_argv struct argv_builder b = {0};
  struct spawn_result res;
  if (rt_argv_kill(&call, signum, &b, err) < 0 ||
      run_checked(ct, &b, SPAWN_NULL, "kill", &res, err) < 0)
    return -1;
  spawn_result_clear(&res);
  return 0;
}

int container_update(struct container *ct, const char *resources, oci_error **err)
{
  struct rt_call call = call_of(ct);
  cleanup_argv struct argv_builder b = {0};
  struct spawn_result res;
  /* "-": the runtime reads our stdin itself (`-r -`), so connect it */
  enum spawn_io in = strcmp(resources, "-") == 0 ? SPAWN_INHERIT : SPAWN_NULL;
  if (rt_argv_update(&call, resources, &b, err) < 0 ||
      run_checked(ct, &b, in, "update", &res, err) < 0)
    return -1;
  spawn_result_clear(&res);
  return 0;
}

/* process.env of the bundle's config.json, or NULL (best effort: only
 * needed where the runtime replaces the environment on exec --env). */
static char **bundle_env(const struct container *ct)
{
  /* what the container runs with: its own bundle's config */
  cleanup_free char *own = ctr_path(ct->c, OWN_BUNDLE_DIR);
  cleanup_error oci_error *ignored = NULL;
  if (own == NULL)
    return NULL;
  json_auto_t *config = container_load_bundle_config(own, &ignored);
  json_t *env = json_object_get(json_object_get(config, "process"), "env");
  size_t n = json_array_size(env), k = 0;
  char **v = calloc(n + 1, sizeof(char *));
  for (size_t i = 0; v && i < n; i++) {
    const char *s = json_string_value(json_array_get(env, i));
    if (s && (v[k] = strdup(s)) != NULL)
      k++;
  }
  return v;
}

/* Is HELD (a line of the runtime's stderr) the message its log has? */
static bool held_is_message(const char *held, size_t len, const char *log_msg)
{
  if (held == NULL || len == 0)
    return false;
  cleanup_free char *line = strndup(held, len);
  if (line == NULL)
    return false;
  line[strcspn(line, "\n")] = '\0';
  return line[0] != '\0' && (strstr(line, log_msg) != NULL || strstr(log_msg, line) != NULL);
}

static enum oci_error_kind status_kind(int status)
{
  return status == 127   ? OCI_ERR_NOT_FOUND
         : status == 126 ? OCI_ERR_NOT_EXECUTABLE
                         : OCI_ERR_FAILED;
}

/* runc's "exec failed: unable to start container process: " says nothing
 * the exit status and our prefix do not. */
static const char *without_runtime_preamble(const char *msg)
{
  static const char *const preambles[] = {"exec failed: unable to start container process: ",
                                          "exec failed: "};
  for (size_t i = 0; i < sizeof(preambles) / sizeof(preambles[0]); i++) {
    size_t n = strlen(preambles[i]);
    if (strncmp(msg, preambles[i], n) == 0 && msg[n] != '\0')
      return msg + n;
  }
  return msg;
}

int container_exec(struct container *ct, const struct rt_exec_opts *o, oci_error **err)
{
  /* A private JSON log: the runtime's own failure lands there whatever the
   * command prints, and it is ours to parse. */
  char name[64];
  snprintf(name, sizeof(name), "exec-%ld.log", (long)getpid());
  cleanup_free char *log = ctr_path(ct->c, name);
  if (log == NULL)
    return oci_error_set(err, ENOMEM, "exec");
  /* What the runtime would say in words that mislead: a paused container
   * ("use --ignore-paused", a flag we do not have), a user name ("parsing
   * nobody as int"). */
  cleanup_free char *rt_status = NULL;
  cleanup_error oci_error *no_status = NULL;
  /* while the monitor lives its view is the runtime's, without a runtime
   * start-up (live-status.h) */
  pid_t mon = ctr_monitor_pid(ct->c);
  const char *live = mon > 0 ? live_status(ct->c, ctr_read_pid(ct->c, "container.pid"), mon) : NULL;
  if (live ? strcmp(live, "paused") == 0
           : container_runtime_status(ct, &rt_status, NULL, &no_status) == 0 &&
                 strcmp(rt_status, "paused") == 0)
    return oci_error_set(err, 0, "exec '%s': the container is paused ('oci resume %s' first)",
                         ct->c->id, ct->c->id);
  struct rt_exec_opts eo = *o;
  cleanup_free char *numeric_user = NULL;
  if (o->user && exec_user_resolve(ct, o->user, &numeric_user, err) < 0)
    return -1;
  if (numeric_user)
    eo.user = numeric_user;
  struct rt_call call = call_of(ct);
  call.log_path = log;
  call.log_json = true;
  cleanup_strv char **config_env = bundle_env(ct);
  eo.config_env = config_env;
  cleanup_argv struct argv_builder b = {0};
  if (rt_argv_exec(&call, &eo, &b, err) < 0)
    return -1;
  /* stderr is copied through while its tail is kept: the runtime's message
   * when the command could not be run says 126 or 127.  Its last line is
   * held back, so that the runtime's own failure line can be said once, in
   * our words, instead of twice.  With --detach the command would keep our
   * pipe, so it gets nothing of ours. */
  struct spawn_opts so = {.in = SPAWN_INHERIT,
                          .out = SPAWN_INHERIT,
                          .err = SPAWN_TEE_HOLD_LAST,
                          .forward_signals = true};
  if (o->detach)
    so = (struct spawn_opts){.in = SPAWN_NULL, .out = SPAWN_NULL, .err = SPAWN_NULL};
  struct spawn_result res;
  int r = spawn_run(b.v, &so, &res, err);
  size_t log_len = 0;
  cleanup_free char *log_text = NULL;
  cleanup_error oci_error *no_log = NULL; /* none: the runtime said nothing there */
  ctr_read_file(ct->c, name, &log_text, &log_len, &no_log);
  unlinkat(ct->c->dirfd, name, 0);
  if (r < 0)
    return oci_error_prefix(err, "exec in '%s'", ct->c->id);
  cleanup_free char *log_msg = log_text ? rt_log_error_message(log_text, log_len) : NULL;
  cleanup_free char *err_msg = rt_error_message(res.err, res.err_len);
  int status = rt_exec_status(ct->rt.kind, res.status, err_msg, log_msg);
  bool runtime_failed = status != 0 && log_msg != NULL &&
                        (status == 125 || status == 126 || status == 127) &&
                        held_is_message(res.held, res.held_len, log_msg);
  if (!runtime_failed || o->detach)
    spawn_result_release_held(&res, STDERR_FILENO);
  spawn_result_clear(&res);
  if (status == 0 || o->detach)
    goto detached;
  /* The runtime failed before the command ran: ours names the container,
   * and the option where that is what failed (runc: "chdir to cwd
   * (\"/x\") set in config.json failed", of a config.json the user never
   * wrote). */
  if (status == 125 && o->cwd && log_msg && strstr(log_msg, "chdir"))
    return oci_error_set(err, 0, "exec '%s': --cwd '%s': %s", ct->c->id, o->cwd,
                         strcasestr(log_msg, "no such file") ? "no such directory in the container"
                                                             : log_msg);
  if (runtime_failed || (status == 125 && log_msg))
    return oci_error_set_kind(err, status_kind(status), 0, "exec '%s': %s", ct->c->id,
                              without_runtime_preamble(log_msg));
  return status;
detached:
  /* detached, nobody saw the runtime's stderr: say it ourselves */
  if (status != 0)
    return oci_error_set_kind(err, status_kind(status), 0, "exec in '%s': %s", ct->c->id,
                              log_msg ? log_msg : "the runtime failed without a message");
  return 0;
}

int container_runtime_status(struct container *ct, char **ret_status, json_t **ret_state,
                             oci_error **err)
{
  *ret_status = NULL;
  if (ret_state)
    *ret_state = NULL;
  if (!ctr_runtime_has(ct->c)) {
    *ret_status = strdup("gone");
    return *ret_status ? 0 : oci_error_set(err, ENOMEM, "state");
  }
  struct rt_call call = call_of(ct);
  cleanup_argv struct argv_builder b = {0};
  struct spawn_result res;
  cleanup_error oci_error *e = NULL;
  if (rt_argv_op(&call, RT_OP_STATE, &b, err) < 0)
    return -1;
  if (run_checked(ct, &b, SPAWN_NULL, "state", &res, &e) < 0) {
    /* deleted between our look and the runtime's */
    if (!ctr_runtime_has(ct->c) || rt_says_not_found(ct->rt.kind, e->msg)) {
      *ret_status = strdup("gone");
      return *ret_status ? 0 : oci_error_set(err, ENOMEM, "state");
    }
    *err = steal_ptr(&e);
    return -1;
  }
  json_error_t jerr;
  json_t *st = json_loadb(res.out ? res.out : "", res.out_len, 0, &jerr);
  spawn_result_clear(&res);
  const char *status = json_string_value(json_object_get(st, "status"));
  if (status == NULL) {
    json_decref(st);
    return oci_error_set(err, 0, "state '%s': the runtime's state has no status", ct->c->id);
  }
  rt_normalize_state(ct->rt.kind, st);
  *ret_status = strdup(status);
  if (ret_state)
    *ret_state = st;
  else
    json_decref(st);
  return *ret_status ? 0 : oci_error_set(err, ENOMEM, "state");
}

json_t *container_incomplete_json(const struct container *ct)
{
  if (ct->damaged)
    return json_pack("{s:s, s:i, s:s, s:s, s:s}", "id", ct->c->id, "pid", 0, "status", "damaged",
                     "bundle", "", "error", ct->c->damaged);
  return json_pack("{s:s, s:s}", "id", ct->c->id, "status",
                   ct->creating ? "creating" : "incomplete");
}

/* The init has ended but its monitor, alive, has no exit.json yet: it is
 * reading the last of the output (a client behind holds that up) and
 * writing the post-mortem.  A stopped container's state has its exit
 * code, so the record is waited for, this long at most. */
#define EXIT_RECORD_WAIT_MS 2000

/* ctr_read_exit() once the monitor MON has written it, or has gone. */
static int wait_exit_record(const struct ctr *c, pid_t mon, struct ctr_exit *ex, oci_error **err)
{
  for (int waited = 0;; waited += 5) {
    int r = ctr_read_exit(c, ex, err);
    if (r != 0 || waited >= EXIT_RECORD_WAIT_MS)
      return r;
    if (ctr_monitor_pid(c) != mon)
      return ctr_read_exit(c, ex, err);
    usleep(5000);
  }
}

int container_state_json(struct container *ct, json_t **ret, oci_error **err)
{
  struct ctr *c = ct->c;
  cleanup_free char *status = NULL;
  json_auto_t *st = NULL;
  struct ctr_exit ex;
  int have_exit = ctr_read_exit(c, &ex, err);
  if (have_exit < 0)
    return -1;
  /* exit.json is the monitor's post-mortem: the container has stopped,
   * and the runtime (which the monitor tells to forget it) is not asked.
   * While the monitor lives, it and the state dir say the status; the
   * runtime is asked only when the monitor is gone, and the state says so. */
  pid_t mon = ctr_monitor_pid(c);
  pid_t init = 0;
  const char *live = NULL;
  if (!have_exit && mon > 0) {
    live = live_status(c, (init = ctr_read_pid(c, "container.pid")), mon);
    if (live != NULL && strcmp(live, "stopped") == 0) {
      if ((have_exit = wait_exit_record(c, mon, &ex, err)) < 0)
        return -1;
      if (have_exit) {
        live = NULL;
        mon = ctr_monitor_pid(c);
      }
    }
  }
  bool from_runtime = !have_exit && live == NULL;
  if (from_runtime && container_runtime_status(ct, &status, &st, err) < 0)
    return -1;
  /* the runtime knows the container's own bundle (own-bundle.h); the
   * user's is the one they gave */
  if (st != NULL && ctr_state_str(c, "bundle") != NULL)
    json_object_set_new(st, "bundle", json_string(ctr_state_str(c, "bundle")));
  if (st == NULL) {
    /* What we recorded stands in for the runtime's state (it has
     * forgotten the container, or was not asked). */
    bool has_pid = live && strcmp(live, "stopped") != 0;
    st = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}", "ociVersion", "1.0.2", "id", c->id, "pid",
                   has_pid ? (int)init : 0, "status", live ? live : "stopped", "bundle",
                   ctr_state_str(ct->c, "bundle") ?: "", "created",
                   ctr_state_str(ct->c, "created") ?: "");
    if (st == NULL)
      return oci_error_set(err, ENOMEM, "state");
  }
  json_object_set_new(st, "statusSource", json_string(from_runtime ? "runtime" : "monitor"));
  if (from_runtime)
    json_object_set_new(st, "statusNote",
                        json_string("the monitor is gone: the status is the runtime's"));
  cleanup_free char *sock = ctr_path(c, "attach");
  json_object_set_new(st, "attachSocket", json_string(sock ? sock : ""));
  json_object_set(st, "monitorPid", json_object_get(c->state, "monitorPid"));
  json_object_set_new(st, "monitor",
                      json_string(mon > 0     ? "running"
                                  : have_exit ? "exited"
                                              : "dead"));
  json_object_set(st, "terminal", json_object_get(c->state, "terminal"));
  json_object_set(st, "logPath", json_object_get(c->state, "logPath"));
  json_object_set(st, "logFormat", json_object_get(c->state, "logFormat"));
  json_object_set_new(st, "runtime", json_string(ct->rt.name));
  if (have_exit) {
    json_object_set_new(st, "exitCode",
                        ex.exit_code >= 0 ? json_integer(ex.exit_code) : json_null());
    if (ex.error[0])
      json_object_set_new(st, "exitError", json_string(ex.error));
    if (ex.signal)
      json_object_set_new(st, "exitSignal", json_integer(ex.signal));
    json_object_set_new(st, "finishedAt", json_string(ex.finished_at));
    json_object_set_new(st, "oomKilled",
                        ex.oom_killed < 0 ? json_null() : json_boolean(ex.oom_killed));
    json_object_set_new(st, "memoryPeak",
                        ex.memory_peak < 0 ? json_null() : json_integer(ex.memory_peak));
    json_object_set_new(st, "cpuTimeNs",
                        ex.cpu_time_ns < 0 ? json_null() : json_integer(ex.cpu_time_ns));
  }
  *ret = steal_ptr(&st);
  return 0;
}

void container_force_runtime_delete(struct container *ct)
{
  if (!ctr_runtime_has(ct->c))
    return;
  struct rt_call call = {
      .rt = &ct->rt, .state_root = ct->rt_root, .log_path = ct->rt_log, .id = ct->c->id};
  cleanup_argv struct argv_builder b = {0};
  struct spawn_result res = {0};
  struct spawn_opts so = {.in = SPAWN_NULL, .out = SPAWN_NULL, .err = SPAWN_CAPTURE};
  if (rt_argv_op(&call, RT_OP_DELETE_FORCE, &b, NULL) == 0 && spawn_run(b.v, &so, &res, NULL) == 0)
    spawn_result_clear(&res);
}
