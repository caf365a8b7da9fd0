/* SPDX-License-Identifier: Apache-2.0 */
/* Bringing a container up: its state dir, its monitor (which runs the
 * runtime's create), the monitor's report, state.json.  Undone entirely
 * when any of it fails. */
#include <errno.h>
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
#include "container.h"
#include "monitor-launch.h"
#include "own-bundle.h"
#include "signals.h"
#include "timefmt.h"

#define CREATE_TIMEOUT_S 60

static json_t *read_bundle_config(const char *bundle, bool *ret_terminal, oci_error **err)
{
  json_auto_t *config = container_load_bundle_config(bundle, err);
  if (config == NULL)
    return NULL;
  json_t *process = json_object_get(config, "process");
  if (!json_is_object(process)) {
    oci_error_set(err, 0, "bundle '%s': config.json has no process", bundle);
    return NULL;
  }
  *ret_terminal = json_is_true(json_object_get(process, "terminal"));
  return steal_ptr(&config);
}

/* BUNDLE's config (its realpath in RET_ABS), with the terminal the
 * container gets. */
static json_t *load_config(const struct container_create_opts *o, const char *bundle,
                           char ret_abs[PATH_MAX], bool *ret_terminal, oci_error **err)
{
  if (realpath(bundle, ret_abs) == NULL) {
    oci_error_set(err, errno, "bundle '%s'", bundle);
    return NULL;
  }
  json_auto_t *config = read_bundle_config(ret_abs, ret_terminal, err);
  if (config == NULL)
    return NULL;
  if (o->without_terminal && *ret_terminal) {
    *ret_terminal = false;
    json_object_set_new(json_object_get(config, "process"), "terminal", json_false());
  }
  return steal_ptr(&config);
}

/* The state dir goes, with what was made in it for the container. */
static void remove_dir(struct container *ct)
{
  if (ct->before_remove != NULL)
    (void)ct->before_remove(ct->c, NULL);
  ctr_remove(ct->c, NULL);
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

static int write_initial_state(struct container *ct, const struct container_create_opts *o,
                               const char *bundle, const char *created, bool terminal,
                               const char *log_path, const char *log_format, const char *pid_file,
                               pid_t monitor_pid, oci_error **err)
{
  json_auto_t *st = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:I}", "id", o->id,
                              "bundle", bundle, "created", created, "runtime", ct->rt.name,
                              "runtimePath", ct->rt.path, "terminal", terminal, "logPath", log_path,
                              "logFormat", log_format, "monitorPid", (json_int_t)monitor_pid);
  if (st == NULL)
    return oci_error_set(err, ENOMEM, "state.json");
  json_object_set_new(st, "pidFile", pid_file ? json_string(pid_file) : json_null());
  json_object_set_new(st, "runMode", json_boolean(o->run_mode));
  return ctr_write_state(ct->c, st, err);
}

/* Block the stop signals (signals.h); a signalfd that reads them, or -1. */
static int stop_signals_hold(sigset_t *ret_old)
{
  sigset_t stop;
  sigemptyset(&stop);
  signals_add_stop(&stop);
  sigprocmask(SIG_BLOCK, &stop, ret_old);
  return signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Unblock them again, dropping those SFD has queued when DROP. */
static void stop_signals_release(int sfd, const sigset_t *old, bool drop)
{
  struct signalfd_siginfo si;
  while (drop && sfd >= 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
    ;
  sigprocmask(SIG_SETMASK, old, NULL);
}

/* Undo a create that failed after its state dir was made.  A monitor that
 * reported an error cleans up and exits by itself; one that hangs or lost
 * its report is killed, and so is the one that stayed after a detach fork
 * (MON).  Then whatever they left: the runtime's container, the dir. */
static void create_abort(struct container *ct, const struct monitor_report *rep, pid_t mon)
{
  monitor_stop(rep->monitor_pidfd, rep->monitor_pid, 5000);
  if (mon > 0 && mon != rep->monitor_pid) {
    cleanup_close int mfd = (int)pidfd_open(mon, 0);
    if (ctr_pid_is_monitor_of(mon, ct->c->dirfd, NULL))
      monitor_stop(mfd, mon, 1000);
  }
  container_force_runtime_delete(ct);
  remove_dir(ct);
}

static const char *file_type_name(mode_t mode)
{
  switch (mode & S_IFMT) {
  case S_IFIFO: return "a FIFO";
  case S_IFDIR: return "a directory";
  case S_IFCHR: return "a character device";
  case S_IFBLK: return "a block device";
  case S_IFSOCK: return "a socket";
  default: return "not a regular file";
  }
}

/* An existing --log-path must be a regular file: the monitor's open of a
 * FIFO blocks until a reader comes, a directory or a device cannot hold
 * the log.  Checked before anything is made, so a refusal leaves nothing.
 * stat() follows a symlink, as the open would, and never blocks. */
static int check_log_path(const char *path, oci_error **err)
{
  struct stat st;
  if (stat(path, &st) < 0) {
    if (errno == ENOENT)
      return 0; /* the monitor creates it */
    return oci_error_set(err, errno, "--log-path '%s'", path);
  }
  if (!S_ISREG(st.st_mode))
    return oci_error_set(err, 0, "--log-path '%s' is %s; the log must be a regular file", path,
                         file_type_name(st.st_mode));
  return 0;
}

/* The same ID's last container has exited and its monitor is still
 * removing it (`oci run` right after `oci run`): wait for that, bounded,
 * instead of failing with "already exists". */
static int wait_previous(const struct container_create_opts *o, oci_error **err)
{
  cleanup_ctr struct ctr *prev = NULL;
  cleanup_error oci_error *none = NULL;
  if (ctr_open(o->root, o->id, CTR_LOCK_NONE, &prev, &none) < 0)
    return 0; /* nothing there (or nothing we can read: ctr_make says) */
  return container_wait_cleanup(prev, err) < 0 ? -1 : 0;
}

#define LOG_ROTATE_MAX 1000

/* --log-size-max BYTES and --log-rotate N: decimal, positive. */
static int parse_log_limits(const struct container_create_opts *o, unsigned long long *ret_size,
                            unsigned *ret_rotate, oci_error **err)
{
  *ret_size = 0;
  *ret_rotate = 0;
  char *end;
  if (o->log_size_max) {
    errno = 0;
    unsigned long long v = strtoull(o->log_size_max, &end, 10);
    if (errno || end == o->log_size_max || *end || o->log_size_max[0] == '-' || v == 0 ||
        v > INT64_MAX)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--log-size-max '%s': give a number of bytes above 0",
                                o->log_size_max);
    *ret_size = v;
  }
  if (o->log_rotate) {
    errno = 0;
    unsigned long v = strtoul(o->log_rotate, &end, 10);
    if (errno || end == o->log_rotate || *end || o->log_rotate[0] == '-' || v == 0 ||
        v > LOG_ROTATE_MAX)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--log-rotate '%s': give 1 to %d",
                                o->log_rotate, LOG_ROTATE_MAX);
    if (o->log_size_max == NULL)
      return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                                "--log-rotate needs --log-size-max (the size to rotate at)");
    *ret_rotate = (unsigned)v;
  }
  return 0;
}

int container_create(const struct container_create_opts *o, struct container *ret, pid_t *ret_pid,
                     oci_error **err)
{
  *ret = (struct container){0};
  const char *log_format = o->log_format ? o->log_format : "kubernetes";
  if (strcmp(log_format, "kubernetes") != 0 && strcmp(log_format, "json") != 0)
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--log-format '%s': use kubernetes or json",
                              log_format);
  unsigned long long log_size_max;
  unsigned log_rotate;
  if (parse_log_limits(o, &log_size_max, &log_rotate, err) < 0)
    return -1;
  cleanup_container struct container ct = {0};
  if (rt_resolve(o->runtime, &ct.rt, err) < 0)
    return -1;
  /* "" would be made absolute to the cwd, a directory */
  if (o->log_path != NULL && o->log_path[0] == '\0')
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0, "--log-path must not be empty");
  char bundle[PATH_MAX];
  bool terminal = false;
  json_auto_t *config = NULL;
  /* a bundle of the user's is checked before anything is made; one made
   * for the container (o->maker) once its state dir exists */
  if (o->maker == NULL && (config = load_config(o, o->bundle, bundle, &terminal, err)) == NULL)
    return -1;
  cleanup_free char *pid_file = absolute(o->pid_file);
  cleanup_free char *log_path = absolute(o->log_path);
  if ((o->pid_file && !pid_file) || (o->log_path && !log_path))
    return oci_error_set(err, errno ? errno : ENOMEM, "path");
  if (log_path != NULL && check_log_path(log_path, err) < 0)
    return oci_error_prefix(err, "create '%s'", o->id);
  char created[TIMEFMT_RFC3339_SIZE];
  timefmt_now(created);

  struct ctr *c = NULL;
  if (wait_previous(o, err) < 0)
    return oci_error_prefix(err, "create '%s'", o->id);
  if (ctr_make(o->root, o->id, &c, err) < 0 || container_adopt(&ct, c, err) < 0)
    return -1;
  cleanup_strv char **cleanup_cmd = NULL;
  if (o->maker != NULL) {
    ct.before_remove = o->maker->remove;
    cleanup_free char *made = NULL;
    if (o->maker->make(ct.c, o->maker->data, &made, &cleanup_cmd, err) < 0 ||
        (config = load_config(o, made, bundle, &terminal, err)) == NULL) {
      remove_dir(&ct);
      return oci_error_prefix(err, "create '%s'", o->id);
    }
  }
  if (log_path == NULL && (log_path = ctr_path(ct.c, "container.log")) == NULL) {
    remove_dir(&ct);
    return oci_error_set(err, ENOMEM, "path");
  }
  /* the runtime runs the container from a bundle of its own (own-bundle.h) */
  json_auto_t *own = own_bundle_config(config, bundle, ct.c->root, o->id, err);
  cleanup_free char *own_dir = ctr_path(ct.c, OWN_BUNDLE_DIR);
  if (own == NULL || own_dir == NULL) {
    remove_dir(&ct);
    if (own == NULL)
      return oci_error_prefix(err, "create '%s'", o->id);
    return oci_error_set(err, ENOMEM, "create '%s'", o->id);
  }
  /* `run` starts the process before anyone could resize its pty: the
   * runtime sizes it from the config (runc and crun both read this) */
  if (terminal && o->console_rows > 0 && o->console_cols > 0)
    json_object_set_new(
        json_object_get(own, "process"), "consoleSize",
        json_pack("{s:i, s:i}", "height", (int)o->console_rows, "width", (int)o->console_cols));
  if (own_bundle_write(ct.c, own, err) < 0) {
    remove_dir(&ct);
    return oci_error_prefix(err, "create '%s'", o->id);
  }

  struct monitor_launch ml = {
      .self_path = o->self_path,
      .rt = &ct.rt,
      .id = o->id,
      .bundle = own_dir,
      .state_dir = ct.c->dir,
      .log_path = log_path,
      .log_format = log_format,
      .log_size_max = log_size_max,
      .log_rotate = log_rotate,
      .pid_file = pid_file,
      .terminal = terminal,
      .run_mode = o->run_mode,
      .start = o->start,
      .attach_fd = o->with_attach_fd ? o->attach_fd : -1,
      .attach_out_fd = {o->with_attach_fd ? o->attach_out_fd[0] : -1,
                        o->with_attach_fd ? o->attach_out_fd[1] : -1},
      .create_timeout = CREATE_TIMEOUT_S,
      .cleanup_cmd = cleanup_cmd,
  };
  /* ^C while we wait for the report must not leave a monitor and a
   * half-made dir behind: signals wait, and end the wait, until the
   * container is recorded. */
  sigset_t old;
  cleanup_close int sfd = stop_signals_hold(&old);
  ml.cancel_fd = sfd;
  struct monitor_report rep;
  int r = monitor_start(&ml, &rep, err);
  /* The monitor may fork to detach: the pid that stays is the one it
   * wrote to monitor.pid, not necessarily the one we started. */
  pid_t mon = ctr_monitor_pid(ct.c);
  if (r == 0)
    r = write_initial_state(&ct, o, bundle, created, terminal, log_path, log_format, pid_file,
                            mon > 0 ? mon : rep.monitor_pid, err);
  if (r < 0)
    create_abort(&ct, &rep, mon);
  if (rep.monitor_pidfd >= 0)
    close(rep.monitor_pidfd);
  /* failed: the signal that stopped us is this error's cause, not a second
   * one.  Done: a signal that came now is delivered now, the container is
   * complete. */
  stop_signals_release(sfd, &old, r < 0);
  if (r < 0)
    return oci_error_prefix(err, "create '%s'", o->id);
  *ret_pid = rep.container_pid;
  *ret = ct;
  ct = (struct container){0};
  return 0;
}
