/* SPDX-License-Identifier: Apache-2.0 */
/* Taking a bundle apart: `oci umount`, and mount's undo on failure. */
#include "bundle.h"
#include "bundle-undo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "idmap.h"
#include "loop.h"
#include "mount-fuse.h"
#include "mount-users.h"
#include "overlay-files.h"
#include "userns-run.h"

#define SQUASHFS_MAGIC_NUMBER 0x73717368L
#define OVERLAYFS_MAGIC_NUMBER 0x794c7630L
#define TMPFS_MAGIC_NUMBER 0x01021994L
#define EXT_MAGIC_NUMBER 0xEF53L

void bundle_path_clear(struct bundle_path *p)
{
  free(p->abs);
  free(p->parent);
  free(p->base);
  memset(p, 0, sizeof(*p));
}

int bundle_path_resolve(const char *path, struct bundle_path *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  if (path == NULL || *path == '\0')
    return oci_error_set(err, 0, "empty bundle path");
  cleanup_free char *full = realpath(path, NULL);
  if (full == NULL && errno != ENOENT)
    return oci_error_set(err, errno, "resolving the bundle path");
  cleanup_free char *copy = strdup(full ? full : path);
  if (copy == NULL)
    return oci_error_set(err, ENOMEM, "bundle path");
  size_t len = strlen(copy);
  while (len > 1 && copy[len - 1] == '/')
    copy[--len] = '\0';
  char *slash = strrchr(copy, '/');
  const char *base = slash ? slash + 1 : copy;
  if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return oci_error_set(err, 0, "the bundle path must end in a directory name");
  const char *parent = ".";
  if (slash == copy)
    parent = "/";
  else if (slash != NULL) {
    *slash = '\0';
    parent = copy;
  }
  cleanup_free char *parent_real = realpath(parent, NULL);
  if (parent_real == NULL)
    return oci_error_set(err, errno, "the bundle's parent directory '%s'", parent);
  ret->base = strdup(base);
  ret->parent = strdup(parent_real);
  if (ret->base == NULL || ret->parent == NULL ||
      asprintf(&ret->abs, "%s/%s", strcmp(parent_real, "/") == 0 ? "" : parent_real, base) < 0) {
    ret->abs = NULL;
    bundle_path_clear(ret);
    return oci_error_set(err, ENOMEM, "bundle path");
  }
  if (strlen(ret->abs) >= PATH_MAX / 2) {
    bundle_path_clear(ret);
    return oci_error_set(err, ENAMETOOLONG, "bundle path");
  }
  return 0;
}

static long expected_magic(const char *type)
{
  return strcmp(type, "squashfs") == 0 ? SQUASHFS_MAGIC_NUMBER
         : strcmp(type, "tmpfs") == 0  ? TMPFS_MAGIC_NUMBER
         : strcmp(type, "ext3") == 0   ? EXT_MAGIC_NUMBER
                                       : OVERLAYFS_MAGIC_NUMBER;
}

static int undo_mounts(int dirfd, const struct bundle_record *rec, oci_error **err)
{
  for (size_t i = rec->n_mounts; i-- > 0;) {
    const struct bundle_record_mount *m = &rec->mounts[i];
    if (bundle_fuse_is_type(m->type)) {
      if (bundle_fuse_unmount(dirfd, m, err) < 0)
        return -1;
      continue;
    }
    bool is_mount = false;
    long fstype = 0;
    dev_t dev = 0;
    if (fs_mount_state_at(dirfd, m->target, &is_mount, &fstype, &dev, err) < 0)
      return -1;
    if (!is_mount)
      continue; /* never mounted (crash before it) or already unmounted */
    if (fstype != expected_magic(m->type))
      return oci_error_set(err, 0, "'%s' holds a mount that is not the %s oci mount made",
                           m->target, m->type);
    /* A container has its own copy of the overlay in its mount namespace:
     * ours unmounts fine, but the files must stay. */
    if (strcmp(m->type, "overlay") == 0 && bundle_refuse_foreign_mount(dev, m->target, err) < 0)
      return -1;
    /* No MNT_DETACH: a busy mount means a container or some process still
     * uses the bundle.  Detaching would hide that, keep the loop device
     * alive unseen, and the removal below would delete overlay/upper under
     * a live container.  A crashed mount leaves no busy mounts behind, so
     * recovery never needs a lazy unmount either. */
    if (fs_umount_at(dirfd, m->target, err) < 0)
      return oci_error_replace(err, "unmounting '%s'%s", m->target,
                               oci_error_errnum(err ? *err : NULL) == EBUSY
                                   ? " (is a container or another process using the bundle?)"
                                   : "");
  }
  return 0;
}

/* An extracted rootfs has no mount to find busy: is a container running
 * in it? */
static int check_tree_unused(int dirfd, oci_error **err)
{
  struct stat st;
  if (fstatat(dirfd, "rootfs", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
    return 0;
  pid_t user = 0;
  if (bundle_find_root_user(st.st_dev, st.st_ino, &user, err) < 0)
    return -1;
  if (user > 0)
    return oci_error_set(err, 0,
                         "process %d runs with 'rootfs' as its root: is a container running from "
                         "this bundle?",
                         (int)user);
  return 0;
}

struct remove_job {
  int dirfd;
  const struct bundle_record *rec;
};

static int remove_created(void *data, oci_error **err)
{
  const struct remove_job *job = data;
  for (size_t i = job->rec->n_created; i-- > 0;) {
    /* a mount killed while writing a file leaves it under its temp name */
    char tmp[256];
    if (fs_tmp_name(job->rec->created[i], tmp, sizeof(tmp)) == 0)
      (void)unlinkat(job->dirfd, tmp, 0);
    if (fs_rm_rf_at(job->dirfd, job->rec->created[i], err) < 0)
      return -1;
  }
  return 0;
}

/* What mount made, newest first.  A non-root user's extracted tree (and
 * what its container wrote) belongs to IDs of the user namespace, so it is
 * removed from inside one with the same mapping. */
static int remove_all(int dirfd, const struct bundle_record *rec, oci_error **err)
{
  struct remove_job job = {dirfd, rec};
  if (!rec->extracted || geteuid() == 0)
    return remove_created(&job, err);
  struct idmap map;
  if (idmap_for_user(getuid(), getgid(), &map, err) < 0)
    return -1;
  return bundle_userns_run(&map, remove_created, &job, err);
}

int bundle_undo(int parent_fd, const char *base, int dirfd, const struct bundle_record *rec,
                bool *ret_kept, oci_error **err)
{
  *ret_kept = false;
  if (undo_mounts(dirfd, rec, err) < 0 || (rec->extracted && check_tree_unused(dirfd, err) < 0) ||
      bundle_overlay_files_unmount(dirfd, rec, err) < 0)
    return -1;
  if (rec->has_loop && rec->loop_attached) {
    struct bundle_loop_target t = {rec->image_dev, rec->image_ino, rec->offset, rec->size};
    if (bundle_loop_release(rec->loop_device, rec->loop_rdev, &t, err) < 0)
      return -1;
  }
  for (size_t i = rec->n_layer_loops; i-- > 0;) {
    const struct bundle_record_loop *l = &rec->layer_loops[i];
    struct bundle_loop_target t = {rec->image_dev, rec->image_ino, l->offset, l->size};
    if (l->attached && bundle_loop_release(l->device, l->rdev, &t, err) < 0)
      return oci_error_prefix(err, "layer %zu", i);
  }
  if (remove_all(dirfd, rec, err) < 0)
    return -1;
  /* a later record update cut short by a kill leaves its temp file */
  unlinkat(dirfd, BUNDLE_RECORD_TMP_NAME, 0);
  if (unlinkat(dirfd, BUNDLE_RECORD_NAME, 0) < 0 && errno != ENOENT)
    return oci_error_set(err, errno, "removing the mount record");
  if (!rec->bundle_created)
    return 0;
  if (unlinkat(parent_fd, base, AT_REMOVEDIR) < 0) {
    if (errno == ENOTEMPTY || errno == EEXIST)
      *ret_kept = true;
    else if (errno != ENOENT)
      return oci_error_set(err, errno, "removing the bundle directory");
  }
  return 0;
}

int bundle_umount(const char *bundle_path, struct bundle_umount_result *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  struct bundle_path p;
  if (bundle_path_resolve(bundle_path, &p, err) < 0)
    return -1;
  cleanup_close int parent_fd = open(p.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  cleanup_close int dirfd = -1;
  if (parent_fd >= 0) {
    bundle_sweep_new_dirs(parent_fd, p.base);
    dirfd = openat(parent_fd, p.base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (dirfd < 0) {
    int e = errno;
    bundle_path_clear(&p);
    if (e == ENOENT)
      return oci_error_set(err, 0, "no such directory (already unmounted?)");
    return oci_error_set(err, e, "opening the bundle");
  }
  struct bundle_record rec;
  int r = bundle_record_load(dirfd, &rec, err);
  if (r == 1 && bundle_only_stale_record_tmp(dirfd)) {
    /* A mount killed while writing its first record into a directory that
     * existed before: nothing was mounted; remove what it wrote. */
    unlinkat(dirfd, BUNDLE_RECORD_TMP_NAME, 0);
    bundle_path_clear(&p);
    ret->bundle_kept = true;
    return 0;
  }
  if (r == 1)
    oci_error_set(err, 0, "not made by oci mount (no mount record; already unmounted?)");
  if (r != 0) {
    bundle_path_clear(&p);
    return -1;
  }
  r = bundle_undo(parent_fd, p.base, dirfd, &rec, &ret->bundle_kept, err);
  bundle_record_clear(&rec);
  bundle_path_clear(&p);
  return r;
}
