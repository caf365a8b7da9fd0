/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container lifecycle operations, the layer under the verb files: a
 * container's state dir (container-state.h) plus its runtime (runtime.h)
 * plus its monitor (monitor-launch.h).
 */
#ifndef SIFOCI_LIFECYCLE_H
#define SIFOCI_LIFECYCLE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "state-dir.h"
#include "error.h"
#include "runtime.h"

struct lc {
  struct ctr *c;
  struct rt_runtime rt; /* the runtime recorded at create */
  char *rt_root;        /* ROOT/ID/runtime */
  char *rt_log;         /* ROOT/ID/runtime.log */
  bool incomplete;      /* no state.json (yet) */
  bool creating;        /* ... because a create holds the lock */
};

enum {
  LC_ALLOW_INCOMPLETE = 1 << 0, /* open a dir without state.json (state, delete -f) */
};

int lc_open(const char *root, const char *id, enum ctr_lock lock, int flags, struct lc *ret,
            oci_error **err);
void lc_close(struct lc *l);
static inline void lc_closep(struct lc *l)
{
  lc_close(l);
}
#define cleanup_lc __attribute__((cleanup(lc_closep)))

struct lc_create_opts {
  const char *root, *id;
  const char *runtime; /* --runtime spec */
  const char *self_path;
  const char *bundle;
  const char *pid_file, *log_path, *log_format; /* may be NULL */
  bool run_mode;
};

/* Make the state dir, start the monitor, wait for its report, write
 * state.json.  On success ret is open and exclusively locked.  On failure
 * nothing is left: no dir, no monitor, no runtime container. */
/* BUNDLE/config.json, parsed (a JSON object), or NULL with *err set. */
#define LC_CONFIG_JSON_MAX (4 << 20)
json_t *lc_load_bundle_config(const char *bundle, oci_error **err);

int lc_create(const struct lc_create_opts *o, struct lc *ret, pid_t *ret_pid, oci_error **err);

/* start / pause / resume / delete through the runtime; the error is the
 * runtime's own message. */
int lc_runtime_op(struct lc *l, enum rt_op op, oci_error **err);
int lc_kill(struct lc *l, int signum, oci_error **err);
/* RESOURCES: a file, or "-" for our stdin */
int lc_update(struct lc *l, const char *resources, oci_error **err);
/* Returns the exit status `oci exec` should use (see rt_exec_status). */
int lc_exec(struct lc *l, const struct rt_exec_opts *o, oci_error **err);

/* The runtime's status of the container: "created", "running", "paused",
 * "stopped"; "gone" when the runtime no longer has it. */
int lc_runtime_status(struct lc *l, char **ret_status, json_t **ret_state, oci_error **err);

/* `oci state`: the runtime's state plus attachSocket, monitorPid, monitor,
 * logPath and, once stopped, exitCode and finishedAt. */
int lc_state_json(struct lc *l, json_t **ret, oci_error **err);

/* Remove the container: runtime delete, monitor stopped, dir removed.
 * Without FORCE a running or paused container is refused.  L must be
 * exclusively locked. */
int lc_destroy(struct lc *l, bool force, oci_error **err);

/* For `oci umount`: does a live container use BUNDLE_ABS?  Live means its
 * runtime status is not "stopped", or its monitor is alive, or it is being
 * created.  Returns 1 and *ret_id (allocated), 0 when none does, -1 on
 * error. */
int container_using_bundle(const char *root, const char *bundle_abs, char **ret_id,
                           oci_error **err);

#endif
