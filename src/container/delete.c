/* SPDX-License-Identifier: Apache-2.0 */
/* Taking a container away (runtime delete, monitor stopped, state dir
 * removed), and who still uses a bundle. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup-end.h"
#include "cleanup.h"
#include "own-bundle.h"
#include "container-id.h"
#include "container.h"
#include "fs.h"
#include "monitor-launch.h"

#define MONITOR_EXIT_WAIT_MS 10000

static int wait_monitor_gone(struct container *ct, int timeout_ms)
{
  pid_t mon = ctr_monitor_pid(ct->c);
  if (mon <= 0)
    return 0;
  cleanup_close int pidfd = (int)pidfd_open(mon, 0);
  if (ctr_pid_is_monitor_of(mon, ct->c->dirfd, NULL) == false)
    return 0;
  monitor_stop(pidfd, mon, timeout_ms);
  return 0;
}

int container_wait_cleanup(const struct ctr *c, oci_error **err)
{
  struct ctr_exit ex;
  cleanup_error oci_error *no_exit = NULL;
  pid_t mon = ctr_monitor_pid(c);
  if (mon <= 0)
    return 0;
  if (ctr_read_exit(c, &ex, &no_exit) != 1)
    return 1; /* still running */
  cleanup_close int pidfd = (int)pidfd_open(mon, 0);
  if (pidfd < 0 || monitor_wait_exit(pidfd, mon, CONTAINER_CLEANUP_WAIT_MS))
    return 0;
  return oci_error_set(err, 0,
                       "container '%s' exited, but its monitor (pid %ld) has not finished "
                       "cleaning up after %d s",
                       c->id, (long)mon, CONTAINER_CLEANUP_WAIT_MS / 1000);
}

/* SIGKILL the children of monitor PID: the container's init is one (the
 * monitor is its subreaper) when its cgroup is not where we look. */
static int kill_children(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", (long)pid, (long)pid);
  cleanup_fclose FILE *f = fopen(path, "re");
  int n = 0;
  long child;
  while (f != NULL && fscanf(f, "%ld", &child) == 1)
    if (child > 1 && child <= INT_MAX && kill((pid_t)child, SIGKILL) == 0)
      n++;
  return n;
}

/* End the processes of C's cgroup and remove it, after the runtime could
 * not (its state gone or damaged).  Only the cgroup named by us
 * (own-bundle.c): one the user set in config.json may be shared with
 * others, and is the runtime's to clean. */
static void end_cgroup(const struct ctr *c)
{
  cleanup_free char *cg = own_bundle_cgroup_path(c->root, c->id);
  struct cgroup_end_result r;
  cgroup_end(cg, &r);
}

int container_destroy(struct container *ct, bool force, oci_error **err)
{
  const char *id = ct->c->id;
  if (ct->incomplete) {
    if (!force && ct->damaged)
      return oci_error_set(err, 0, "container '%s' is damaged (%s); use 'oci delete -f %s'", id,
                           ct->c->damaged, id);
    if (!force)
      return oci_error_set(err, 0, "container '%s' is incomplete; use 'oci delete -f %s'", id, id);
    /* What a create killed half-way may have left: its monitor, the
     * runtime's container.  No state.json, so the runtime is unknown:
     * take it from the monitor's command line when there is one. */
    pid_t mon = ctr_monitor_pid(ct->c);
    if (mon > 0) {
      cleanup_close int pidfd = (int)pidfd_open(mon, 0);
      monitor_stop(pidfd, mon, 0);
    }
    if (ctr_runtime_has(ct->c) && ct->rt.path == NULL) {
      /* runc keeps ROOT/ID/state.json, crun ROOT/ID/status */
      cleanup_free char *p = NULL;
      struct stat st;
      bool is_runc = asprintf(&p, "%s/%s/state.json", ct->rt_root, id) >= 0 && stat(p, &st) == 0;
      if (rt_resolve(is_runc ? "runc" : "crun", &ct->rt, NULL) == 0)
        container_force_runtime_delete(ct);
    }
    /* a damaged state may hide a runtime state we could not use */
    end_cgroup(ct->c);
    if (ct->before_remove && ct->before_remove(ct->c, err) < 0)
      return oci_error_prefix(err, "delete '%s'", id);
    return ctr_remove(ct->c, err);
  }
  cleanup_free char *status = NULL;
  /* exit.json written and the monitor gone: the container has stopped, and
   * asking the runtime again would cost a whole runtime start. */
  struct ctr_exit ex;
  cleanup_error oci_error *no_exit = NULL;
  /* the monitor deletes the runtime's container after writing exit.json:
   * let it finish rather than race it (bounded) */
  if (container_wait_cleanup(ct->c, err) < 0 && !force)
    return -1;
  oci_error_free(err);
  if (ctr_is_removed(ct->c)) /* a run-mode monitor took it all */
    return ctr_not_found(err, id);
  if (ctr_read_exit(ct->c, &ex, &no_exit) == 1 && ctr_monitor_pid(ct->c) == 0)
    status = strdup(ctr_runtime_has(ct->c) ? "stopped" : "gone");
  else if (container_runtime_status(ct, &status, NULL, err) < 0) {
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
    if (container_runtime_op(ct, force ? RT_OP_DELETE_FORCE : RT_OP_DELETE, err) < 0) {
      if (!force || ctr_runtime_has(ct->c))
        return oci_error_prefix(err, "delete '%s'", id);
      oci_error_free(err);
    }
  }
  /* The container is gone; its monitor finishes the log and exit.json
   * and exits.  One that doesn't (stuck, or we are forcing) is killed. */
  wait_monitor_gone(ct, force && live ? 3000 : MONITOR_EXIT_WAIT_MS);
  if (ct->before_remove && ct->before_remove(ct->c, err) < 0)
    return oci_error_prefix(err, "delete '%s'", id);
  return ctr_remove(ct->c, err);
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
  cleanup_container struct container l = {0};
  cleanup_error oci_error *e = NULL;
  if (container_open(root, id, CTR_LOCK_NONE, CONTAINER_ALLOW_INCOMPLETE, &l, &e) < 0)
    return 0; /* vanished meanwhile, or unreadable: not a user we can name */
  pid_t mon = ctr_monitor_pid(l.c);
  if (l.incomplete) {
    cleanup_free char *mb = NULL;
    if (mon > 0 && ctr_pid_is_monitor_of(mon, l.c->dirfd, &mb)) {
      /* the monitor was given the container's own bundle */
      cleanup_free char *src = mb ? own_bundle_source(mb) : NULL;
      return same_dir(src ? src : mb, bundle_abs);
    }
    /* Being created and no monitor yet: its bundle is not known.  Saying
     * yes would make every umount fail while any create runs; if this
     * create is on the bundle, its runtime create fails cleanly once the
     * rootfs is gone, and a created container's mounts are caught by
     * bundle_umount's own check of other mount namespaces. */
    return 0;
  }
  if (!same_dir(ctr_state_str(l.c, "bundle"), bundle_abs))
    return 0;
  /* Its monitor runs us, as the last step of a run (its --cleanup-arg,
   * `oci run IMAGE`): the container is gone, and waiting for that monitor
   * would wait for ourselves. */
  if (mon > 0 && mon == getppid())
    return 0;
  /* exited, its monitor finishing: umount waits for it (bounded) */
  if (mon > 0 && container_wait_cleanup(l.c, err) < 0)
    return -1;
  if (ctr_is_removed(l.c)) /* a run-mode monitor took it all */
    return 0;
  mon = ctr_monitor_pid(l.c);
  if (mon > 0)
    return 1;
  cleanup_free char *status = NULL;
  if (container_runtime_status(&l, &status, NULL, &e) < 0)
    return 1; /* cannot tell: safer to say it is used */
  return strcmp(status, "stopped") != 0 && strcmp(status, "gone") != 0;
}

struct bundle_user {
  const char *root, *bundle_abs;
  char *id; /* the first user found */
};

/* fs_dir_scan: stop (1) at the first live container on the bundle */
static int find_user(int rootfd, const struct dirent *de, void *data, oci_error **err)
{
  struct bundle_user *u = data;
  if (!container_id_is_valid(de->d_name))
    return 0;
  int r = check_user(u->root, de->d_name, u->bundle_abs, err);
  if (r <= 0)
    return r;
  if ((u->id = strdup(de->d_name)) == NULL)
    return oci_error_set(err, ENOMEM, "container ID");
  return 1;
}

int container_using_bundle(const char *root, const char *bundle_abs, char **ret_id, oci_error **err)
{
  *ret_id = NULL;
  cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return 0;
    return oci_error_set(err, errno, "state root '%s'", root);
  }
  struct bundle_user u = {.root = root, .bundle_abs = bundle_abs};
  int r = fs_dir_scan(fd, find_user, &u, err);
  if (r < 0)
    return oci_error_prefix(err, "state root '%s'", root);
  *ret_id = u.id;
  return r > 0 ? 1 : 0;
}

int container_destroy_orphan(const char *root, const char *id, char **ret_note, oci_error **err)
{
  *ret_note = NULL;
  if (!container_id_is_valid(id))
    return 0; /* the caller's open said what is wrong with it */
  /* the monitor was given ROOT canonical, and the cgroup's name hashes it */
  char canon[PATH_MAX];
  if (realpath(root, canon) == NULL)
    snprintf(canon, sizeof(canon), "%s", root);
  cleanup_free char *dir = NULL, *cg = own_bundle_cgroup_path(canon, id);
  if (asprintf(&dir, "%s/%s", canon, id) < 0 || cg == NULL)
    return oci_error_set(err, ENOMEM, "delete '%s'", id);
  struct stat st;
  if (lstat(dir, &st) == 0 || errno != ENOENT)
    return 0; /* there but not openable, or not ours to see (another user's
               * root): not an orphan, and nothing for us to end */
  pid_t mons[8];
  int n_mons = ctr_find_monitors(dir, mons, 8);
  /* the container first: a monitor that sees its exit ends by itself */
  struct cgroup_end_result r;
  cgroup_end(cg, &r);
  int children = 0;
  for (int i = 0; i < n_mons; i++)
    children += kill_children(mons[i]);
  for (int i = 0; i < n_mons; i++) {
    cleanup_close int pidfd = (int)pidfd_open(mons[i], 0);
    monitor_stop(pidfd, mons[i], 1000);
  }
  if (n_mons == 0 && r.removed == 0 && r.left == 0)
    return 0;
  if (asprintf(ret_note,
               "container '%s' had no state dir ('%s' was removed): ended %d monitor%s, "
               "killed %d process%s, removed %d cgroup dir%s of %s%s",
               id, dir, n_mons, n_mons == 1 ? "" : "s", r.killed + children,
               r.killed + children == 1 ? "" : "es", r.removed, r.removed == 1 ? "" : "s", cg,
               r.left ? " (some could not be removed: still populated)" : "") < 0)
    *ret_note = NULL;
  if (r.left)
    return oci_error_set(err, 0, "delete '%s': cgroup %s is still populated after SIGKILL", id, cg);
  return 1;
}
