/* SPDX-License-Identifier: Apache-2.0 */
/* `oci exec -u NAME[:GROUP]`: names looked up in the container's own
 * /etc/passwd and /etc/group, as `oci mount` does for the image's User
 * (runc takes numbers only: "parsing nobody as int for uid failed"). */
#include "exec-user.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fs.h"
#include "image-user.h"
#include "state-dir.h"

/* The container's rootfs as its own bundle names it (root.path, relative
 * to that bundle when not absolute): an fd, or -1 with *err. */
static int open_rootfs(const struct container *ct, oci_error **err)
{
  cleanup_free char *own = ctr_path(ct->c, OWN_BUNDLE_DIR);
  if (own == NULL)
    return oci_error_set(err, ENOMEM, "exec");
  json_auto_t *config = container_load_bundle_config(own, err);
  const char *path = json_string_value(json_object_get(json_object_get(config, "root"), "path"));
  if (path == NULL)
    return oci_error_set(err, 0, "exec in '%s': its config.json has no root.path", ct->c->id);
  cleanup_free char *abs = NULL;
  if (path[0] != '/' && asprintf(&abs, "%s/%s", own, path) < 0)
    return oci_error_set(err, ENOMEM, "exec");
  int fd = open(abs ? abs : path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return oci_error_set(err, errno, "exec in '%s': its rootfs '%s'", ct->c->id, abs ? abs : path);
  return fd;
}

struct rootfs_files {
  int etc; /* the rootfs's /etc, resolved inside it; -1 when it has none */
};

/* bundle_image_files over the rootfs: only /etc/passwd and /etc/group are
 * asked for; /etc is resolved inside the rootfs, the file itself is no
 * symlink (fs_read_file_at). */
static int rootfs_read(void *ctx, const char *path, size_t max, char **ret_data, size_t *ret_len,
                       oci_error **err)
{
  struct rootfs_files *f = ctx;
  if (f->etc < 0 || strncmp(path, "/etc/", 5) != 0 || strchr(path + 5, '/') != NULL)
    return 1;
  return fs_read_file_at(f->etc, path + 5, max, 0, ret_data, ret_len, err);
}

static int rootfs_is_file(void *ctx, const char *path, bool *ret, oci_error **err)
{
  cleanup_free char *data = NULL;
  size_t len;
  int r = rootfs_read(ctx, path, BUNDLE_IMAGE_FILE_MAX, &data, &len, err);
  *ret = r == 0;
  return r < 0 ? -1 : 0;
}

int exec_user_resolve(const struct container *ct, const char *user, char **ret_numeric,
                      oci_error **err)
{
  *ret_numeric = NULL;
  const char *colon = strchr(user, ':');
  cleanup_free char *name = strndup(user, colon ? (size_t)(colon - user) : strlen(user));
  uint32_t id;
  if (name == NULL)
    return oci_error_set(err, ENOMEM, "exec");
  if (bundle_parse_id(name, &id) && (colon == NULL || bundle_parse_id(colon + 1, &id)))
    return 0; /* numbers: the runtime's own business */
  cleanup_close int root = open_rootfs(ct, err);
  if (root < 0)
    return -1;
  struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  struct rootfs_files files = {.etc = (int)syscall(SYS_openat2, root, "etc", &how, sizeof(how))};
  struct bundle_image_files ops = {
      .ctx = &files, .read_file = rootfs_read, .is_file = rootfs_is_file};
  uint32_t uid, gid;
  int r = bundle_user_resolve(user, &ops, &uid, &gid, err);
  if (files.etc >= 0)
    close(files.etc);
  if (r < 0)
    return oci_error_prefix(err, "exec in '%s': -u '%s'", ct->c->id, user);
  if (asprintf(ret_numeric, "%u:%u", uid, gid) < 0) {
    *ret_numeric = NULL;
    return oci_error_set(err, ENOMEM, "exec");
  }
  return 0;
}
