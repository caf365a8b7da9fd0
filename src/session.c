/* SPDX-License-Identifier: Apache-2.0 */
#include "session.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "log-reader.h"
#include "monitor-launch.h"
#include "proto.h"
#include "signals.h"
#include "container-id.h"

#define RUN_MONITOR_EXIT_WAIT_MS 10000

int session_create(const struct container_create_opts *o, oci_error **err)
{
  cleanup_container struct container l = {0};
  pid_t pid;
  if (container_create(o, &l, &pid, err) < 0)
    return -1;
  fprintf(stderr, "Container %s created with PID %ld\n", o->id, (long)pid);
  return 0;
}

int session_simple(const char *root, const char *id, enum rt_op op, oci_error **err)
{
  cleanup_container struct container l = {0};
  if (container_open(root, id, CTR_LOCK_EXCLUSIVE, 0, &l, err) < 0 ||
      container_runtime_op(&l, op, err) < 0)
    return -1;
  return 0;
}

/* A pidfd for the container's init, opened before it is signalled so that a
 * reused pid can never be mistaken for it; -1 when it has already gone. */
static int container_pidfd(const struct container *l)
{
  cleanup_free char *text = ctr_read_file(l->c, "container.pid", NULL);
  char *end = NULL;
  long pid = text ? strtol(text, &end, 10) : 0;
  if (pid <= 1 || end == text)
    return -1;
  return pidfd_open((pid_t)pid, 0);
}

int session_kill(const char *root, const char *id, int signum, int grace_seconds, oci_error **err)
{
  cleanup_container struct container l = {0};
  if (container_open(root, id, CTR_LOCK_NONE, 0, &l, err) < 0)
    return -1;
  if (!ctr_runtime_has(l.c))
    return oci_error_set(err, 0, "container '%s' is not running", id);
  cleanup_close int pidfd = grace_seconds > 0 ? container_pidfd(&l) : -1;
  if (container_kill(&l, signum, err) < 0)
    return -1;
  if (pidfd < 0)
    return 0;
  /* A container init ignores signals it has no handler for (an
   * interactive shell as pid 1 ignores SIGTERM), so a stop that asked for
   * no particular signal ends with SIGKILL, as podman stop does. */
  struct pollfd p = {.fd = pidfd, .events = POLLIN};
  int r;
  do {
    r = poll(&p, 1, grace_seconds * 1000);
  } while (r < 0 && errno == EINTR);
  if (r != 0)
    return 0;
  fprintf(stderr, "oci: kill '%s': still running after %d s, sending SIGKILL\n", id, grace_seconds);
  return container_kill(&l, SIGKILL, err) < 0 ? -1 : 0;
}

int session_update(const char *root, const char *id, const char *resources, oci_error **err)
{
  cleanup_container struct container l = {0};
  if (container_open(root, id, CTR_LOCK_EXCLUSIVE, 0, &l, err) < 0 ||
      container_update(&l, resources, err) < 0)
    return -1;
  return 0;
}

int session_delete(const char *root, const char *id, bool force, oci_error **err)
{
  cleanup_container struct container l = {0};
  if (container_open(root, id, CTR_LOCK_EXCLUSIVE, CONTAINER_ALLOW_INCOMPLETE, &l, err) < 0 ||
      container_destroy(&l, force, err) < 0)
    return -1;
  return 0;
}

static json_t *incomplete_json(const struct container *l)
{
  return json_pack("{s:s, s:s}", "id", l->c->id, "status", l->creating ? "creating" : "incomplete");
}

static int print_json(json_t *j, oci_error **err)
{
  cleanup_free char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "JSON output");
  puts(text);
  return 0;
}

int session_state(const char *root, const char *id, oci_error **err)
{
  cleanup_container struct container l = {0};
  json_auto_t *st = NULL;
  if (container_open(root, id, CTR_LOCK_NONE, CONTAINER_ALLOW_INCOMPLETE, &l, err) < 0)
    return -1;
  if (l.incomplete && !l.creating)
    return oci_error_set(err, 0,
                         "container '%s' is incomplete (its create did not finish); "
                         "'oci delete -f %s' removes it",
                         id, id);
  if (l.incomplete)
    st = incomplete_json(&l);
  else if (container_state_json(&l, &st, err) < 0)
    return -1;
  return print_json(st, err);
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The IDs under ROOT, sorted; NULL-terminated. */
static int list_ids(const char *root, char ***ret, oci_error **err)
{
  cleanup_strv char **ids = calloc(1, sizeof(char *));
  size_t n = 0;
  if (ids == NULL)
    return oci_error_set(err, ENOMEM, "list");
  cleanup_dir DIR *d = opendir(root);
  if (d == NULL && errno != ENOENT)
    return oci_error_set(err, errno, "state root '%s'", root);
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL) {
    if (!container_id_is_valid(de->d_name) || de->d_type == DT_REG || de->d_type == DT_LNK)
      continue;
    char **v = realloc(ids, (n + 2) * sizeof(char *));
    if (v == NULL)
      return oci_error_set(err, ENOMEM, "list");
    ids = v;
    if ((ids[n] = strdup(de->d_name)) == NULL)
      return oci_error_set(err, ENOMEM, "list");
    ids[++n] = NULL;
  }
  qsort(ids, n, sizeof(char *), cmp_str);
  *ret = steal_ptr(&ids);
  return 0;
}

static void print_cell(const char *text, size_t width, bool last)
{
  if (last)
    printf("%s\n", text);
  else
    printf("%-*s", (int)width + 3, text);
}

/* The list columns of one container: ID, PID, STATUS, BUNDLE, CREATED. */
static void row_cells(json_t *st, char *pid, size_t pid_len, const char *cell[5])
{
  snprintf(pid, pid_len, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(st, "pid")));
  cell[0] = json_string_value(json_object_get(st, "id"));
  cell[1] = pid;
  cell[2] = json_string_value(json_object_get(st, "status"));
  cell[3] = json_string_value(json_object_get(st, "bundle"));
  cell[4] = json_string_value(json_object_get(st, "created"));
}

static void print_table(json_t *all)
{
  static const char *const cols[] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED"};
  enum { NCOL = 5 };
  size_t width[NCOL];
  for (int c = 0; c < NCOL; c++)
    width[c] = strlen(cols[c]);
  size_t i;
  json_t *st;
  char pid[24];
  /* like runc list: columns padded to the widest cell plus 3 */
  json_array_foreach(all, i, st)
  {
    const char *cell[NCOL];
    row_cells(st, pid, sizeof(pid), cell);
    for (int c = 0; c < NCOL; c++)
      if (cell[c] && strlen(cell[c]) > width[c])
        width[c] = strlen(cell[c]);
  }
  for (int c = 0; c < NCOL; c++)
    print_cell(cols[c], width[c], c == NCOL - 1);
  json_array_foreach(all, i, st)
  {
    const char *cell[NCOL];
    row_cells(st, pid, sizeof(pid), cell);
    for (int c = 0; c < NCOL; c++)
      print_cell(cell[c] ? cell[c] : "", width[c], c == NCOL - 1);
  }
}

int session_list(const char *root, bool as_json, bool quiet, oci_error **err)
{
  cleanup_strv char **ids = NULL;
  if (list_ids(root, &ids, err) < 0)
    return -1;
  json_auto_t *all = json_array();
  for (char **id = ids; *id; id++) {
    cleanup_container struct container l = {0};
    cleanup_error oci_error *e = NULL;
    json_t *st = NULL;
    if (container_open(root, *id, CTR_LOCK_NONE, CONTAINER_ALLOW_INCOMPLETE, &l, &e) < 0)
      continue; /* deleted meanwhile */
    if (l.incomplete)
      st = incomplete_json(&l);
    else if (container_state_json(&l, &st, &e) < 0)
      st = json_pack("{s:s, s:i, s:s, s:s}", "id", *id, "pid", 0, "status", "unknown", "bundle",
                     ctr_state_str(l.c, "bundle") ?: "");
    if (st)
      json_array_append_new(all, st);
  }
  size_t i;
  json_t *st;
  if (quiet) {
    json_array_foreach(all, i, st)
    {
      puts(json_string_value(json_object_get(st, "id")));
    }
    return 0;
  }
  if (as_json)
    return print_json(all, err) < 0 ? -1 : 0;
  print_table(all);
  return 0;
}

int session_exec(const char *root, const char *id, const struct rt_exec_opts *o, oci_error **err)
{
  cleanup_container struct container l = {0};
  if (o->tty && !o->detach && !isatty(0))
    return oci_error_set(err, 0, "exec -t: stdin is not a terminal (drop -t, or use a terminal)");
  if (container_open(root, id, CTR_LOCK_NONE, 0, &l, err) < 0)
    return -1;
  int r = container_exec(&l, o, err);
  return r < 0 ? -1 : r;
}

/* After the session: the exit record, when the socket could not say. */
static int exit_from_record(const struct container *l, int *ret_status)
{
  struct ctr_exit ex;
  if (ctr_read_exit(l->c, &ex, NULL) == 1 && ex.exit_code >= 0) {
    *ret_status = ex.exit_code;
    return 1;
  }
  return 0;
}

static int attach_result_status(const struct container *l, const char *id,
                                const struct attach_result *res, oci_error **err)
{
  int status;
  switch (res->how) {
  case ATTACH_EXITED: return res->status;
  case ATTACH_DETACHED: fprintf(stderr, "detached from container %s\n", id); return 0;
  case ATTACH_SIGNALLED: return 128 + res->signal;
  case ATTACH_LOST:
    /* No EXIT frame: the monitor dropped this client (it stopped reading
     * for too long) or could not learn the exit status.  Say which; the
     * log still holds every byte of output. */
    if (exit_from_record(l, &status)) {
      fprintf(stderr,
              "oci: attach '%s': disconnected by the monitor before the end of the output; "
              "the full output is in the log ('oci logs %s')\n",
              id, id);
      return status;
    }
    return oci_error_set(err, 0,
                         "attach '%s': the monitor closed the connection without an exit status "
                         "(see 'oci state %s')",
                         id, id);
  default: return oci_error_set(err, 0, "attach '%s': lost", id);
  }
}

int session_attach(const char *root, const char *id, struct attach_opts *o, oci_error **err)
{
  cleanup_container struct container l = {0};
  int status;
  if (container_open(root, id, CTR_LOCK_NONE, 0, &l, err) < 0)
    return -1;
  /* already over: nothing to show, just how it ended */
  if (exit_from_record(&l, &status))
    return status;
  o->forward_pidfd = -1;
  struct attach_result res;
  if (attach_session(l.c->dirfd, id, o, &res, err) < 0) {
    if (exit_from_record(&l, &status)) { /* it ended while we connected */
      oci_error_free(err);
      return status;
    }
    if (ctr_monitor_pid(l.c) <= 0) {
      oci_error_free(err);
      return oci_error_set(err, 0,
                           "attach '%s': its monitor is dead, nobody holds its output; "
                           "'oci delete -f %s' cleans up",
                           id, id);
    }
    return -1;
  }
  return attach_result_status(&l, id, &res, err);
}

static int run_start(void *data, oci_error **err)
{
  struct container *l = data;
  if (container_runtime_op(l, RT_OP_START, err) < 0)
    return -1;
  /* running: other oci commands (kill, exec, state) may act on it now */
  ctr_unlock(l->c);
  return 0;
}

/* Undo a run that failed before its container ran: the container, its
 * monitor, its state dir. */
static void run_cleanup(struct container *l)
{
  cleanup_error oci_error *e = NULL;
  if (ctr_lock(l->c, CTR_LOCK_EXCLUSIVE, &e) == 0)
    container_destroy(l, true, &e);
}

static int run(const struct container_create_opts *co, bool detach, struct attach_opts *ao,
               oci_error **err);

int session_run(const struct container_create_opts *o, bool detach, struct attach_opts *ao,
                oci_error **err)
{
  struct container_create_opts co = *o;
  co.run_mode = !detach;
  /* From here on the signals run forwards wait for the attach session to
   * pass them on (a ^C during the create aborts it: container_create). */
  sigset_t fwd, old;
  sigemptyset(&fwd);
  signals_add_forwarded(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, &old);
  int r = run(&co, detach, ao, err);
  sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}

static int run(const struct container_create_opts *co, bool detach, struct attach_opts *ao,
               oci_error **err)
{
  const struct container_create_opts *o = co;
  cleanup_container struct container l = {0};
  pid_t pid;
  if (container_create(co, &l, &pid, err) < 0)
    return -1;
  if (detach) {
    if (container_runtime_op(&l, RT_OP_START, err) < 0) {
      run_cleanup(&l);
      return -1;
    }
    fprintf(stderr, "Container %s created with PID %ld\n", o->id, (long)pid);
    return 0;
  }
  cleanup_close int pidfd = (int)pidfd_open(pid, 0);
  pid_t mon = ctr_monitor_pid(l.c);
  cleanup_close int monfd = mon > 0 ? (int)pidfd_open(mon, 0) : -1;
  ao->connected = run_start;
  ao->data = &l;
  ao->forward_pidfd = pidfd;
  struct attach_result res;
  if (attach_session(l.c->dirfd, o->id, ao, &res, err) < 0) {
    run_cleanup(&l);
    return -1;
  }
  /* In run mode the monitor removes the container after its exit: wait
   * for that, so the ID is free again when we return. */
  if (res.how == ATTACH_EXITED && mon > 0)
    monitor_wait_exit(monfd, mon, RUN_MONITOR_EXIT_WAIT_MS);
  int r = attach_result_status(&l, o->id, &res, err);
  return r < 0 ? -1 : r;
}

static bool logs_finished(void *data)
{
  struct container *l = data;
  struct stat a, b;
  if (faccessat(l->c->dirfd, "exit.json", F_OK, AT_SYMLINK_NOFOLLOW) == 0)
    return true;
  /* deleted (a run-mode container is, right after its exit) */
  if (fstat(l->c->dirfd, &a) < 0 || fstatat(l->c->rootfd, l->c->id, &b, AT_SYMLINK_NOFOLLOW) < 0 ||
      a.st_ino != b.st_ino)
    return true;
  /* a dead monitor writes nothing more */
  return ctr_monitor_pid(l->c) <= 0;
}

int session_logs(const char *root, const char *id, bool follow, long tail, oci_error **err)
{
  cleanup_container struct container l = {0};
  if (container_open(root, id, CTR_LOCK_NONE, 0, &l, err) < 0)
    return -1;
  const char *path = ctr_state_str(l.c, "logPath");
  const char *format = ctr_state_str(l.c, "logFormat");
  if (path == NULL)
    return oci_error_set(err, 0, "container '%s' has no log", id);
  enum log_format fmt = format && strcmp(format, "json") == 0 ? LOG_JSON : LOG_KUBERNETES;
  struct log_follow f = {.finished = logs_finished, .data = &l};
  if (log_print(path, fmt, tail, follow ? &f : NULL, err) < 0)
    return oci_error_prefix(err, "logs '%s'", id);
  return 0;
}
