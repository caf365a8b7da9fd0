/* SPDX-License-Identifier: Apache-2.0 */
/* A container's own bundle, mounted from an image (ephemeral.h). */
#include "ephemeral.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd-create.h"
#include "container-id.h"
#include "fs.h"

int cli_ephemeral_check_image(const struct cli_context *ctx, const char *image, oci_error **err)
{
  struct stat st;
  if (stat(image, &st) < 0)
    return cli_usage_error(ctx, err,
                           "image '%s': %s (without --bundle the first argument is an image: a "
                           "SIF, a squashfs file or a sandbox directory)",
                           image, strerror(errno));
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return cli_usage_error(ctx, err, "image '%s' is neither a file nor a directory", image);
  return 0;
}

char *cli_ephemeral_id(const char *image)
{
  enum { NAME_MAX_LEN = 40 };
  const char *base = strrchr(image, '/');
  base = base && base[1] ? base + 1 : image;
  char name[NAME_MAX_LEN + 1];
  size_t n = 0;
  for (const char *p = base; *p && n < NAME_MAX_LEN; p++) {
    char ch = *p;
    bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (alnum || (n > 0 && (ch == '_' || ch == '-' || ch == '.')))
      name[n++] = ch;
  }
  name[n] = '\0';
  /* "busybox.sif" -> "busybox": the extension says nothing of the container */
  char *dot = strrchr(name, '.');
  if (dot != NULL && dot != name)
    *dot = '\0';
  uint32_t nonce = 0;
  if (getrandom(&nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
    nonce = (uint32_t)getpid() ^ (uint32_t)time(NULL);
  char *id = NULL;
  if (asprintf(&id, "%s-%08x", name[0] ? name : "oci", nonce) < 0)
    return NULL;
  if (!container_id_is_valid(id)) { /* cannot happen: the name keeps only valid characters */
    free(id);
    return NULL;
  }
  return id;
}

static int make_bundle(struct ctr *c, void *data, char **ret_bundle, char ***ret_monitor_cleanup,
                       oci_error **err)
{
  struct cli_ephemeral *e = data;
  cleanup_free char *path = ctr_path(c, CLI_EPHEMERAL_BUNDLE_DIR);
  if (path == NULL)
    return oci_error_set(err, ENOMEM, "bundle path");
  e->req.mopts.args = (const char *const *)e->args;
  e->req.mopts.n_args = e->n_args;
  if (cli_mount_request_mount(&e->req, e->image, path, err) < 0)
    return -1;
  /* the monitor's `oci umount` of it, at the end of a foreground run */
  char **argv = calloc(6, sizeof(char *));
  if (argv == NULL)
    return oci_error_set(err, ENOMEM, "cleanup command");
  const char *words[5] = {e->self_path, "--root", c->root, "umount", path};
  for (size_t i = 0; i < 5; i++)
    if ((argv[i] = strdup(words[i])) == NULL) {
      cleanup_strv_fn(&argv);
      return oci_error_set(err, ENOMEM, "cleanup command");
    }
  *ret_monitor_cleanup = argv;
  *ret_bundle = steal_ptr(&path);
  return 0;
}

/* Is anything still mounted in the bundle (its image or rootfs)? */
static bool bundle_has_mounts(int dirfd)
{
  static const char *const points[] = {"rootfs", BUNDLE_IMAGE_DIR};
  for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
    bool is_mount = false;
    long fstype;
    cleanup_error oci_error *e = NULL;
    if (fs_mount_state_at(dirfd, points[i], &is_mount, &fstype, NULL, &e) < 0 || is_mount)
      return true;
  }
  return false;
}

int cli_ephemeral_remove(const struct ctr *c, oci_error **err)
{
  struct stat st;
  if (fstatat(c->dirfd, CLI_EPHEMERAL_BUNDLE_DIR, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
    return 0; /* none made, or the monitor took it away */
  cleanup_free char *path = ctr_path(c, CLI_EPHEMERAL_BUNDLE_DIR);
  if (path == NULL)
    return oci_error_set(err, ENOMEM, "bundle path");
  struct bundle_umount_result res;
  cleanup_error oci_error *e = NULL;
  if (bundle_umount(path, &res, &e) == 0)
    return 0;
  /* A mount killed before its record was complete leaves what umount does
   * not know: with nothing mounted the state dir's removal takes it. */
  cleanup_close int dfd =
      openat(c->dirfd, CLI_EPHEMERAL_BUNDLE_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dfd >= 0 && !bundle_has_mounts(dfd))
    return 0;
  if (err != NULL)
    *err = steal_ptr(&e);
  return oci_error_prefix(err, "umount '%s'", path);
}

int cli_ephemeral_prepare(const struct cli_context *ctx, struct cli_ephemeral *e, const char *image,
                          const char *id, struct container_create_opts *o, oci_error **err)
{
  if (cli_ephemeral_check_image(ctx, image, err) < 0 ||
      cli_mount_request_finish(ctx, &e->req, image, err) < 0)
    return -1;
  cli_create_context(ctx, o);
  if (id == NULL) {
    if ((e->id = cli_ephemeral_id(image)) == NULL)
      return oci_error_set(err, ENOMEM, "container ID");
    fprintf(stderr, "oci: container %s\n", e->id);
    id = e->id;
  }
  o->id = id;
  e->image = image;
  e->self_path = o->self_path;
  e->root = o->root;
  e->maker = (struct container_bundle_maker){
      .make = make_bundle,
      .remove = cli_ephemeral_remove,
      .data = e,
  };
  o->bundle = NULL;
  o->maker = &e->maker;
  return 0;
}

void cli_ephemeral_clear(struct cli_ephemeral *e)
{
  cli_mount_request_clear(&e->req);
  free(e->id);
  e->id = NULL;
}
