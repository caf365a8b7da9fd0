/* SPDX-License-Identifier: Apache-2.0 */
/* Opening, creating and destroying containers.  Runtime calls on an open
 * container are in lifecycle-ops.c. */
#include "container.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "monitor-launch.h"
#include "proto.h"
#include "spawn.h"
#include "signals.h"
#include "container-id.h"

#define CREATE_TIMEOUT_S 60
#define MONITOR_EXIT_WAIT_MS 10000

static int lc_fill_paths(struct lc *l, oci_error **err)
{
  l->rt_root = ctr_path(l->c, "runtime");
  l->rt_log = ctr_path(l->c, "runtime.log");
  if (l->rt_root == NULL || l->rt_log == NULL)
    return oci_error_set(err, ENOMEM, "container '%s'", l->c->id);
  return 0;
}

void lc_close(struct lc *l)
{
  if (l->c)
    ctr_free(l->c);
  rt_clear(&l->rt);
  free(l->rt_root);
  free(l->rt_log);
  *l = (struct lc){0};
}

int lc_open(const char *root, const char *id, enum ctr_lock lock, int flags, struct lc *ret,
            oci_error **err)
{
  *ret = (struct lc){0};
  if (ctr_open(root, id, lock, &ret->c, err) < 0 || lc_fill_paths(ret, err) < 0) {
    lc_close(ret);
    return -1;
  }
  if (ret->c->state == NULL) {
    ret->incomplete = true;
    ret->creating = lock == CTR_LOCK_NONE && ctr_is_locked(ret->c);
    if (flags & LC_ALLOW_INCOMPLETE)
      return 0;
    if (ret->creating)
      oci_error_set(err, 0, "container '%s' is being created", id);
    else
      oci_error_set(err, 0,
                    "container '%s' is incomplete (its create did not finish); "
                    "'oci delete -f %s' removes it",
                    id, id);
    lc_close(ret);
    return -1;
  }
  if (rt_from_record(ctr_state_str(ret->c, "runtime"), ctr_state_str(ret->c, "runtimePath"),
                     &ret->rt, err) < 0) {
    oci_error_prefix(err, "container '%s'", id);
    lc_close(ret);
    return -1;
  }
  return 0;
}

json_t *lc_load_bundle_config(const char *bundle, oci_error **err)
{
  cleanup_close int dfd = open(bundle, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) {
    oci_error_set(err, errno, "bundle '%s'", bundle);
    return NULL;
  }
  cleanup_free char *text = NULL;
  size_t len = 0;
  int r = fs_read_file_at(dfd, "config.json", LC_CONFIG_JSON_MAX, 0, &text, &len, err);
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

static int read_bundle_config(const char *bundle, bool *ret_terminal, oci_error **err)
{
  json_auto_t *config = lc_load_bundle_config(bundle, err);
  if (config == NULL)
    return -1;
  json_t *process = json_object_get(config, "process");
  if (!json_is_object(process))
    return oci_error_set(err, 0, "bundle '%s': config.json has no process", bundle);
  *ret_terminal = json_is_true(json_object_get(process, "terminal"));
  return 0;
}

/* PATH made absolute against our cwd (the monitor runs elsewhere). */
static char *absolute(const char *path)
{
  char *out = NULL;
  if (path == NULL)
    return NULL;
  if (path[0] == '/')
    return strdup(path);
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) == NULL || asprintf(&out, "%s/%s", cwd, path) < 0)
    return NULL;
  return out;
}

/* Stop a monitor: it is asked nicely first since it may be cleaning up
 * after a failed create; a kill does not hurt, its container is deleted
 * by the caller. */
static void stop_monitor(int pidfd, pid_t pid, int grace_ms)
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

/* best effort: the runtime forgets the container, killing what is left */
static void force_runtime_delete(struct lc *l)
{
  if (!ctr_runtime_has(l->c))
    return;
  struct rt_call call = {
      .rt = &l->rt, .state_root = l->rt_root, .log_path = l->rt_log, .id = l->c->id};
  cleanup_argv struct argv_builder b = {0};
  struct spawn_result res = {0};
  struct spawn_opts so = {.in = SPAWN_NULL, .out = SPAWN_NULL, .err = SPAWN_CAPTURE};
  if (rt_argv_op(&call, RT_OP_DELETE_FORCE, &b, NULL) == 0 && spawn_run(b.v, &so, &res, NULL) == 0)
    spawn_result_clear(&res);
}

static int write_initial_state(struct lc *l, const struct lc_create_opts *o, const char *bundle,
                               const char *created, bool terminal, const char *log_path,
                               const char *log_format, const char *pid_file, pid_t monitor_pid,
                               oci_error **err)
{
  json_auto_t *st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I}", "id", o->id,
                              "bundle", bundle, "created", created, "runtime", l->rt.name,
                              "runtimePath", l->rt.path, "terminal", terminal, "logPath", log_path,
                              "logFormat", log_format, "monitorPid", (json_int_t)monitor_pid);
  if (st == NULL)
    return oci_error_set(err, ENOMEM, "state.json");
  json_object_set_new(st, "pidFile", pid_file ? json_string(pid_file) : json_null());
  json_object_set_new(st, "runMode", json_boolean(o->run_mode));
  return ctr_write_state(l->c, st, err);
}

int lc_create(const struct lc_create_opts *o, struct lc *ret, pid_t *ret_pid, oci_error **err)
{
  *ret = (struct lc){0};
  const char *log_format = o->log_format ? o->log_format : "kubernetes";
  if (strcmp(log_format, "kubernetes") != 0 && strcmp(log_format, "json") != 0)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--log-format '%s': use kubernetes or json",
                              log_format);
  cleanup_lc struct lc l = {0};
  if (rt_resolve(o->runtime, &l.rt, err) < 0)
    return -1;
  char bundle[PATH_MAX];
  if (realpath(o->bundle, bundle) == NULL)
    return oci_error_set(err, errno, "bundle '%s'", o->bundle);
  bool terminal = false;
  if (read_bundle_config(bundle, &terminal, err) < 0)
    return -1;
  cleanup_free char *pid_file = absolute(o->pid_file);
  cleanup_free char *log_path = absolute(o->log_path);
  if ((o->pid_file && !pid_file) || (o->log_path && !log_path))
    return oci_error_set(err, errno ? errno : ENOMEM, "path");
  char created[64];
  ctr_timestamp(created, sizeof(created));

  if (ctr_make(o->root, o->id, &l.c, err) < 0 || lc_fill_paths(&l, err) < 0)
    return -1;
  if (log_path == NULL && (log_path = ctr_path(l.c, "container.log")) == NULL)
    return oci_error_set(err, ENOMEM, "path");

  struct monitor_launch ml = {
      .self_path = o->self_path,
      .rt = &l.rt,
      .id = o->id,
      .bundle = bundle,
      .state_dir = l.c->dir,
      .log_path = log_path,
      .log_format = log_format,
      .pid_file = pid_file,
      .terminal = terminal,
      .run_mode = o->run_mode,
      .create_timeout = CREATE_TIMEOUT_S,
  };
  /* ^C while we wait for the report must not leave a monitor and a
   * half-made dir behind: signals wait, and end the wait, until the
   * container is recorded. */
  sigset_t stop, old;
  sigemptyset(&stop);
  signals_add_stop(&stop);
  sigprocmask(SIG_BLOCK, &stop, &old);
  cleanup_close int sfd = signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
  ml.cancel_fd = sfd;
  struct monitor_report rep;
  int r = monitor_start(&ml, &rep, err);
  /* The monitor may fork to detach: the pid that stays is the one it
   * wrote to monitor.pid, not necessarily the one we started. */
  pid_t mon = ctr_monitor_pid(l.c);
  if (r == 0)
    r = write_initial_state(&l, o, bundle, created, terminal, log_path, log_format, pid_file,
                            mon > 0 ? mon : rep.monitor_pid, err);
  if (r < 0) {
    /* A monitor that reported an error cleans up and exits by itself; one
     * that hangs or lost its report is killed.  Then whatever it left. */
    stop_monitor(rep.monitor_pidfd, rep.monitor_pid, 5000);
    if (mon > 0 && mon != rep.monitor_pid) {
      cleanup_close int mfd = (int)pidfd_open(mon, 0);
      if (ctr_pid_is_monitor_of(mon, l.c->dirfd, NULL))
        stop_monitor(mfd, mon, 1000);
    }
    force_runtime_delete(&l);
    ctr_remove(l.c, NULL);
    if (rep.monitor_pidfd >= 0)
      close(rep.monitor_pidfd);
    /* the signal that stopped us is this error's cause, not a second one */
    struct signalfd_siginfo si;
    while (sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
      ;
    sigprocmask(SIG_SETMASK, &old, NULL);
    return oci_error_prefix(err, "create '%s'", o->id);
  }
  if (rep.monitor_pidfd >= 0)
    close(rep.monitor_pidfd);
  /* a signal that came now is delivered now: the container is complete */
  sigprocmask(SIG_SETMASK, &old, NULL);
  *ret_pid = rep.container_pid;
  *ret = l;
  l = (struct lc){0};
  return 0;
}

static int wait_monitor_gone(struct lc *l, int timeout_ms)
{
  pid_t mon = ctr_monitor_pid(l->c);
  if (mon <= 0)
    return 0;
  cleanup_close int pidfd = (int)pidfd_open(mon, 0);
  if (ctr_pid_is_monitor_of(mon, l->c->dirfd, NULL) == false)
    return 0;
  stop_monitor(pidfd, mon, timeout_ms);
  return 0;
}

int lc_destroy(struct lc *l, bool force, oci_error **err)
{
  const char *id = l->c->id;
  if (l->incomplete) {
    if (!force)
      return oci_error_set(err, 0, "container '%s' is incomplete; use 'oci delete -f %s'", id, id);
    /* What a create killed half-way may have left: its monitor, the
     * runtime's container.  No state.json, so the runtime is unknown:
     * take it from the monitor's command line when there is one. */
    pid_t mon = ctr_monitor_pid(l->c);
    if (mon > 0) {
      cleanup_close int pidfd = (int)pidfd_open(mon, 0);
      stop_monitor(pidfd, mon, 0);
    }
    if (ctr_runtime_has(l->c) && l->rt.path == NULL) {
      /* runc keeps ROOT/ID/state.json, crun ROOT/ID/status */
      cleanup_free char *p = NULL;
      struct stat st;
      bool is_runc = asprintf(&p, "%s/%s/state.json", l->rt_root, id) >= 0 && stat(p, &st) == 0;
      if (rt_resolve(is_runc ? "runc" : "crun", &l->rt, NULL) == 0)
        force_runtime_delete(l);
    }
    return ctr_remove(l->c, err);
  }
  cleanup_free char *status = NULL;
  /* exit.json written and the monitor gone: the container has stopped, and
   * asking the runtime again would cost a whole runtime start. */
  struct ctr_exit ex;
  cleanup_error oci_error *no_exit = NULL;
  if (ctr_read_exit(l->c, &ex, &no_exit) == 1 && ctr_monitor_pid(l->c) == 0)
    status = strdup(ctr_runtime_has(l->c) ? "stopped" : "gone");
  else if (lc_runtime_status(l, &status, NULL, err) < 0) {
    if (!force)
      return -1;
    oci_error_free(err);
    status = strdup("unknown");
  }
  bool live = status == NULL || strcmp(status, "running") == 0 || strcmp(status, "paused") == 0 ||
              strcmp(status, "unknown") == 0;
  if (live && !force)
    return oci_error_set(err, 0, "container '%s' is %s: stop it first, or use 'oci delete -f'", id,
                         status ? status : "running");
  if (status && strcmp(status, "gone") != 0) {
    if (lc_runtime_op(l, force ? RT_OP_DELETE_FORCE : RT_OP_DELETE, err) < 0) {
      if (!force || ctr_runtime_has(l->c))
        return oci_error_prefix(err, "delete '%s'", id);
      oci_error_free(err);
    }
  }
  /* The container is gone; its monitor finishes the log and exit.json
   * and exits.  One that doesn't (stuck, or we are forcing) is killed. */
  wait_monitor_gone(l, force && live ? 3000 : MONITOR_EXIT_WAIT_MS);
  return ctr_remove(l->c, err);
}

static bool same_dir(const char *a, const char *b)
{
  struct stat sa, sb;
  if (a == NULL || b == NULL)
    return false;
  if (strcmp(a, b) == 0)
    return true;
  return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Is this one container live and on BUNDLE? */
static int check_user(const char *root, const char *id, const char *bundle_abs, oci_error **err)
{
  cleanup_lc struct lc l = {0};
  cleanup_error oci_error *e = NULL;
  if (lc_open(root, id, CTR_LOCK_NONE, LC_ALLOW_INCOMPLETE, &l, &e) < 0)
    return 0; /* vanished meanwhile, or unreadable: not a user we can name */
  pid_t mon = ctr_monitor_pid(l.c);
  if (l.incomplete) {
    cleanup_free char *mb = NULL;
    if (mon > 0 && ctr_pid_is_monitor_of(mon, l.c->dirfd, &mb))
      return same_dir(mb, bundle_abs);
    /* Being created and no monitor yet: its bundle is not known.  Saying
     * yes would make every umount fail while any create runs; if this
     * create is on the bundle, its runtime create fails cleanly once the
     * rootfs is gone, and a created container's mounts are caught by
     * bundle_umount's own check of other mount namespaces. */
    return 0;
  }
  if (!same_dir(ctr_state_str(l.c, "bundle"), bundle_abs))
    return 0;
  if (mon > 0)
    return 1;
  cleanup_free char *status = NULL;
  if (lc_runtime_status(&l, &status, NULL, &e) < 0)
    return 1; /* cannot tell: safer to say it is used */
  return strcmp(status, "stopped") != 0 && strcmp(status, "gone") != 0;
}

int container_using_bundle(const char *root, const char *bundle_abs, char **ret_id, oci_error **err)
{
  *ret_id = NULL;
  cleanup_dir DIR *d = opendir(root);
  if (d == NULL) {
    if (errno == ENOENT)
      return 0;
    return oci_error_set(err, errno, "state root '%s'", root);
  }
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (!container_id_is_valid(de->d_name))
      continue;
    int r = check_user(root, de->d_name, bundle_abs, err);
    if (r < 0)
      return -1;
    if (r > 0) {
      *ret_id = strdup(de->d_name);
      return *ret_id ? 1 : oci_error_set(err, ENOMEM, "container ID");
    }
  }
  return 0;
}
