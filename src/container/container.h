/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A container, the object under the verbs: its state dir (state-dir.h), the
 * runtime recorded at its create (runtime.h) and its monitor
 * (monitor-launch.h).  container.c opens it and runs the runtime on it,
 * create.c brings one up, delete.c takes one away.  Nothing here prints or
 * chooses an exit status: errors carry a kind (error.h).
 */
#ifndef SIFOCI_CONTAINER_H
#define SIFOCI_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"
#include "runtime.h"
#include "state-dir.h"

struct container {
  struct ctr *c;
  struct rt_runtime rt; /* the runtime recorded at create */
  char *rt_root;        /* ROOT/ID/runtime */
  char *rt_log;         /* ROOT/ID/runtime.log */
  bool incomplete;      /* no state.json (yet) */
  bool creating;        /* ... because a create holds the lock */
  bool damaged;         /* ... because it cannot be read: c->damaged says why */
  /* container_destroy calls it once the container and its monitor are
   * gone, before the state dir is removed: what a caller made in the dir
   * (`oci run IMAGE`'s bundle, src/ephemeral.h) goes first.  NULL: none. */
  int (*before_remove)(const struct ctr *c, oci_error **err);
};

enum {
  CONTAINER_ALLOW_INCOMPLETE = 1 << 0, /* open a dir without state.json (state, delete -f) */
  CONTAINER_ALLOW_DAMAGED = 1 << 1,    /* ... or with a state.json we cannot read (list, delete) */
};

int container_open(const char *root, const char *id, enum ctr_lock lock, int flags,
                   struct container *ret, oci_error **err);
void container_close(struct container *ct);
static inline void container_closep(struct container *ct)
{
  container_close(ct);
}
#define cleanup_container __attribute__((cleanup(container_closep)))

/* CT takes state dir C (container_close frees it, after a failure too) and
 * the runtime's paths under it; CT->rt is left as it is. */
int container_adopt(struct container *ct, struct ctr *c, oci_error **err);

/* BUNDLE/config.json, parsed (a JSON object), or NULL with *err set. */
#define CONTAINER_CONFIG_JSON_MAX (4 << 20)
json_t *container_load_bundle_config(const char *bundle, oci_error **err);

/* start / pause / resume / delete through the runtime; the error is the
 * runtime's own message. */
int container_runtime_op(struct container *ct, enum rt_op op, oci_error **err);
int container_kill(struct container *ct, int signum, oci_error **err);
/* RESOURCES: a file, or "-" for our stdin */
int container_update(struct container *ct, const char *resources, oci_error **err);
/* Returns the exit status `oci exec` should use (see rt_exec_status). */
int container_exec(struct container *ct, const struct rt_exec_opts *o, oci_error **err);
/* Best effort: the runtime forgets the container, killing what is left. */
void container_force_runtime_delete(struct container *ct);

/* The runtime's status of the container: "created", "running", "paused",
 * "stopped"; "gone" when the runtime no longer has it. */
int container_runtime_status(struct container *ct, char **ret_status, json_t **ret_state,
                             oci_error **err);

/* `oci state`: the runtime's state plus attachSocket, monitorPid, monitor,
 * logPath and, once stopped, exitCode and finishedAt. */
int container_state_json(struct container *ct, json_t **ret, oci_error **err);

/* What `oci state` and `oci list` show for a container without
 * state.json: its ID and "creating" or "incomplete"; for a damaged one
 * "damaged" and the reason in "error". */
json_t *container_incomplete_json(const struct container *ct);

/* create.c */
/* A bundle made for the container in its state dir (`oci run IMAGE`):
 * MAKE once the dir exists, setting *RET_BUNDLE (allocated) and
 * *RET_MONITOR_CLEANUP (a NULL-terminated argv, allocated, or NULL): what
 * the monitor runs in run mode before it removes the dir.  REMOVE undoes
 * it when the create fails, and is the container's before_remove. */
struct container_bundle_maker {
  int (*make)(struct ctr *c, void *data, char **ret_bundle, char ***ret_monitor_cleanup,
              oci_error **err);
  int (*remove)(const struct ctr *c, oci_error **err);
  void *data;
};

struct container_create_opts {
  const char *root, *id;
  const char *runtime; /* --runtime spec */
  const char *self_path;
  const char *bundle;
  const char *pid_file, *log_path, *log_format; /* may be NULL */
  const char *log_size_max, *log_rotate;        /* as given, may be NULL */
  bool run_mode;
  bool without_terminal; /* run it on pipes though its config asks for a terminal */
  /* `oci run`: the runtime creates and starts in one call (run --detach) */
  bool start;
  /* The foreground `oci run`: the monitor's end of a connected attach
   * socket pair (it becomes a held client before the container exists),
   * and the terminal size for process.consoleSize (rows 0: none). */
  bool with_attach_fd;
  int attach_fd;
  int attach_out_fd[2]; /* with it: our stdout / stderr for the monitor, or -1 */
  unsigned short console_rows, console_cols;
  /* bundle NULL: the bundle is made in the state dir by this */
  const struct container_bundle_maker *maker;
};

/* Make the state dir, start the monitor, wait for its report, write
 * state.json.  On success ret is open and exclusively locked.  On failure
 * nothing is left: no dir, no monitor, no runtime container. */
int container_create(const struct container_create_opts *o, struct container *ret, pid_t *ret_pid,
                     oci_error **err);

/* delete.c */
/* delete -f of an ID whose state dir ROOT/ID is gone: end what it left
 * running (its monitor, found by --state-dir; its processes and cgroup).
 * 1 with *ret_note saying what was done, 0 when nothing was found (the
 * caller's "does not exist" stands), -1 on error. */
int container_destroy_orphan(const char *root, const char *id, char **ret_note, oci_error **err);

/* Remove the container: runtime delete, monitor stopped, dir removed.
 * Without FORCE a running or paused container is refused.  CT must be
 * exclusively locked. */
int container_destroy(struct container *ct, bool force, oci_error **err);

/* The container has exited (exit.json) and its monitor is still cleaning
 * up (the runtime's delete; in run mode the state dir): wait for it, up
 * to CONTAINER_CLEANUP_WAIT_MS.  0 when there is nothing to wait for or it
 * finished, 1 when it did not exit and it is live, -1 with *err past the
 * bound. */
#define CONTAINER_CLEANUP_WAIT_MS 15000
int container_wait_cleanup(const struct ctr *c, oci_error **err);

/* For `oci umount`: does a live container use BUNDLE_ABS?  Live means its
 * runtime status is not "stopped", or its monitor is alive, or it is being
 * created.  Returns 1 and *ret_id (allocated), 0 when none does, -1 on
 * error. */
int container_using_bundle(const char *root, const char *bundle_abs, char **ret_id,
                           oci_error **err);

#endif
