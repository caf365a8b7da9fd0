/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One container's state directory, ROOT/ID (layout: monitor/README.md).
 * Every file under it is reached with openat(O_NOFOLLOW) from the dir fd;
 * IDs are validated before they touch a path.  Lifecycle calls serialize
 * with flock() on the dir fd, so no lock outlives its holder.
 */
#ifndef SIFOCI_CONTAINER_STATE_H
#define SIFOCI_CONTAINER_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

struct ctr {
  char *root; /* ROOT, canonical */
  char *id;
  char *dir; /* ROOT/ID */
  int rootfd;
  int dirfd;
  json_t *state; /* state.json, or NULL while the create is in progress */
  char *damaged; /* why state.json could not be read (state is NULL), or NULL */
};

enum ctr_lock {
  CTR_LOCK_NONE,
  CTR_LOCK_SHARED,
  CTR_LOCK_EXCLUSIVE,
};

struct ctr_exit {
  int exit_code; /* -1: unknown, see error */
  int signal;
  char finished_at[64];
  char error[160];                    /* why the status is unknown, "" otherwise */
  int oom_killed;                     /* the monitor's post-mortem: 1, 0, -1 unknown */
  long long memory_peak, cpu_time_ns; /* -1 unknown */
};

/* The default state root: /run/sifoci for root; for anyone else
 * $XDG_RUNTIME_DIR/sifoci, or /tmp/sifoci-UID when that is unset.  A
 * non-root user's root is checked before use (theirs, 0700, no symlink). */
const char *ctr_default_root(void);

/* Root given a state root that an ordinary user owns (Slurm runs Query,
 * Kill and Delete as root in the job user's root) becomes that user before
 * touching it: every file there is the user's to write (the runtime's
 * state.json names the pid to signal and the cgroups to empty), so root
 * acting as root would let the user aim root's signals and removals
 * anywhere.  Refused (-1 with *err): a symbolic link to a user's
 * directory, a path through a symbolic link, or a directory above it that
 * anyone but root and the owner can change.  Anyone else, root's own or a
 * missing ROOT: 0, nothing done. */
int ctr_root_act_as_owner(const char *root, oci_error **err);

/* Open an existing container ("container 'x' does not exist" otherwise) and
 * load its state.json when there is one.  A state.json that cannot be read
 * or parsed is no error here: c->damaged says why, for the caller to
 * refuse, show or clean up. */
int ctr_open(const char *root, const char *id, enum ctr_lock lock, struct ctr **ret,
             oci_error **err);
/* Make ROOT (0700, with parents) and ROOT/ID (0700, "already exists" when it
 * does), exclusively locked. */
int ctr_make(const char *root, const char *id, struct ctr **ret, oci_error **err);
void ctr_free(struct ctr *c);
static inline void ctr_freep(struct ctr **c)
{
  if (*c)
    ctr_free(*c);
}
#define cleanup_ctr __attribute__((cleanup(ctr_freep)))

/* ROOT/ID/bundle: the bundle directory the runtime is given, with the
 * config the container runs with (own-bundle.h) */
#define OWN_BUNDLE_DIR "bundle"

/* ROOT/ID/NAME, allocated (NULL on OOM). */
char *ctr_path(const struct ctr *c, const char *name);
/* Is someone (a create in progress) holding the lock?  Only meaningful when
 * we don't hold it ourselves. */
bool ctr_is_locked(const struct ctr *c);
int ctr_lock(struct ctr *c, enum ctr_lock lock, oci_error **err);
int ctr_unlock(struct ctr *c);

int ctr_write_state(struct ctr *c, json_t *state, oci_error **err);
/* string fields of state.json; NULL when absent */
const char *ctr_state_str(const struct ctr *c, const char *key);

/* exit.json: 1 and *ret filled, 0 when there is none yet, -1 on error. */
int ctr_read_exit(const struct ctr *c, struct ctr_exit *ret, oci_error **err);
/* The monitor's pid when it is alive and is this container's monitor
 * (its --state-dir is our dir), else 0. */
pid_t ctr_monitor_pid(const struct ctr *c);
/* Read a small file of the state dir (no symlinks, at most 1 MiB): 0 with a
 * NUL-terminated copy in *ret_text, 1 when there is none, -1 on error. */
int ctr_read_file(const struct ctr *c, const char *name, char **ret_text, size_t *ret_len,
                  oci_error **err);
/* A pid file of the state dir (container.pid, monitor.pid): the pid, or 0
 * when there is none or it does not hold one. */
pid_t ctr_read_pid(const struct ctr *c, const char *name);
/* A foreground `oci run`'s container after its end: the exit recorded and
 * its `oci run` returned (ctr_note_run_returned) or gone.  Its monitor is
 * deleting it (the runtime's container, then the state dir), or died
 * doing so (the dir stays, stopped, for `oci delete`).  To `oci state`
 * and `oci list` it is gone already while that monitor lives. */
bool ctr_run_is_leaving(const struct ctr *c);
/* The foreground `oci run` has the exit status and returns (best effort). */
void ctr_note_run_returned(const struct ctr *c);
/* "container 'ID' does not exist": -1, *ERR set. */
int ctr_not_found(oci_error **err, const char *id);
/* Is ROOT/ID no longer C's directory (removed, or renamed away)? */
bool ctr_is_removed(const struct ctr *c);
/* Does ROOT/ID/runtime/ID exist, i.e. does the runtime have the container? */
bool ctr_runtime_has(const struct ctr *c);

/* rm -rf ROOT/ID, never following a symlink; ENOENT is success. */
int ctr_remove(struct ctr *c, oci_error **err);

/* A pid is a live oci-monitor whose --state-dir is DIRFD's directory? */
bool ctr_pid_is_monitor_of(pid_t pid, int dirfd, char **ret_bundle);
/* The live oci-monitors whose --state-dir reads STATE_DIR, compared as text
 * (the directory may be gone): up to MAX pids in PIDS, their count. */
int ctr_find_monitors(const char *state_dir, pid_t *pids, int max);

#endif
