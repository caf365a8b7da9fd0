/* SPDX-License-Identifier: Apache-2.0 */
#include "export-dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "export-tar.h"
#include "link-table.h"

#define MAX_DEPTH 512
#define MAX_XATTR_LIST (64u << 10)
#define COPY_CHUNK (1u << 20)

struct dwalk {
  struct bundle_tar tar;
  dev_t dev; /* the sandbox's file system */
  unsigned char *buf;
  struct bundle_link_table links;
  struct bundle_layer_result *res;
};

static int fail(const char *path, int errnum, const char *what, oci_error **err)
{
  return oci_error_set(err, errnum, "exporting '/%s': %s", path, what);
}

static int cmp_names(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory FD, sorted (a layer's order should not depend on
 * the file system's). */
static int list_dir(int fd, const char *path, char ***ret, size_t *ret_n, oci_error **err)
{
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  DIR *d = dup >= 0 ? fdopendir(dup) : NULL;
  if (d == NULL) {
    if (dup >= 0)
      close(dup);
    return fail(path, errno, "reading the directory", err);
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int r = 0;
  while ((errno = 0, e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 32;
      char **nn = realloc(names, cap * sizeof(*nn));
      if (nn == NULL) {
        r = oci_error_set(err, ENOMEM, "exporting");
        break;
      }
      names = nn;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) {
      r = oci_error_set(err, ENOMEM, "exporting");
      break;
    }
    n++;
  }
  if (r == 0 && errno != 0)
    r = fail(path, errno, "reading the directory", err);
  closedir(d);
  if (r < 0) {
    for (size_t i = 0; i < n; i++)
      free(names[i]);
    free(names);
    return -1;
  }
  if (n > 0)
    qsort(names, n, sizeof(*names), cmp_names);
  *ret = names;
  *ret_n = n;
  return 0;
}

/* A file's xattrs, owned. */
struct xlist {
  struct bundle_tar_xattr *x;
  size_t n;
  char *names;
};

static void xlist_clear(struct xlist *l)
{
  for (size_t i = 0; i < l->n; i++)
    free((void *)l->x[i].value);
  free(l->x);
  free(l->names);
  memset(l, 0, sizeof(*l));
}

/* FD's xattrs (none on a file system without them). */
static int read_xattrs(int fd, const char *path, struct xlist *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  ssize_t len = flistxattr(fd, NULL, 0);
  if (len <= 0)
    return 0;
  if ((size_t)len > MAX_XATTR_LIST)
    return fail(path, 0, "too many xattrs", err);
  ret->names = malloc((size_t)len);
  if (ret->names == NULL)
    return oci_error_set(err, ENOMEM, "exporting");
  len = flistxattr(fd, ret->names, (size_t)len);
  if (len < 0)
    return fail(path, errno, "listing xattrs", err);
  size_t count = 0;
  for (ssize_t i = 0; i < len; i += (ssize_t)strlen(ret->names + i) + 1)
    count++;
  ret->x = calloc(count ? count : 1, sizeof(*ret->x));
  if (ret->x == NULL)
    return oci_error_set(err, ENOMEM, "exporting");
  for (ssize_t i = 0; i < len; i += (ssize_t)strlen(ret->names + i) + 1) {
    ssize_t vlen = fgetxattr(fd, ret->names + i, NULL, 0);
    void *v = vlen >= 0 ? malloc((size_t)vlen + 1) : NULL;
    /* one gone meanwhile, or not ours to read (trusted.* for a user), is
     * left out: xattrs are kept where they can be */
    if (v == NULL || (vlen = fgetxattr(fd, ret->names + i, v, (size_t)vlen)) < 0) {
      free(v);
      continue;
    }
    ret->x[ret->n++] = (struct bundle_tar_xattr){ret->names + i, v, (size_t)vlen};
  }
  return 0;
}

static int emit(struct dwalk *w, struct bundle_tar_entry *e, const struct stat *st, oci_error **err)
{
  e->mode = st->st_mode & 07777;
  e->uid = st->st_uid;
  e->gid = st->st_gid;
  e->mtime = st->st_mtim.tv_sec;
  if (bundle_tar_header(&w->tar, e, err) < 0)
    return -1;
  w->res->entries++;
  return 0;
}

static int walk(struct dwalk *w, int fd, const char *path, int depth, oci_error **err);

static int file_entry(struct dwalk *w, int dirfd, const char *name, const char *path,
                      const struct stat *lst, oci_error **err)
{
  struct bundle_tar_entry e = {.name = path, .type = BUNDLE_TAR_FILE};
  if (lst->st_nlink > 1 &&
      bundle_link_table_first(&w->links, lst->st_dev, lst->st_ino, path, &e.linkname, err) < 0)
    return -1;
  if (e.linkname != NULL) {
    e.type = BUNDLE_TAR_HARDLINK;
    return emit(w, &e, lst, err);
  }
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return fail(path, errno, "open", err);
  if (st.st_ino != lst->st_ino || st.st_dev != lst->st_dev || !S_ISREG(st.st_mode))
    return fail(path, 0, "replaced while it was exported", err);
  struct xlist xl;
  int r = read_xattrs(fd, path, &xl, err);
  e.xattrs = xl.x;
  e.n_xattrs = xl.n;
  e.size = (uint64_t)st.st_size;
  if (r == 0)
    r = emit(w, &e, &st, err);
  for (uint64_t left = e.size; r == 0 && left > 0;) {
    ssize_t n = read(fd, w->buf, left < COPY_CHUNK ? (size_t)left : COPY_CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      r = fail(path, n < 0 ? errno : 0, n < 0 ? "read" : "it shrank while it was exported", err);
    else if ((r = bundle_tar_data(&w->tar, w->buf, (size_t)n, err)) == 0)
      left -= (uint64_t)n;
  }
  xlist_clear(&xl);
  return r;
}

static int dir_entry(struct dwalk *w, int dirfd, const char *name, const char *path, int depth,
                     oci_error **err)
{
  if (depth >= MAX_DEPTH)
    return fail(path, 0, "directories nested too deep", err);
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0)
    return fail(path, errno, "open", err);
  if (st.st_dev != w->dev)
    return fail(path, 0, "something is mounted there: unmount it, or export without it", err);
  struct xlist xl;
  int r = read_xattrs(fd, path, &xl, err);
  struct bundle_tar_entry e = {
      .name = path, .type = BUNDLE_TAR_DIR, .xattrs = xl.x, .n_xattrs = xl.n};
  if (r == 0)
    r = emit(w, &e, &st, err);
  xlist_clear(&xl);
  return r < 0 ? -1 : walk(w, fd, path, depth + 1, err);
}

static int entry(struct dwalk *w, int dirfd, const char *name, const char *dir, int depth,
                 oci_error **err)
{
  cleanup_free char *path = NULL;
  if (asprintf(&path, "%s%s%s", dir, dir[0] ? "/" : "", name) < 0)
    return oci_error_set(err, ENOMEM, "exporting");
  if (strncmp(name, ".wh.", 4) == 0)
    return fail(path, 0, "a name starting with '.wh.' has no place in an OCI layer", err);
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return fail(path, errno, "stat", err);
  struct bundle_tar_entry e = {.name = path};
  char target[PATH_MAX + 1];
  switch (st.st_mode & S_IFMT) {
  case S_IFDIR: return dir_entry(w, dirfd, name, path, depth, err);
  case S_IFREG: return file_entry(w, dirfd, name, path, &st, err);
  case S_IFLNK: {
    ssize_t n = readlinkat(dirfd, name, target, sizeof(target));
    if (n < 0 || (size_t)n >= sizeof(target))
      return fail(path, n < 0 ? errno : ENAMETOOLONG, "readlink", err);
    target[n] = '\0';
    e.type = BUNDLE_TAR_SYMLINK;
    e.linkname = target;
    return emit(w, &e, &st, err);
  }
  case S_IFCHR:
  case S_IFBLK:
    e.type = S_ISCHR(st.st_mode) ? BUNDLE_TAR_CHAR : BUNDLE_TAR_BLOCKDEV;
    e.devmajor = major(st.st_rdev);
    e.devminor = minor(st.st_rdev);
    return emit(w, &e, &st, err);
  case S_IFIFO: e.type = BUNDLE_TAR_FIFO; return emit(w, &e, &st, err);
  case S_IFSOCK: w->res->sockets_skipped++; return 0;
  default: return fail(path, 0, "unknown file type", err);
  }
}

static int walk(struct dwalk *w, int fd, const char *path, int depth, oci_error **err)
{
  char **names = NULL;
  size_t n = 0;
  if (list_dir(fd, path, &names, &n, err) < 0)
    return -1;
  int r = 0;
  for (size_t i = 0; i < n; i++) {
    if (r == 0)
      r = entry(w, fd, names[i], path, depth, err);
    free(names[i]);
  }
  free(names);
  return r;
}

int bundle_export_dir_layer(int dir_fd, int fd, int stop_fd, struct bundle_layer_result *ret,
                            oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  struct dwalk w = {.res = ret};
  struct stat st;
  int r = -1;
  if (fstat(dir_fd, &st) < 0) {
    oci_error_set(err, errno, "the sandbox directory");
    goto out;
  }
  w.dev = st.st_dev;
  w.buf = malloc(COPY_CHUNK);
  if (w.buf == NULL) {
    oci_error_set(err, ENOMEM, "exporting");
    goto out;
  }
  if (bundle_tar_init(&w.tar, fd, stop_fd, err) < 0 || walk(&w, dir_fd, "", 0, err) < 0 ||
      bundle_tar_finish(&w.tar, ret->digest_hex, &ret->size, err) < 0)
    goto out;
  r = 0;
out:
  bundle_tar_clear(&w.tar);
  bundle_link_table_clear(&w.links);
  free(w.buf);
  return r;
}
