/* SPDX-License-Identifier: Apache-2.0 */
#include "export-layout.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "export-tar.h"
#include "fs.h"

#define LAYOUT_DIR "layout"
#define ARCHIVE_FILE "archive.tar"
#define OCI_LAYOUT "{\"imageLayoutVersion\":\"1.0.0\"}"
#define COPY_CHUNK (1u << 20)

static int check_dest(const char *dest, bool archive, oci_error **err)
{
  struct stat st;
  if (lstat(dest, &st) < 0) {
    if (errno == ENOENT)
      return 0;
    return oci_error_set(err, errno, "'%s'", dest);
  }
  if (archive)
    return oci_error_set(err, EEXIST, "'%s' is not overwritten", dest);
  if (!S_ISDIR(st.st_mode))
    return oci_error_set(err, 0, "'%s' exists and is not a directory", dest);
  cleanup_close int fd = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  bool empty = false;
  if (fd < 0)
    return oci_error_set(err, errno, "'%s'", dest);
  if (fs_dir_is_empty(fd, &empty, err) < 0)
    return oci_error_prefix(err, "'%s'", dest);
  if (!empty)
    return oci_error_set(
        err, 0, "'%s' is not empty: an image layout goes into a new or empty directory", dest);
  return 0;
}

/* DEST's directory (open) and name */
static int split_dest(struct bundle_layout *l, oci_error **err)
{
  cleanup_free char *a = strdup(l->dest), *b = strdup(l->dest);
  if (a == NULL || b == NULL)
    return oci_error_set(err, ENOMEM, "export");
  const char *dir = dirname(a), *base = basename(b);
  if (strcmp(base, "/") == 0 || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
    return oci_error_set(err, 0, "'%s' cannot be replaced: name a new directory or file", l->dest);
  l->parent_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (l->parent_fd < 0)
    return oci_error_set(err, errno, "'%s'", dir);
  l->dest_name = strdup(base);
  return l->dest_name ? 0 : oci_error_set(err, ENOMEM, "export");
}

static int open_dir_at(int dirfd, const char *name, int *ret, oci_error **err)
{
  if (fs_mkdir_at(dirfd, name, 0755, NULL, err) < 0)
    return -1;
  *ret = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  return *ret < 0 ? oci_error_set(err, errno, "opening '%s'", name) : 0;
}

int bundle_layout_begin(const char *dest, bool archive, int stop_fd, struct bundle_layout *ret,
                        oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  ret->stop_fd = stop_fd;
  ret->tmp_fd = ret->layout_fd = ret->blobs_fd = ret->parent_fd = -1;
  ret->archive = archive;
  size_t len = strlen(dest);
  while (len > 1 && dest[len - 1] == '/')
    len--;
  ret->dest = strndup(dest, len);
  if (ret->dest == NULL)
    return oci_error_set(err, ENOMEM, "export");
  if (check_dest(ret->dest, archive, err) < 0 || split_dest(ret, err) < 0)
    return -1;
  /* ".NAME.export-XXXXXX" beside DEST: hidden, and named after it */
  const char *slash = strrchr(ret->dest, '/');
  int dir_len = slash ? (int)(slash - ret->dest + 1) : 0;
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%.*s.%s.export-XXXXXX", dir_len, ret->dest, ret->dest_name) < 0)
    return oci_error_set(err, ENOMEM, "export");
  if (mkdtemp(path) == NULL)
    return oci_error_set(err, errno, "making a temporary directory beside '%s'", ret->dest);
  ret->tmp_path = steal_ptr(&path);
  ret->tmp_name = strdup(ret->tmp_path + dir_len);
  if (ret->tmp_name == NULL)
    return oci_error_set(err, ENOMEM, "export");
  ret->tmp_fd =
      openat(ret->parent_fd, ret->tmp_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (ret->tmp_fd < 0)
    return oci_error_set(err, errno, "opening '%s'", ret->tmp_path);
  int blobs = -1;
  if (open_dir_at(ret->tmp_fd, LAYOUT_DIR, &ret->layout_fd, err) < 0 ||
      open_dir_at(ret->layout_fd, "blobs", &blobs, err) < 0)
    return oci_error_prefix(err, "'%s'", ret->tmp_path);
  int r = open_dir_at(blobs, "sha256", &ret->blobs_fd, err);
  close(blobs);
  return r < 0 ? oci_error_prefix(err, "'%s'", ret->tmp_path) : 0;
}

int bundle_layout_blob_open(struct bundle_layout *l, char ret_name[32], int *ret_fd,
                            oci_error **err)
{
  snprintf(ret_name, 32, ".blob-%u.tmp", l->seq++);
  *ret_fd =
      openat(l->blobs_fd, ret_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  return *ret_fd < 0 ? oci_error_set(err, errno, "creating a blob in '%s'", l->tmp_path) : 0;
}

int bundle_layout_commit(struct bundle_layout *l, const char *name, const char *hex,
                         oci_error **err)
{
  for (size_t i = 0; i < l->n_blobs; i++)
    if (strcmp(l->blobs[i], hex) == 0) /* the same content twice: one blob */
      return unlinkat(l->blobs_fd, name, 0) < 0 ? oci_error_set(err, errno, "blob %s", hex) : 0;
  char **b = realloc(l->blobs, (l->n_blobs + 1) * sizeof(*b));
  if (b == NULL)
    return oci_error_set(err, ENOMEM, "export");
  l->blobs = b;
  if ((b[l->n_blobs] = strdup(hex)) == NULL)
    return oci_error_set(err, ENOMEM, "export");
  l->n_blobs++;
  if (renameat(l->blobs_fd, name, l->blobs_fd, hex) < 0)
    return oci_error_set(err, errno, "blob %s", hex);
  return 0;
}

int bundle_layout_put_json(struct bundle_layout *l, json_t *j, const char *media_type, json_t **ret,
                           oci_error **err)
{
  cleanup_free char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "export");
  size_t len = strlen(text);
  struct sha256 s;
  uint8_t digest[SHA256_DIGEST_SIZE];
  char hex[SHA256_HEX_SIZE], name[32];
  sha256_init(&s);
  sha256_update(&s, text, len);
  sha256_final(&s, digest);
  sha256_hex(digest, hex);
  cleanup_close int fd = -1;
  if (bundle_layout_blob_open(l, name, &fd, err) < 0)
    return -1;
  if (fs_write_all(fd, text, len) < 0)
    return oci_error_set(err, errno, "writing blob %s", hex);
  if (bundle_layout_commit(l, name, hex, err) < 0)
    return -1;
  *ret = json_pack("{s:s, s:s+, s:I}", "mediaType", media_type, "digest", "sha256:", hex, "size",
                   (json_int_t)len);
  return *ret == NULL ? oci_error_set(err, ENOMEM, "export") : 0;
}

/* NAME under DIRFD as the tar member PATH, streamed. */
static int archive_file(struct bundle_tar *t, int dirfd, const char *name, const char *path,
                        void *buf, oci_error **err)
{
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return oci_error_set(err, errno, "archiving '%s'", path);
  struct bundle_tar_entry e = {
      .name = path, .type = BUNDLE_TAR_FILE, .mode = 0644, .size = (uint64_t)st.st_size};
  if (bundle_tar_header(t, &e, err) < 0)
    return -1;
  for (uint64_t left = e.size; left > 0;) {
    ssize_t n = read(fd, buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return oci_error_set(err, n < 0 ? errno : 0, "archiving '%s'%s", path,
                           n == 0 ? ": it shrank" : "");
    if (bundle_tar_data(t, buf, (size_t)n, err) < 0)
      return -1;
    left -= (uint64_t)n;
  }
  return 0;
}

static int archive_dir(struct bundle_tar *t, const char *path, oci_error **err)
{
  struct bundle_tar_entry e = {.name = path, .type = BUNDLE_TAR_DIR, .mode = 0755};
  return bundle_tar_header(t, &e, err);
}

static int write_archive(struct bundle_layout *l, oci_error **err)
{
  cleanup_close int fd =
      openat(l->tmp_fd, ARCHIVE_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0)
    return oci_error_set(err, errno, "creating the archive in '%s'", l->tmp_path);
  cleanup_free void *buf = malloc(COPY_CHUNK);
  struct bundle_tar t;
  int r = buf ? bundle_tar_init(&t, fd, l->stop_fd, err) : oci_error_set(err, ENOMEM, "export");
  if (r < 0)
    return -1;
  r = archive_file(&t, l->layout_fd, "oci-layout", "oci-layout", buf, err);
  if (r == 0)
    r = archive_file(&t, l->layout_fd, "index.json", "index.json", buf, err);
  if (r == 0)
    r = archive_dir(&t, "blobs", err);
  if (r == 0)
    r = archive_dir(&t, "blobs/sha256", err);
  for (size_t i = 0; r == 0 && i < l->n_blobs; i++) {
    char path[96];
    snprintf(path, sizeof(path), "blobs/sha256/%s", l->blobs[i]);
    r = archive_file(&t, l->blobs_fd, l->blobs[i], path, buf, err);
  }
  char hex[SHA256_HEX_SIZE];
  uint64_t size = 0;
  if (r == 0)
    r = bundle_tar_finish(&t, hex, &size, err);
  bundle_tar_clear(&t);
  return r;
}

int bundle_layout_finish(struct bundle_layout *l, json_t *index, oci_error **err)
{
  cleanup_free char *text = json_dumps(index, JSON_COMPACT | JSON_SORT_KEYS);
  if (text == NULL)
    return oci_error_set(err, ENOMEM, "export");
  if (fs_write_file_at(l->layout_fd, "index.json", text, strlen(text), 0644, FS_WRITE_EXCLUSIVE,
                       err) < 0 ||
      fs_write_file_at(l->layout_fd, "oci-layout", OCI_LAYOUT, strlen(OCI_LAYOUT), 0644,
                       FS_WRITE_EXCLUSIVE, err) < 0)
    return oci_error_prefix(err, "'%s'", l->tmp_path);
  if (l->archive) {
    if (write_archive(l, err) < 0)
      return -1;
    if (renameat2(l->tmp_fd, ARCHIVE_FILE, l->parent_fd, l->dest_name, RENAME_NOREPLACE) < 0)
      return oci_error_set(err, errno, "renaming the archive to '%s'", l->dest);
    return 0;
  }
  struct stat st;
  /* an empty DEST directory is replaced; a missing one must stay missing
   * until the rename, or someone else's would be taken over */
  bool replace = fstatat(l->parent_fd, l->dest_name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  unsigned flags = replace ? 0 : RENAME_NOREPLACE;
  if (fchmod(l->layout_fd, 0755) < 0 ||
      renameat2(l->tmp_fd, LAYOUT_DIR, l->parent_fd, l->dest_name, flags) < 0)
    return oci_error_set(err, errno, "renaming the layout to '%s'", l->dest);
  return 0;
}

void bundle_layout_clear(struct bundle_layout *l)
{
  if (l->tmp_name != NULL) {
    /* what is left of the temporary directory: all of it after a failure,
     * the blobs the archive holds after an archive */
    oci_error *e = NULL;
    if (fs_rm_rf_at(l->parent_fd, l->tmp_name, &e) < 0)
      oci_error_free(&e);
  }
  if (l->blobs_fd >= 0)
    close(l->blobs_fd);
  if (l->layout_fd >= 0)
    close(l->layout_fd);
  if (l->tmp_fd >= 0)
    close(l->tmp_fd);
  for (size_t i = 0; i < l->n_blobs; i++)
    free(l->blobs[i]);
  free(l->blobs);
  if (l->parent_fd >= 0)
    close(l->parent_fd);
  free(l->tmp_path);
  free(l->tmp_name);
  free(l->dest_name);
  free(l->dest);
  memset(l, 0, sizeof(*l));
  l->tmp_fd = l->layout_fd = l->blobs_fd = l->parent_fd = l->stop_fd = -1;
}
