/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `oci mount`: check everything about the image first (SIF, image config,
 * squashfs superblock, config.json generation) so that a bad image changes
 * nothing on the machine; then make the bundle step by step, recording
 * each step before taking it, and undo through the record on failure.
 */
#include "bundle.h"
#include "bundle-undo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "idmap.h"
#include "image-config.h"
#include "image-to-spec.h"
#include "loop.h"
#include "mount-fuse.h"
#include "mount-record.h"
#include "image-source.h"
#include "overlay-files.h"
#include "overlay-partition.h"
#include "sif.h"
#include "squashfs-image.h"
#include "squashfs-layers.h"
#include "userns-run.h"

/* Overlay mount options are one page and cannot quote ',' (option
 * separator), ':' (lowerdir separator) or '\' (escape). */
#define OVERLAY_OPTIONS_MAX 4000

struct mount_job {
  const char *image_arg;
  struct bundle_mount_options opts;
  struct bundle_image_source src;
  struct sif_image *img;               /* src.img */
  const struct sif_descriptor *rootfs; /* src.rootfs */
  struct bundle_sqfs *sq;              /* the top layer's */
  /* every layer's, bottom first (layer_sq[n_layers - 1] is sq) */
  struct bundle_sqfs *layer_sq[BUNDLE_LAYERS_MAX];
  struct bundle_layer_files layer_files; /* the image-files view of layer_sq */
  struct bundle_spec spec;
  struct bundle_path path;
  int parent_fd;
  int dirfd;
  struct bundle_loop loop;
  struct bundle_record rec;
  bool record_saved;
  enum bundle_method method;
  bool in_userns; /* extract as root of a user namespace (not root) */
  struct idmap map;
  struct bundle_extract_stats *stats; /* shared with the extracting child */
  struct bundle_fuse_tools fuse;
  struct bundle_spec_extra extra; /* what the spec options need made */
  /* the SIF's ext3 overlay partition (overlay-partition.h), or NULL */
  const struct sif_descriptor *sif_overlay;
};

static const char *const method_names[BUNDLE_METHOD_MAX] = {"auto", "kernel", "extract", "fuse"};

const char *bundle_method_name(enum bundle_method m)
{
  return m < BUNDLE_METHOD_MAX ? method_names[m] : NULL;
}

enum bundle_method bundle_method_from_name(const char *name)
{
  for (int i = 0; i < BUNDLE_METHOD_MAX; i++)
    if (strcmp(name, method_names[i]) == 0)
      return (enum bundle_method)i;
  return BUNDLE_METHOD_MAX;
}

static void job_clear(struct mount_job *job)
{
  if (job->stats != NULL)
    munmap(job->stats, sizeof(*job->stats));
  bundle_loop_put(&job->loop);
  bundle_record_clear(&job->rec);
  if (job->dirfd >= 0)
    close(job->dirfd);
  if (job->parent_fd >= 0)
    close(job->parent_fd);
  bundle_path_clear(&job->path);
  bundle_spec_clear(&job->spec);
  bundle_spec_extra_clear(&job->extra);
  for (size_t i = 0; i < job->src.n_layers; i++)
    bundle_sqfs_close(job->layer_sq[i]);
  bundle_image_source_clear(&job->src);
}

/* A multi-layer OCI-SIF: a loop and a mount (or a squashfuse) per layer,
 * or each extracted in turn. */
static bool multi_layer(const struct mount_job *job)
{
  return job->src.n_layers > 1;
}

static bool sif_writable(const struct mount_job *job)
{
  return job->opts.overlays != NULL && job->opts.overlays->sif_writable;
}

/* Everything that can be wrong with the image, before touching anything. */
static int check_image(struct mount_job *job, oci_error **err)
{
  if (bundle_image_source_open_for(job->image_arg, job->opts.platform, &job->src, err) < 0)
    return -1;
  struct bundle_image_files files;
  if (job->src.kind == BUNDLE_IMAGE_SANDBOX) {
    bundle_image_source_dir_files(&job->src, &files);
  } else {
    job->img = job->src.img;
    job->rootfs = job->src.rootfs;
    if (job->src.kind == BUNDLE_IMAGE_SIF && job->rootfs->datatype == SIF_DATA_PARTITION &&
        bundle_sif_overlay_find(job->img, job->rootfs, &job->sif_overlay, err) < 0)
      return -1;
    /* every layer's superblock is checked before anything is made */
    for (size_t i = 0; i < job->src.n_layers; i++) {
      const struct sif_descriptor *d = job->src.layers[i];
      char what[64];
      snprintf(what, sizeof(what), "layer %zu (object %u)", i, d->id);
      if (bundle_sqfs_open(job->img->fd, d->offset, d->size,
                           multi_layer(job) ? what : job->src.what, &job->layer_sq[i], err) < 0)
        return -1;
    }
    job->sq = job->layer_sq[job->src.n_layers - 1];
    if (multi_layer(job))
      bundle_layer_files(job->layer_sq, job->src.n_layers, &job->layer_files, &files);
    else
      bundle_sqfs_files(job->sq, &files);
  }
  if (sif_writable(job) && job->sif_overlay == NULL)
    return oci_error_set(err, 0,
                         "--writable: the image has no ext3 overlay partition (singularity "
                         "overlay create adds one)");
  if (bundle_spec_build(job->src.config, &files, job->path.abs, &job->spec, err) < 0)
    return -1;
  if (job->opts.args != NULL &&
      bundle_spec_set_args(&job->spec, job->opts.args, job->opts.n_args, err) < 0)
    return -1;
  if (job->opts.no_seccomp)
    json_object_del(json_object_get(job->spec.config, "linux"), "seccomp");
  if (job->opts.spec_options != NULL &&
      bundle_spec_options_apply(job->spec.config, job->opts.spec_options, job->path.abs,
                                &job->extra, err) < 0)
    return -1;
  return 0;
}

/* Can the fuse method serve this image here (tools, /dev/fuse, and as a
 * user: user xattrs for the upper directory, allow_other for an image that
 * does not run as root)?  Why not in *err. */
static int check_fuse(struct mount_job *job, oci_error **err)
{
  if (bundle_fuse_probe(&job->fuse, err) < 0)
    return -1;
  if (job->fuse.root)
    return 0;
  if (!bundle_fuse_xattrs_ok(job->path.parent))
    return oci_error_set(err, 0,
                         "--method fuse: the file system of '%s' takes no user xattrs, which "
                         "fuse-overlayfs needs without root to keep file owners",
                         job->path.parent);
  json_t *user = json_object_get(json_object_get(job->spec.config, "process"), "user");
  json_int_t uid = json_integer_value(json_object_get(user, "uid"));
  json_int_t gid = json_integer_value(json_object_get(user, "gid"));
  if (!job->fuse.allow_other && (uid != 0 || gid != 0))
    return oci_error_set(err, 0,
                         "--method fuse: the image runs as %lld:%lld, and a FUSE mount without "
                         "allow_other serves only the container's root (an administrator can "
                         "add user_allow_other to /etc/fuse.conf)",
                         (long long)uid, (long long)gid);
  return idmap_for_user(getuid(), getgid(), &job->map, err);
}

/* The method, and for extract as a non-root user the mapping, before
 * anything is made. */
static int choose_method(struct mount_job *job, oci_error **err)
{
  bool root = geteuid() == 0;
  job->method = job->opts.method;
  if (job->method == BUNDLE_METHOD_AUTO && !root) {
    cleanup_error oci_error *why = NULL;
    job->method = check_fuse(job, &why) == 0 ? BUNDLE_METHOD_FUSE : BUNDLE_METHOD_EXTRACT;
  } else if (job->method == BUNDLE_METHOD_AUTO) {
    job->method = BUNDLE_METHOD_KERNEL;
  } else if (job->method == BUNDLE_METHOD_FUSE && check_fuse(job, err) < 0) {
    return -1;
  }
  if (job->method == BUNDLE_METHOD_KERNEL && !root)
    return oci_error_set(err, 0,
                         "--method kernel needs root (loop devices and squashfs/overlay mounts); "
                         "--method fuse and --method extract work without");
  if (job->method != BUNDLE_METHOD_KERNEL &&
      bundle_overlays_check_method(job->opts.overlays, bundle_method_name(job->method), err) < 0)
    return -1;
  /* the kernel and fuse rootfs is nodev: the nodes runc makes in a /dev
   * without its tmpfs could not be opened, and runc stops at /dev/null */
  if (job->method != BUNDLE_METHOD_EXTRACT && job->opts.spec_options != NULL &&
      (job->opts.spec_options->no_mount & BUNDLE_NO_MOUNT_DEV))
    return oci_error_set_kind(err, OCI_ERR_USAGE, 0,
                              "--no-mount dev needs --method extract: the %s method's rootfs is "
                              "mounted nodev, where the runtime's device nodes cannot be opened",
                              bundle_method_name(job->method));
  if (job->src.kind == BUNDLE_IMAGE_SANDBOX && job->method != BUNDLE_METHOD_KERNEL)
    return oci_error_set(err, 0,
                         "a sandbox directory is mounted with --method kernel only (root); "
                         "--method %s does not take one yet",
                         bundle_method_name(job->method));
  if (job->method != BUNDLE_METHOD_EXTRACT)
    return 0;
  job->stats =
      mmap(NULL, sizeof(*job->stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (job->stats == MAP_FAILED) {
    job->stats = NULL;
    return oci_error_set(err, errno, "mmap");
  }
  memset(job->stats, 0, sizeof(*job->stats));
  if (root)
    return 0;
  job->in_userns = true;
  if (idmap_for_user(getuid(), getgid(), &job->map, err) < 0)
    return -1;
  if (idmap_has_subids(&job->map) && !idmap_helpers_found(NULL))
    return oci_error_set(err, 0,
                         "this user has subordinate IDs in /etc/subuid or /etc/subgid but "
                         "newuidmap/newgidmap are not installed (Debian: apt-get install uidmap)");
  return 0;
}

/* Is the absolute, canonical PATH DIR itself or below it? */
static bool path_within(const char *path, const char *dir)
{
  size_t n = strlen(dir);
  if (n == 1)
    return true; /* "/" */
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int check_bundle_path(const struct mount_job *job, const char *abs, oci_error **err)
{
  if (job->method == BUNDLE_METHOD_EXTRACT)
    return 0; /* no overlay options to carry it */
  if (strpbrk(abs, ",:\\\n") != NULL)
    return oci_error_set(err, 0,
                         "bundle path '%s' contains ',', ':', '\\' or a newline, which overlayfs "
                         "options cannot carry",
                         abs);
  if (strlen(abs) * 3 + 64 > OVERLAY_OPTIONS_MAX)
    return oci_error_set(err, 0, "bundle path '%s' is too long for overlayfs options", abs);
  if (job->src.kind == BUNDLE_IMAGE_SANDBOX &&
      (strpbrk(job->rec.image, ",:\\\n") != NULL || strlen(job->rec.image) > PATH_MAX / 2))
    return oci_error_set(err, 0,
                         "sandbox path '%s' contains ',', ':', '\\' or a newline, or is too "
                         "long, which overlayfs options cannot carry",
                         job->rec.image);
  if (job->src.kind == BUNDLE_IMAGE_SANDBOX &&
      (path_within(abs, job->rec.image) || path_within(job->rec.image, abs)))
    return oci_error_set(err, 0,
                         "the bundle '%s' and the sandbox overlap (one is inside the other); "
                         "overlayfs takes no upper dir inside its lower dir",
                         abs);
  return 0;
}

static int save(struct mount_job *job, oci_error **err);

/* A new bundle directory appears with its record already in it: made under
 * a temporary name in the parent, the first record written, then renamed
 * into place (never replacing).  So a mount killed at any moment leaves
 * either no bundle or one that `oci umount` recognizes.  Returns 1 when
 * BUNDLE already exists (the caller then uses it as it is). */
static int create_bundle_dir(struct mount_job *job, oci_error **err)
{
  char tmp[NAME_MAX + 1];
  if (snprintf(tmp, sizeof(tmp), BUNDLE_NEW_DIR_FORMAT, job->path.base, (long)getpid()) >=
      (int)sizeof(tmp))
    return oci_error_set(err, ENAMETOOLONG, "bundle '%s'", job->path.abs);
  /* what earlier mounts of this name, killed before their rename, left */
  bundle_sweep_new_dirs(job->parent_fd, job->path.base);
  if (mkdirat(job->parent_fd, tmp, 0700) < 0)
    return oci_error_set(err, errno, "bundle '%s': mkdir", job->path.abs);
  job->dirfd = openat(job->parent_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  job->rec.bundle_created = true;
  if (job->dirfd < 0 || fchmod(job->dirfd, 0700) < 0) {
    oci_error_set(err, errno, "bundle '%s'", job->path.abs);
    goto fail;
  }
  if (save(job, err) < 0) {
    oci_error_prefix(err, "bundle '%s'", job->path.abs);
    goto fail;
  }
  if (renameat2(job->parent_fd, tmp, job->parent_fd, job->path.base, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EEXIST) {
    oci_error_set(err, errno, "bundle '%s': rename into place", job->path.abs);
    goto fail;
  }
  /* It exists: give up the new one, use that one. */
  unlinkat(job->dirfd, BUNDLE_RECORD_NAME, 0);
  unlinkat(job->parent_fd, tmp, AT_REMOVEDIR);
  close(job->dirfd);
  job->dirfd = -1;
  job->record_saved = false;
  job->rec.bundle_created = false;
  return 1;
fail:
  if (job->dirfd >= 0) {
    unlinkat(job->dirfd, BUNDLE_RECORD_NAME, 0);
    close(job->dirfd);
    job->dirfd = -1;
  }
  unlinkat(job->parent_fd, tmp, AT_REMOVEDIR);
  job->record_saved = false;
  return -1;
}

/* Make (or take, when it exists and is empty) the bundle directory. */
static int open_bundle_dir(struct mount_job *job, oci_error **err)
{
  job->parent_fd = open(job->path.parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (job->parent_fd < 0)
    return oci_error_set(err, errno, "opening '%s'", job->path.parent);
  struct stat pst;
  int made =
      fstatat(job->parent_fd, job->path.base, &pst, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT
          ? create_bundle_dir(job, err)
          : 1;
  if (made < 0)
    return -1;
  if (made == 0)
    return 0;
  bool created = false;
  if (fs_mkdir_at(job->parent_fd, job->path.base, 0700, &created, err) < 0)
    return oci_error_prefix(err, "bundle '%s'", job->path.abs);
  job->rec.bundle_created = created;
  job->dirfd =
      openat(job->parent_fd, job->path.base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (job->dirfd < 0) {
    int e = errno;
    if (created)
      unlinkat(job->parent_fd, job->path.base, AT_REMOVEDIR);
    return oci_error_set(err, e, "bundle '%s'", job->path.abs);
  }
  if (created)
    return 0;
  bool empty = false;
  if (fs_dir_is_empty(job->dirfd, &empty, err) < 0)
    return oci_error_prefix(err, "bundle '%s'", job->path.abs);
  if (!empty && bundle_only_stale_record_tmp(job->dirfd)) {
    /* a mount killed while writing its first record into a directory that
     * was already there: that file is ours and nothing else happened */
    unlinkat(job->dirfd, BUNDLE_RECORD_TMP_NAME, 0);
    empty = true;
  }
  if (!empty) {
    bool ours = faccessat(job->dirfd, BUNDLE_RECORD_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
    return oci_error_set(err, 0, "bundle '%s' exists and is not empty%s", job->path.abs,
                         ours ? " (it is already mounted)" : "");
  }
  /* Whoever can write the bundle directory can swap what umount will read
   * and delete. */
  struct stat st;
  if (fstat(job->dirfd, &st) < 0)
    return oci_error_set(err, errno, "bundle '%s'", job->path.abs);
  if (st.st_mode & 0022)
    return oci_error_set(err, 0,
                         "bundle '%s' is writable by group or others (make it 0700 or let oci "
                         "mount create it)",
                         job->path.abs);
  return 0;
}

static int save(struct mount_job *job, oci_error **err)
{
  if (bundle_record_save(job->dirfd, &job->rec, err) < 0)
    return -1;
  job->record_saved = true;
  return 0;
}

struct dir_spec {
  const char *name;
  mode_t mode;
};

/* overlay/upper becomes the container's "/": 0755, or non-root users in
 * the container could not even traverse it. */
static const struct dir_spec bundle_dirs[] = {
    {"rootfs", 0700},        {BUNDLE_IMAGE_DIR, 0700}, {"overlay", 0700},
    {"overlay/upper", 0755}, {"overlay/work", 0700},   {"volumes", 0700},
};

/* An extracted bundle: rootfs is the tree itself, no overlay. */
static const struct dir_spec extract_dirs[] = {
    {"rootfs", 0700},
    {"volumes", 0700},
};

static int add_mount(struct mount_job *job, const char *target, const char *type, oci_error **err);

/* A writable --overlay DIR holds the upper and work dirs instead. */
static bool dir_wanted(const struct mount_job *job, const char *name)
{
  if (multi_layer(job) && strcmp(name, BUNDLE_IMAGE_DIR) == 0)
    return false; /* its layers have .layers/N each */
  const struct bundle_overlays *o = job->opts.overlays;
  return o == NULL ||
         (o->upper_base == NULL && !o->sif_writable && bundle_overlays_upper_file(o) == NULL) ||
         strncmp(name, "overlay/", 8) != 0;
}

/* --writable-tmpfs: the upper and work dirs on a tmpfs of their own, made
 * right after BUNDLE/overlay */
static int mount_tmpfs_upper(struct mount_job *job, oci_error **err)
{
  if (add_mount(job, "overlay", "tmpfs", err) < 0)
    return -1;
  if (fs_mount_at("tmpfs", job->dirfd, "overlay", "tmpfs", MS_NODEV | MS_NOSUID, "mode=0700", err) <
      0)
    return oci_error_replace(err, "mounting a tmpfs on 'overlay'");
  return 0;
}

/* A multi-layer image's mount points, .layers/N, listed in the record
 * (saved by the caller) and made. */
static int add_layer_dirs(struct mount_job *job, oci_error **err)
{
  char name[32];
  if (bundle_record_add_created(&job->rec, BUNDLE_LAYERS_DIR, err) < 0)
    return -1;
  for (size_t i = 0; i < job->src.n_layers; i++) {
    snprintf(name, sizeof(name), "%s/%u", BUNDLE_LAYERS_DIR, (unsigned)i % 1000);
    if (bundle_record_add_created(&job->rec, name, err) < 0)
      return -1;
  }
  if (save(job, err) < 0 || fs_mkdir_at(job->dirfd, BUNDLE_LAYERS_DIR, 0700, NULL, err) < 0)
    return -1;
  for (size_t i = 0; i < job->src.n_layers; i++) {
    snprintf(name, sizeof(name), "%s/%u", BUNDLE_LAYERS_DIR, (unsigned)i % 1000);
    if (fs_mkdir_at(job->dirfd, name, 0700, NULL, err) < 0)
      return -1;
  }
  return 0;
}

static int make_dirs(struct mount_job *job, oci_error **err)
{
  bool extract = job->method == BUNDLE_METHOD_EXTRACT;
  const struct dir_spec *dirs = extract ? extract_dirs : bundle_dirs;
  size_t nfixed = extract ? sizeof(extract_dirs) / sizeof(extract_dirs[0])
                          : sizeof(bundle_dirs) / sizeof(bundle_dirs[0]);
  bool tmpfs = job->opts.overlays != NULL && job->opts.overlays->tmpfs_upper;
  /* Listed first, made second: the record may name more than exists. */
  for (size_t i = 0; i < nfixed; i++)
    if (dir_wanted(job, dirs[i].name) &&
        bundle_record_add_created(&job->rec, dirs[i].name, err) < 0)
      return -1;
  for (size_t i = 0; i < job->spec.n_volumes; i++) {
    char name[300];
    snprintf(name, sizeof(name), "volumes/%s", job->spec.volume_dirs[i]);
    if (bundle_record_add_created(&job->rec, name, err) < 0)
      return -1;
  }
  if (job->extra.resolv_conf != NULL &&
      bundle_record_add_created(&job->rec, BUNDLE_RESOLV_CONF, err) < 0)
    return -1;
  if (multi_layer(job) && job->method != BUNDLE_METHOD_EXTRACT && add_layer_dirs(job, err) < 0)
    return -1;
  bool sif_overlay = job->sif_overlay != NULL && job->method == BUNDLE_METHOD_KERNEL;
  if (bundle_record_add_created(&job->rec, "config.json", err) < 0 ||
      (sif_overlay && bundle_record_add_created(&job->rec, BUNDLE_SIF_OVERLAY_DIR, err) < 0) ||
      save(job, err) < 0)
    return -1;
  if (sif_overlay && fs_mkdir_at(job->dirfd, BUNDLE_SIF_OVERLAY_DIR, 0700, NULL, err) < 0)
    return -1;
  size_t nmade = 0;
  for (size_t i = 0; i < nfixed; i++) {
    if (!dir_wanted(job, dirs[i].name))
      continue;
    nmade++;
    if (fs_mkdir_at(job->dirfd, dirs[i].name, dirs[i].mode, NULL, err) < 0)
      return -1;
    if (tmpfs && strcmp(dirs[i].name, "overlay") == 0 && mount_tmpfs_upper(job, err) < 0)
      return -1;
  }
  for (size_t i = 0; i < job->spec.n_volumes; i++)
    if (fs_mkdir_at(job->dirfd, job->rec.created[nmade + i], 0755, NULL, err) < 0)
      return -1;
  return 0;
}

static int add_mount(struct mount_job *job, const char *target, const char *type, oci_error **err)
{
  struct bundle_record_mount *m = &job->rec.mounts[job->rec.n_mounts++];
  snprintf(m->target, sizeof(m->target), "%s", target);
  snprintf(m->type, sizeof(m->type), "%s", type);
  return save(job, err);
}

/* Mount layer D (the image's only one: on .image; else on .layers/I) from
 * a read-only loop device over its window of the image.  The image fd is
 * locked from the loop lookup to the mount, so that two concurrent mounts
 * of one image share a device instead of each binding its own. */
static int mount_layer(struct mount_job *job, size_t i, oci_error **err)
{
  const struct sif_descriptor *d = job->src.layers[i];
  char target[16];
  if (multi_layer(job))
    snprintf(target, sizeof(target), "%s/%u", BUNDLE_LAYERS_DIR, (unsigned)i % 1000);
  else
    snprintf(target, sizeof(target), "%s", BUNDLE_IMAGE_DIR);
  if (flock(job->img->fd, LOCK_EX) < 0)
    return oci_error_set(err, errno, "locking the image");
  struct bundle_loop_target t = {job->img->dev, job->img->ino, (uint64_t)d->offset,
                                 (uint64_t)d->size};
  if (bundle_loop_get(job->img->fd, job->rec.image, &t, &job->loop, err) < 0)
    return -1;
  if (multi_layer(job)) {
    struct bundle_record_loop *l = &job->rec.layer_loops[job->rec.n_layer_loops++];
    snprintf(l->device, sizeof(l->device), "%s", job->loop.path);
    l->rdev = job->loop.rdev;
    l->attached = job->loop.attached;
    l->offset = t.offset;
    l->size = t.size;
  } else {
    job->rec.has_loop = true;
    snprintf(job->rec.loop_device, sizeof(job->rec.loop_device), "%s", job->loop.path);
    job->rec.loop_rdev = job->loop.rdev;
    job->rec.loop_attached = job->loop.attached;
  }
  if (add_mount(job, target, "squashfs", err) < 0)
    return -1;
  if (fs_mount_at(job->loop.path, job->dirfd, target, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID,
                  NULL, err) < 0)
    return oci_error_replace(err, "mounting the squashfs of %s from %s on '%s'",
                             multi_layer(job) ? "a layer" : "the image", job->loop.path, target);
  /* The mount holds the device now; autoclear frees it with the last one. */
  bundle_loop_put(&job->loop);
  flock(job->img->fd, LOCK_UN);
  return 0;
}

static int mount_squashfs(struct mount_job *job, oci_error **err)
{
  for (size_t i = 0; i < job->src.n_layers; i++)
    if (mount_layer(job, i, err) < 0)
      return -1;
  return 0;
}

/* The image's part of lowerdir, top first: a sandbox directory as it is,
 * the squashfs's mount, or each layer's. */
static int image_lowerdirs(const struct mount_job *job, char *buf, size_t size)
{
  if (job->src.kind == BUNDLE_IMAGE_SANDBOX)
    return snprintf(buf, size, "%s", job->rec.image);
  if (!multi_layer(job))
    return snprintf(buf, size, "%s/%s", job->path.abs, BUNDLE_IMAGE_DIR);
  size_t used = 0;
  for (size_t i = job->src.n_layers; i-- > 0;) {
    int n = snprintf(buf + used, size - used, "%s%s/%s/%zu", used ? ":" : "", job->path.abs,
                     BUNDLE_LAYERS_DIR, i);
    if (n < 0 || (size_t)n >= size - used)
      return -1;
    used += (size_t)n;
  }
  return (int)used;
}

/* lowerdir (the --overlay :ro layers first, the image last), upperdir and
 * workdir: the bundle's own, or a writable --overlay DIR's. */
static int overlay_options(const struct mount_job *job, char *opts, size_t size, oci_error **err)
{
  const char *b = job->path.abs;
  const struct bundle_overlays *ov = job->opts.overlays;
  size_t used = 0;
  int n = snprintf(opts, size, "lowerdir=");
  char layer[PATH_MAX];
  for (size_t i = 0; n >= 0 && ov != NULL && i < ov->n_lower; i++) {
    used += (size_t)n;
    n = bundle_overlays_lower_path(ov, i, b, layer, sizeof(layer)) < 0 ? -1
        : used < size ? snprintf(opts + used, size - used, "%s:", layer)
                      : -1;
  }
  const char *upper_base = ov != NULL && ov->upper_base != NULL ? ov->upper_base : NULL;
  char upper_buf[PATH_MAX];
  const struct bundle_overlay_file *upper_file = bundle_overlays_upper_file(ov);
  if (sif_writable(job)) {
    snprintf(upper_buf, sizeof(upper_buf), "%s/%s", b, BUNDLE_SIF_OVERLAY_DIR);
    upper_base = upper_buf;
  } else if (upper_file != NULL) {
    char mnt[32];
    bundle_overlays_file_mount((size_t)(upper_file - ov->files), mnt, sizeof(mnt));
    snprintf(upper_buf, sizeof(upper_buf), "%s/%s", b, mnt);
    upper_base = upper_buf;
  }
  if (n >= 0 && job->sif_overlay != NULL && !sif_writable(job)) {
    used += (size_t)n;
    n = used < size ? snprintf(opts + used, size - used, "%s/%s/upper:", b, BUNDLE_SIF_OVERLAY_DIR)
                    : -1;
  }
  char image[OVERLAY_OPTIONS_MAX + 1];
  int in = image_lowerdirs(job, image, sizeof(image));
  if (in < 0 || (size_t)in >= sizeof(image))
    n = -1;
  if (n >= 0) {
    used += (size_t)n;
    n = used >= size ? -1
        : upper_base != NULL
            ? snprintf(opts + used, size - used, "%s,upperdir=%s/upper,workdir=%s/work", image,
                       upper_base, upper_base)
            : snprintf(opts + used, size - used,
                       "%s,upperdir=%s/overlay/upper,workdir=%s/overlay/work", image, b, b);
  }
  if (n < 0 || used + (size_t)n >= size || used + (size_t)n > OVERLAY_OPTIONS_MAX)
    return oci_error_set(err, ENAMETOOLONG,
                         "overlay options (too many or too long --overlay paths)");
  return 0;
}

/* The SIF's overlay partition, read-only, from a loop device of its own
 * (shared and autoclear as the squashfs's; only the squashfs's is in the
 * record: this one is bound with LOOP_CONFIGURE, so it cannot outlive the
 * mount's hold, and a crash before the mount leaves nothing to release). */
static int mount_sif_overlay(struct mount_job *job, oci_error **err)
{
  if (job->sif_overlay == NULL)
    return 0;
  const struct sif_descriptor *d = job->sif_overlay;
  bool rw = sif_writable(job);
  cleanup_close int rwfd = -1;
  if (rw) {
    rwfd = open(job->rec.image, O_RDWR | O_CLOEXEC | O_NOCTTY);
    struct stat st;
    if (rwfd < 0)
      return oci_error_set(err, errno, "--writable: the image cannot be opened for writing");
    if (fstat(rwfd, &st) < 0 || st.st_dev != job->img->dev || st.st_ino != job->img->ino)
      return oci_error_set(err, 0, "--writable: the image file was replaced");
  }
  if (flock(job->img->fd, LOCK_EX) < 0)
    return oci_error_set(err, errno, "locking the image");
  struct bundle_loop loop = {.fd = -1};
  struct bundle_loop_target t = {job->img->dev, job->img->ino, (uint64_t)d->offset,
                                 (uint64_t)d->size, rw};
  /* under the image's lock: a read-write partition has one user, and no
   * read-only reader beside it (it would see a file system in flux) */
  int r = bundle_loop_maps(&t, !rw)
              ? oci_error_set(err, 0,
                              "%soverlay partition %u is in use by another bundle%s (umount that "
                              "one first)",
                              rw ? "--writable: " : "", d->id, rw ? "" : " with --writable")
              : bundle_loop_get(rw ? rwfd : job->img->fd, job->rec.image, &t, &loop, err);
  if (r == 0 && rw)
    r = bundle_sif_overlay_fsck(loop.path, d->id, err);
  if (r == 0 && (r = add_mount(job, BUNDLE_SIF_OVERLAY_DIR, "ext3", err)) == 0 &&
      (r = fs_mount_at(loop.path, job->dirfd, BUNDLE_SIF_OVERLAY_DIR, "ext3",
                       (rw ? 0 : MS_RDONLY) | MS_NODEV | MS_NOSUID, NULL, err)) < 0)
    oci_error_replace(err, "mounting overlay partition %u (ext3) from %s on '%s'", d->id, loop.path,
                      BUNDLE_SIF_OVERLAY_DIR);
  bundle_loop_put(&loop);
  flock(job->img->fd, LOCK_UN);
  if (r < 0)
    return -1;
  struct stat st;
  if (fstatat(job->dirfd, BUNDLE_SIF_OVERLAY_DIR "/upper", &st, AT_SYMLINK_NOFOLLOW) < 0 ||
      !S_ISDIR(st.st_mode))
    return oci_error_set(err, 0, "overlay partition %u has no upper/ directory", d->id);
  bool created;
  if (rw && fs_mkdir_at(job->dirfd, BUNDLE_SIF_OVERLAY_DIR "/work", 0700, &created, err) < 0)
    return oci_error_prefix(err, "overlay partition %u", d->id);
  return 0;
}

static int mount_overlay(struct mount_job *job, oci_error **err)
{
  char opts[OVERLAY_OPTIONS_MAX + 96];
  if (overlay_options(job, opts, sizeof(opts), err) < 0)
    return -1;
  if (job->opts.overlays != NULL && bundle_overlays_prepare_upper(job->opts.overlays, err) < 0)
    return -1;
  if (add_mount(job, "rootfs", "overlay", err) < 0)
    return -1;
  /* nosuid here too: the squashfs's own nosuid does not reach through the
   * overlay, exec checks the mount the file was opened from. */
  if (fs_mount_at("overlay", job->dirfd, "rootfs", "overlay", MS_NODEV | MS_NOSUID, opts, err) < 0)
    return oci_error_replace(err, "mounting the overlay on 'rootfs'%s",
                             oci_error_errnum(err ? *err : NULL) == EINVAL
                                 ? " (can the bundle's file system hold an overlayfs upper "
                                   "directory?)"
                             : oci_error_errnum(err ? *err : NULL) == EBUSY
                                 ? " (is the --overlay directory in use by another bundle?)"
                                 : "");
  return 0;
}

static int mount_fuse(struct mount_job *job, oci_error **err)
{
  uint64_t offsets[BUNDLE_LAYERS_MAX];
  for (size_t i = 0; i < job->src.n_layers; i++)
    offsets[i] = (uint64_t)job->src.layers[i]->offset;
  struct bundle_fuse_mount_args a = {
      .tools = &job->fuse,
      .image_fd = job->img->fd,
      .offsets = offsets,
      .n_layers = job->src.n_layers,
      .dirfd = job->dirfd,
      .bundle_abs = job->path.abs,
      .map = job->fuse.root ? NULL : &job->map,
      .allow_other = job->fuse.allow_other,
      .rec = &job->rec,
  };
  if (job->opts.ret_fuse_owner_only)
    *job->opts.ret_fuse_owner_only =
        !job->fuse.allow_other && !job->fuse.root && idmap_has_subids(&job->map);
  /* --overlay DIR[:ro] (check_method let only directories through) */
  const struct bundle_overlays *ov = job->opts.overlays;
  char lowers[OVERLAY_OPTIONS_MAX];
  size_t used = 0;
  lowers[0] = '\0';
  for (size_t i = 0; ov != NULL && i < ov->n_lower; i++) {
    int n = snprintf(lowers + used, sizeof(lowers) - used, "%s:", ov->lower_dirs[i]);
    if (n < 0 || (used += (size_t)n) >= sizeof(lowers))
      return oci_error_set(err, ENAMETOOLONG, "fuse-overlayfs options (too many --overlay paths)");
  }
  a.lower_prefix = lowers;
  a.upper_base = ov != NULL ? ov->upper_base : NULL;
  if (a.upper_base != NULL && a.map != NULL && !bundle_fuse_xattrs_ok(a.upper_base))
    return oci_error_set(err, 0,
                         "--overlay '%s': its file system takes no user xattrs, which "
                         "fuse-overlayfs needs without root to keep file owners",
                         a.upper_base);
  if (ov != NULL && bundle_overlays_prepare_upper(ov, err) < 0)
    return -1;
  return bundle_fuse_mount(&a, err);
}

static int write_config(struct mount_job *job, oci_error **err)
{
  cleanup_free char *text = json_dumps(job->spec.config, JSON_INDENT(2));
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "config.json");
  size_t len = strlen(text);
  char *withnl = realloc(text, len + 2);
  if (withnl == NULL)
    return oci_error_set(err, ENOMEM, "config.json");
  text = withnl;
  text[len++] = '\n';
  text[len] = '\0';
  return fs_write_file_at(job->dirfd, "config.json", text, len, 0600, FS_WRITE_EXCLUSIVE, err);
}

static int extract_in_ns(void *data, oci_error **err)
{
  struct mount_job *job = data;
  return bundle_sqfs_extract_layers(job->layer_sq, job->src.n_layers, job->dirfd, "rootfs",
                                    job->stats, job->opts.progress, job->opts.progress_data, err);
}

static int extract_rootfs(struct mount_job *job, oci_error **err)
{
  if (bundle_userns_run(job->in_userns ? &job->map : NULL, extract_in_ns, job, err) < 0)
    return oci_error_prefix(err, "extracting the image into 'rootfs'");
  if (job->opts.ret_stats)
    *job->opts.ret_stats = *job->stats;
  return 0;
}

static int build(struct mount_job *job, oci_error **err)
{
  if (make_dirs(job, err) < 0)
    return -1;
  if (job->method == BUNDLE_METHOD_EXTRACT ? extract_rootfs(job, err) < 0
      : job->method == BUNDLE_METHOD_FUSE
          ? mount_fuse(job, err) < 0
          : (job->src.kind != BUNDLE_IMAGE_SANDBOX && mount_squashfs(job, err) < 0) ||
                mount_sif_overlay(job, err) < 0 ||
                bundle_overlay_files_mount(job->opts.overlays, job->dirfd, &job->rec, err) < 0 ||
                mount_overlay(job, err) < 0)
    return -1;
  if (write_config(job, err) < 0 || bundle_spec_extra_make(&job->extra, job->dirfd, err) < 0)
    return -1;
  job->rec.state = BUNDLE_RECORD_MOUNTED;
  return save(job, err);
}

/* Undo after a failure, keeping the first error and telling the user how
 * to finish the job if undoing fails too. */
static void rollback(struct mount_job *job, oci_error **err)
{
  bundle_loop_put(&job->loop);
  oci_error *undo_err = NULL;
  bool kept = false;
  if (job->record_saved) {
    if (bundle_undo(job->parent_fd, job->path.base, job->dirfd, &job->rec, &kept, &undo_err) == 0)
      return;
  } else {
    if (!job->rec.bundle_created || unlinkat(job->parent_fd, job->path.base, AT_REMOVEDIR) == 0)
      return;
    oci_error_set(&undo_err, errno, "removing '%s'", job->path.abs);
  }
  cleanup_free char *text = oci_error_format(undo_err);
  oci_error_free(&undo_err);
  if (err != NULL && *err != NULL) {
    cleanup_free char *first = oci_error_format(*err);
    oci_error_free(err);
    oci_error_set(err, 0, "%s (and undoing failed: %s; run 'oci umount %s')", first ? first : "?",
                  text ? text : "?", job->path.abs);
  }
}

int bundle_mount(const char *image_path, const char *bundle_path,
                 const struct bundle_mount_options *opts, oci_error **err)
{
  struct mount_job job = {.image_arg = image_path,
                          .parent_fd = -1,
                          .dirfd = -1,
                          .loop = {.fd = -1},
                          .src = {.dir_fd = -1}};
  if (opts != NULL)
    job.opts = *opts;
  int r = -1;
  /* the method may depend on the image (its user) and the bundle's place */
  job.rec.image = realpath(image_path, NULL);
  if (job.rec.image == NULL) {
    oci_error_set(err, errno, "resolving the image path");
    goto out;
  }
  if (bundle_path_resolve(bundle_path, &job.path, err) < 0 || check_image(&job, err) < 0 ||
      choose_method(&job, err) < 0 || check_bundle_path(&job, job.path.abs, err) < 0)
    goto out;
  if (job.opts.ret_method)
    *job.opts.ret_method = job.method;
  job.rec.extracted = job.method == BUNDLE_METHOD_EXTRACT;
  job.rec.fuse = job.method == BUNDLE_METHOD_FUSE;
  job.rec.state = BUNDLE_RECORD_MOUNTING;
  job.rec.bundle = strdup(job.path.abs);
  if (job.rec.bundle == NULL) {
    oci_error_set(err, errno ? errno : ENOMEM, "resolving paths");
    goto out;
  }
  if (bundle_spec_options_any(job.opts.spec_options))
    job.rec.options = json_incref(job.opts.spec_options->asked);
  if (bundle_overlays_any(job.opts.overlays) &&
      (job.rec.overlays = bundle_overlays_json(job.opts.overlays)) == NULL) {
    oci_error_set(err, ENOMEM, "mount record");
    goto out;
  }
  struct stat ist;
  if (fstat(job.src.kind == BUNDLE_IMAGE_SANDBOX ? job.src.dir_fd : job.img->fd, &ist) < 0) {
    oci_error_set(err, errno, "stat of the image");
    goto out;
  }
  job.rec.image_dev = ist.st_dev;
  job.rec.image_ino = ist.st_ino;
  job.rec.offset = job.rootfs ? (uint64_t)job.rootfs->offset : 0;
  job.rec.size = job.rootfs ? (uint64_t)job.rootfs->size : 0;
  if (open_bundle_dir(&job, err) < 0)
    goto out;
  if (build(&job, err) < 0) {
    rollback(&job, err);
    goto out;
  }
  r = 0;
out:
  job_clear(&job);
  return r;
}
