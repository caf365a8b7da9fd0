/* SPDX-License-Identifier: Apache-2.0 */
#include "loop.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

static void short_sleep(void)
{
  struct timespec ts = {0, 10 * 1000 * 1000};
  nanosleep(&ts, NULL);
}

static bool status_matches(const struct loop_info64 *info, const struct bundle_loop_target *t)
{
  return info->lo_device == (uint64_t)t->file_dev && info->lo_inode == (uint64_t)t->file_ino &&
         info->lo_offset == t->offset && info->lo_sizelimit == t->size;
}

/* Read a small decimal number from a sysfs file under dirfd. */
static bool read_sysfs_u64(int dirfd, const char *name, uint64_t *ret)
{
  char buf[32];
  cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  if (n <= 0)
    return false;
  buf[n] = '\0';
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 10);
  if (errno != 0 || end == buf)
    return false;
  *ret = v;
  return true;
}

/* Open /dev/loopN and keep it when it is read-only and maps TARGET.  The
 * open fd is itself a reference, so an autoclear device cannot vanish
 * between this check and the mount. */
static int try_reuse(int number, const struct bundle_loop_target *t, struct bundle_loop *ret)
{
  char path[32];
  snprintf(path, sizeof(path), "/dev/loop%d", number);
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return 0;
  struct loop_info64 info;
  struct stat st;
  if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0 || fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode))
    return 0;
  if (!status_matches(&info, t) || !(info.lo_flags & LO_FLAGS_READ_ONLY))
    return 0;
  ret->fd = steal_fd(&fd);
  memcpy(ret->path, path, sizeof(path));
  ret->rdev = st.st_rdev;
  ret->attached = false;
  return 1;
}

/* Bound devices have /sys/block/loopN/loop/; compare offset and size there
 * before opening anything, then confirm with LOOP_GET_STATUS64. */
static int find_shared(const struct bundle_loop_target *t, struct bundle_loop *ret)
{
  cleanup_dir DIR *d = opendir("/sys/block");
  if (d == NULL)
    return 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "loop", 4) != 0 || !isdigit((unsigned char)e->d_name[4]))
      continue;
    char *end = NULL;
    long n = strtol(e->d_name + 4, &end, 10);
    if (*end != '\0' || n < 0 || n > 1 << 20)
      continue;
    char sub[300];
    snprintf(sub, sizeof(sub), "%s/loop", e->d_name);
    cleanup_close int lfd = openat(dirfd(d), sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    uint64_t off, size, ro;
    if (lfd < 0 || !read_sysfs_u64(lfd, "offset", &off) ||
        !read_sysfs_u64(lfd, "sizelimit", &size) || off != t->offset || size != t->size)
      continue;
    snprintf(sub, sizeof(sub), "%s/ro", e->d_name);
    if (!read_sysfs_u64(dirfd(d), sub, &ro) || ro != 1)
      continue;
    if (try_reuse((int)n, t, ret))
      return 1;
  }
  return 0;
}

static void fill_info(struct loop_info64 *info, const char *name,
                      const struct bundle_loop_target *t)
{
  memset(info, 0, sizeof(*info));
  info->lo_offset = t->offset;
  info->lo_sizelimit = t->size;
  info->lo_flags = t->writable ? LO_FLAGS_AUTOCLEAR : LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
  snprintf((char *)info->lo_file_name, sizeof(info->lo_file_name), "%s", name);
}

/* Kernels before 5.8 have no LOOP_CONFIGURE: bind, then set the window and
 * autoclear.  Returns 0, -EBUSY (lost a race, try another device) or
 * -errno. */
static int attach_legacy(int fd, int backing_fd, const char *name,
                         const struct bundle_loop_target *t)
{
  if (ioctl(fd, LOOP_SET_FD, backing_fd) < 0)
    return -errno;
  struct loop_info64 info;
  fill_info(&info, name, t);
  info.lo_flags = LO_FLAGS_AUTOCLEAR; /* read-only follows from the fds */
  int r = 0;
  for (int i = 0; i < BUNDLE_LOOP_ATTEMPTS; i++) {
    r = ioctl(fd, LOOP_SET_STATUS64, &info) < 0 ? -errno : 0;
    if (r != -EAGAIN)
      break;
    short_sleep();
  }
  if (r < 0) {
    ioctl(fd, LOOP_CLR_FD, 0);
    return r == -EBUSY ? -EIO : r;
  }
  return 0;
}

static int attach_free(int backing_fd, const char *name, const struct bundle_loop_target *t,
                       struct bundle_loop *ret, oci_error **err)
{
  cleanup_close int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0)
    return oci_error_set(err, errno, "opening /dev/loop-control");
  bool legacy = false;
  for (int attempt = 0; attempt < BUNDLE_LOOP_ATTEMPTS; attempt++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0)
      return oci_error_set(err, errno, "finding a free loop device");
    char path[32];
    snprintf(path, sizeof(path), "/dev/loop%d", n);
    /* O_RDONLY on both the device and the backing file: the kernel then
     * makes the device read-only whatever the flags say. */
    cleanup_close int fd = open(path, (t->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY);
    if (fd < 0 && errno == ENOENT) {
      short_sleep(); /* devtmpfs may not have made the node yet */
      continue;
    }
    if (fd < 0)
      return oci_error_set(err, errno, "opening %s", path);
    int r = 0;
    if (!legacy) {
      struct loop_config cfg;
      memset(&cfg, 0, sizeof(cfg));
      cfg.fd = (uint32_t)backing_fd;
      fill_info(&cfg.info, name, t);
      r = ioctl(fd, LOOP_CONFIGURE, &cfg) < 0 ? -errno : 0;
      if (r == -EINVAL || r == -ENOTTY)
        legacy = true;
    }
    if (legacy)
      r = attach_legacy(fd, backing_fd, name, t);
    if (r == -EBUSY)
      continue; /* someone bound it between GET_FREE and now */
    if (r < 0)
      return oci_error_set(err, -r, "binding %s to the image", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
      return oci_error_set(err, errno, "stat %s", path);
    ret->fd = steal_fd(&fd);
    memcpy(ret->path, path, sizeof(path));
    ret->rdev = st.st_rdev;
    ret->attached = true;
    return 0;
  }
  return oci_error_set(err, EBUSY, "no free loop device after %d attempts", BUNDLE_LOOP_ATTEMPTS);
}

int bundle_loop_get(int backing_fd, const char *name, const struct bundle_loop_target *target,
                    struct bundle_loop *ret, oci_error **err)
{
  memset(ret, 0, sizeof(*ret));
  ret->fd = -1;
  if (!target->writable && find_shared(target, ret))
    return 0;
  return attach_free(backing_fd, name, target, ret, err);
}

bool bundle_loop_maps(const struct bundle_loop_target *target, bool writable_only)
{
  cleanup_dir DIR *d = opendir("/sys/block");
  if (d == NULL)
    return false;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (strncmp(e->d_name, "loop", 4) != 0 || !isdigit((unsigned char)e->d_name[4]))
      continue;
    char path[300];
    snprintf(path, sizeof(path), "/dev/%s", e->d_name);
    cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    struct loop_info64 info;
    if (fd >= 0 && ioctl(fd, LOOP_GET_STATUS64, &info) == 0 && status_matches(&info, target) &&
        (!writable_only || !(info.lo_flags & LO_FLAGS_READ_ONLY)))
      return true;
  }
  return false;
}

void bundle_loop_put(struct bundle_loop *loop)
{
  if (loop->fd >= 0)
    close(loop->fd);
  loop->fd = -1;
}

int bundle_loop_release(const char *path, dev_t rdev, const struct bundle_loop_target *target,
                        oci_error **err)
{
  cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return 0; /* no device node: nothing of ours to release */
  struct stat st;
  struct loop_info64 info;
  if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != rdev)
    return 0;
  if (ioctl(fd, LOOP_GET_STATUS64, &info) < 0)
    return 0; /* ENXIO: unbound, autoclear already did it */
  if (!status_matches(&info, target) || (info.lo_flags & LO_FLAGS_AUTOCLEAR))
    return 0;
  /* With other openers (a mount we do not know of) the kernel only arms
   * autoclear here, which is what we want too. */
  if (ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
    return oci_error_set(err, errno, "detaching %s", path);
  return 0;
}
